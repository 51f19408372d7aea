"""`CpuSampler`: envs in worker processes, each stepping its envs with its own CPU agent copy."""

from __future__ import annotations

from typing import Any

from rlpyt.samplers.parallel.base import ParallelSamplerBase
from rlpyt.samplers.parallel.cpu.collectors import CpuEvalCollector, CpuResetCollector

__all__ = ["CpuSampler"]


class CpuSampler(ParallelSamplerBase):
    """Parallel sampler whose workers run the agent themselves, on shared-memory parameters.

    Each worker builds its envs, keeps a private CPU copy of the agent's model, and before
    every batch loads the parameters the master published with ``agent.sync_shared_memory()``
    (``agent.recv_shared_memory()``), then collects its ``[T, B_worker]`` slice of the shared
    samples buffer with one batched ``agent.step`` per time step. The runner uses it exactly
    like ``SerialSampler``; with the same seed and a deterministic agent both give identical
    samples. Good when the agent is cheap to run on CPU (small models); for large models
    batched on a GPU, see ``GpuSampler``.

    Recurrent agents keep the state of each worker's envs in that worker's agent copy (the
    master's agent never steps); :meth:`state_dict` gathers those states, joined in env order
    under ``agent_runtime_state``, together with each worker's RNG states, and
    :meth:`load_state_dict` puts them back, so runs resume bit-exactly from a snapshot.

    Args:
        CollectorCls: default ``CpuResetCollector`` (``CpuWaitResetCollector`` for recurrent
            agents).
        eval_CollectorCls: default ``CpuEvalCollector``.
        start_method: ``"fork"`` (default on Linux), ``"forkserver"`` or ``"spawn"``.
        *args, **kwargs: as :class:`~rlpyt.samplers.base.BaseSampler`.
    """

    def __init__(
        self,
        *args: Any,
        CollectorCls: type = CpuResetCollector,
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
