"""`AsyncGpuSampler`: workers step envs, the sampler process serves actions (GPU or CPU), for
the async runner."""

from __future__ import annotations

from typing import Any

from rlpyt.samplers.async_.base import AsyncParallelSamplerMixin
from rlpyt.samplers.async_.collectors import DbGpuResetCollector
from rlpyt.samplers.parallel.gpu.collectors import GpuEvalCollector
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler

__all__ = ["AsyncGpuSampler"]


class AsyncGpuSampler(AsyncParallelSamplerMixin, GpuSampler):
    """``GpuSampler`` run from the async runner's sampler process.

    The sampler process is the action server: its workers step the envs and it selects the
    actions of all ``batch_B`` envs with one batched ``agent.step`` per time step, on the
    sampler affinity's ``cuda_idx`` or, without one, on the CPU (the original rlpyt needed a
    GPU here). Its agent is a copy that loads the optimizer's newest parameters before each
    batch and evaluation.

    Args:
        CollectorCls: default ``DbGpuResetCollector`` (``DbGpuWaitResetCollector`` for
            recurrent agents).
        eval_CollectorCls: default ``GpuEvalCollector``.
        start_method: ``"fork"`` (default on Linux), ``"forkserver"`` or ``"spawn"``: for the
            sampler process and its workers.
        *args, **kwargs: as :class:`~rlpyt.samplers.base.BaseSampler`.
    """

    _master_acts = True

    def __init__(
        self,
        *args: Any,
        CollectorCls: type = DbGpuResetCollector,
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
