"""`AsyncAlternatingSampler`: two worker groups served in turn by the sampler process, for the
async runner."""

from __future__ import annotations

from typing import Any

from rlpyt.samplers.async_.base import AsyncParallelSamplerMixin
from rlpyt.samplers.async_.collectors import DbGpuResetCollector
from rlpyt.samplers.parallel.gpu.alternating_sampler import (
    AlternatingSampler,
    NoOverlapAlternatingSampler,
)
from rlpyt.samplers.parallel.gpu.collectors import GpuEvalCollector

__all__ = ["AsyncAlternatingSampler", "AsyncNoOverlapAlternatingSampler"]


class AsyncAlternatingSampler(AsyncParallelSamplerMixin, AlternatingSampler):
    """``AlternatingSampler`` run from the async runner's sampler process.

    As ``AsyncGpuSampler`` (the sampler process serves actions, on GPU or CPU, with a copy of
    the agent that loads the newest parameters before each batch), with the workers in two
    groups so that one group steps its envs while the other's actions are computed. Needs
    ``batch_B >= 2``; recurrent agents must be alternating ones.

    Args:
        CollectorCls: default ``DbGpuResetCollector``.
        eval_CollectorCls: default ``GpuEvalCollector``.
        start_method: ``"fork"`` (default on Linux), ``"forkserver"`` or ``"spawn"``.
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


class AsyncNoOverlapAlternatingSampler(AsyncAlternatingSampler):
    """``AsyncAlternatingSampler`` without the overlap (see ``NoOverlapAlternatingSampler``)."""

    overlap_groups = NoOverlapAlternatingSampler.overlap_groups
