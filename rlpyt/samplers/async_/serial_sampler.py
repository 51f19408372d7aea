"""`AsyncSerialSampler`: all envs and the acting agent in the async runner's sampler process."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

from rlpyt.samplers.async_.base import AsyncSamplerMixin
from rlpyt.samplers.async_.collectors import DbCpuResetCollector, select_buffer
from rlpyt.samplers.parallel.base import resolve_start_method
from rlpyt.samplers.serial.collectors import SerialEvalCollector
from rlpyt.samplers.serial.sampler import SerialSampler

__all__ = ["AsyncSerialSampler"]


class AsyncSerialSampler(AsyncSamplerMixin, SerialSampler):
    """``SerialSampler`` run in its own process, beside the optimizer (``AsyncRl``).

    The sampler process steps all ``batch_B`` envs with one batched ``agent.step`` per time
    step, as ``SerialSampler`` does, writing batch ``itr`` into half ``itr % 2`` of the double
    buffer; its agent is a copy that loads the optimizer's newest parameters before each batch
    and each evaluation. Evaluation (``AsyncRlEval``) runs there too, between batches.

    Args:
        CollectorCls: default ``DbCpuResetCollector`` (``DbCpuWaitResetCollector`` for
            recurrent agents).
        eval_CollectorCls: default ``SerialEvalCollector``.
        start_method: how the runner starts the sampler process: ``"fork"`` (default on
            Linux), ``"forkserver"`` or ``"spawn"``.
        *args, **kwargs: as :class:`~rlpyt.samplers.base.BaseSampler`.
    """

    def __init__(
        self,
        *args: Any,
        CollectorCls: type = DbCpuResetCollector,
        eval_CollectorCls: type = SerialEvalCollector,
        start_method: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            *args, CollectorCls=CollectorCls, eval_CollectorCls=eval_CollectorCls, **kwargs
        )
        self.start_method = resolve_start_method(start_method)
        self.ctx = mp.get_context(self.start_method)

    def initialize(self, affinity: dict[str, Any] | None = None) -> dict[str, Any]:  # type: ignore[override]
        """In the sampler process: build envs, collectors and the acting agent.

        ``SerialSampler.initialize`` builds the agent's model afresh (and a private buffer of
        one batch, unused); the agent keeps the ``shared_model`` it arrived with and loads it
        before the first batch.
        """
        affinity = dict(affinity or {})
        agent = self._acting_agent(self.agent)
        examples = super().initialize(
            agent=agent,
            affinity=affinity,
            seed=self.seed,
            bootstrap_value=self.bootstrap_value,
            traj_info_kwargs=self.traj_info_kwargs,
        )
        agent.to_device(affinity.get("cuda_idx"))
        self._params_seen = -1
        return examples

    def obtain_samples(self, itr: int, db_idx: int) -> list[Any]:  # type: ignore[override]
        """Collect batch ``itr`` into half ``db_idx`` of the double buffer; return the
        completed trajectories' infos."""
        self._pull_params()
        select_buffer(self.collector, self.double_buffer, db_idx)
        _, traj_infos = super().obtain_samples(itr)
        return traj_infos

    def evaluate_agent(self, itr: int) -> list[Any]:
        """One evaluation with the newest parameters; returns the finished infos."""
        self._pull_params()
        return super().evaluate_agent(itr)
