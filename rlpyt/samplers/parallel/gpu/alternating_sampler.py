"""Alternating GPU samplers: two worker groups, so one steps envs while the other is served."""

from __future__ import annotations

from typing import Any

from rlpyt.samplers.parallel.base import split_counts
from rlpyt.samplers.parallel.gpu.collectors import GpuEvalCollector, GpuResetCollector
from rlpyt.samplers.parallel.gpu.sampler import GpuSamplerBase

__all__ = ["AlternatingSampler", "AlternatingSamplerBase", "NoOverlapAlternatingSampler"]


class AlternatingSamplerBase(GpuSamplerBase):
    """GPU sampler with its workers in two groups, each holding half of the ``batch_B`` envs.

    The master serves the groups in turn, each with one ``agent.step`` on its half of the
    envs: while it selects actions for group 1, group 0 steps its envs, and the other way
    round, so env stepping and action selection overlap (worth it when both take similar
    time). Group 0 is workers ``0 .. n0 - 1`` with envs ``0 .. B0 - 1`` (``n0 = ceil(n / 2)``
    workers, ``B0 = ceil(B / 2)`` envs), group 1 the rest. Needs at least 2 envs; with a
    single worker CPU set, both groups' workers share it.

    A recurrent agent must be "alternating" (``agent.alternating = True``): it is stepped on
    the two halves in turn and has to keep each half's recurrent state (and take global env
    indexes in ``reset_one``). Feed-forward agents need nothing special and give the same
    samples as every other sampler. Evaluation runs as in ``GpuSampler`` (all eval envs in
    one batch).
    """

    alternating = True

    def initialize(self, agent: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """As :meth:`ParallelSamplerBase.initialize`.

        Raises:
            ValueError: for ``batch_B < 2``.
            TypeError: for a recurrent agent that is not alternating.
        """
        if self.batch_spec.B < 2:
            raise ValueError(f"{type(self).__name__} needs batch_B >= 2 (two halves)")
        if getattr(agent, "recurrent", False) and not getattr(agent, "alternating", False):
            raise TypeError(
                f"{type(self).__name__}: recurrent agent {type(agent).__name__} is not "
                f"alternating (it would mix the recurrent states of the two env halves)"
            )
        return super().initialize(agent, *args, **kwargs)

    def _workers_settings(self, affinity: dict[str, Any] | None) -> list[dict[str, Any]]:
        settings = super()._workers_settings(affinity)
        if len(settings) == 1:
            settings.append(dict(settings[0]))
        return settings

    def _split_envs(self, B: int, n_worker: int) -> list[int]:
        n0 = (n_worker + 1) // 2
        B0 = (B + 1) // 2
        return split_counts(B0, n0) + split_counts(B - B0, n_worker - n0)

    def _serving_groups(self) -> list[tuple[list[Any], slice]]:
        n0 = (len(self.workers) + 1) // 2
        B0 = sum(self._env_counts[:n0])
        return [
            (self.workers[:n0], slice(0, B0)),
            (self.workers[n0:], slice(B0, self.batch_spec.B)),
        ]


class AlternatingSampler(AlternatingSamplerBase):
    """Alternating sampler with overlap; see :class:`AlternatingSamplerBase`.

    Args:
        start_method: ``"fork"`` (default on Linux), ``"forkserver"`` or ``"spawn"``.
        *args, **kwargs: as :class:`~rlpyt.samplers.base.BaseSampler` (default collectors
            ``GpuResetCollector`` and ``GpuEvalCollector``).
    """

    overlap_groups = True

    def __init__(
        self,
        *args: Any,
        CollectorCls: type = GpuResetCollector,
        eval_CollectorCls: type = GpuEvalCollector,
        start_method: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            *args,
            CollectorCls=CollectorCls,
            eval_CollectorCls=eval_CollectorCls,
            start_method=start_method,
            **kwargs,
        )


class NoOverlapAlternatingSampler(AlternatingSampler):
    """The alternating sampler's process layout and agent calls (two half batches per step),
    without the overlap: the master waits for both groups, serves both halves, then releases
    all workers. For debugging and for measuring what the overlap gains."""

    overlap_groups = False
