"""`AsyncCpuSampler`: CPU-parallel sampling (worker processes, each with its agent copy) for
the async runner."""

from __future__ import annotations

from typing import Any

from rlpyt.samplers.async_.base import AsyncParallelSamplerMixin
from rlpyt.samplers.async_.collectors import DbCpuResetCollector
from rlpyt.samplers.parallel.cpu.collectors import CpuEvalCollector
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler

__all__ = ["AsyncCpuSampler"]


class AsyncCpuSampler(AsyncParallelSamplerMixin, CpuSampler):
    """``CpuSampler`` run from the async runner's sampler process.

    The sampler process starts the workers exactly as ``CpuSampler`` does (same env split,
    seeding, collectors, failure handling) and tells them, per batch, which half of the double
    buffer to write. Each worker acts with its own CPU copy of the agent and pulls the
    optimizer's newest parameters (under the read lock) before each batch and evaluation; the
    sampler process itself runs no model.

    Args:
        CollectorCls: default ``DbCpuResetCollector`` (``DbCpuWaitResetCollector`` for
            recurrent agents).
        eval_CollectorCls: default ``CpuEvalCollector``.
        start_method: ``"fork"`` (default on Linux), ``"forkserver"`` or ``"spawn"``: for the
            sampler process and its workers.
        *args, **kwargs: as :class:`~rlpyt.samplers.base.BaseSampler`.
    """

    _master_acts = False

    def __init__(
        self,
        *args: Any,
        CollectorCls: type = DbCpuResetCollector,
        eval_CollectorCls: type = CpuEvalCollector,
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
