"""`GpuSampler`: envs in worker processes, actions for all of them batched in the master."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rlpyt.samplers.parallel.base import ParallelSamplerBase
from rlpyt.samplers.parallel.gpu.action_server import ActionServer
from rlpyt.samplers.parallel.gpu.collectors import (
    GpuEvalCollector,
    GpuResetCollector,
    build_step_buffer,
)
from rlpyt.utils.buffer import torchify_buffer

__all__ = ["GpuSampler", "GpuSamplerBase"]


class GpuSamplerBase(ActionServer, ParallelSamplerBase):
    """Parallel sampler whose workers only step envs; the master runs the agent.

    Each time step, every worker writes its envs' agent inputs into a shared step buffer and
    signals its ``obs_ready`` semaphore; the master (:class:`ActionServer`) runs one batched
    ``agent.step`` for all ``batch_B`` envs, on whatever device the agent is on (the runner
    may move it to a GPU; the CPU works too), writes the actions back and signals each
    worker's ``act_ready``. Workers record samples with the same collector logic as the CPU
    sampler, so for the same seed and a deterministic agent the samples equal
    ``SerialSampler``'s. All waits are bounded (0.5 s) and followed by liveness checks, so a
    dead or failing worker raises ``WorkerError`` (see ``ParallelSamplerBase``).

    The agent is initialized in the master with ``share_memory=False``; there is no
    parameter copy to publish. It also holds the recurrent state of every env (recurrent
    agents), which :meth:`state_dict` saves as ``agent_runtime_state`` and
    :meth:`load_state_dict` restores, for exact resume.
    """

    def _initialize_agent(
        self, agent: Any, env_spaces: Any, global_B: int, env_ranks: list[int]
    ) -> None:
        agent.initialize(env_spaces, share_memory=False, global_B=global_B, env_ranks=env_ranks)

    def _make_sync(self, n_worker: int) -> SimpleNamespace:
        sync = super()._make_sync(n_worker)
        sync.obs_ready = [self.ctx.Semaphore(0) for _ in range(n_worker)]
        sync.act_ready = [self.ctx.Semaphore(0) for _ in range(n_worker)]
        return sync

    def _build_step_buffers(self, examples: dict[str, Any], bootstrap_value: bool) -> None:
        self.step_buffer_np = build_step_buffer(examples, self.batch_spec.B, bootstrap_value)
        self.step_buffer_pyt = torchify_buffer(self.step_buffer_np)
        self.eval_step_buffer_np = None
        if self.eval_n_envs > 0:
            self.eval_step_buffer_np = build_step_buffer(examples, self.eval_n_envs, False)

    def _common_worker_kwargs(self, agent: Any, seed: int, global_B: int) -> dict[str, Any]:
        common = super()._common_worker_kwargs(agent, seed, global_B)
        common["agent"] = None  # workers never run the agent
        return common

    def _extra_worker_kwargs(
        self, rank: int, envs: tuple[int, int], eval_envs: tuple[int, int]
    ) -> dict[str, Any]:
        extra = dict(step_buffer_np=self.step_buffer_np[slice(*envs)])
        if self.eval_step_buffer_np is not None:
            extra["eval_step_buffer_np"] = self.eval_step_buffer_np[slice(*eval_envs)]
        return extra

    def _after_start(self) -> None:
        self.agent.reset()

    def _publish_parameters(self) -> None:
        pass  # the agent acts in this process

    def obtain_samples(self, itr: int) -> tuple[Any, list[Any]]:
        """Serve actions for one batch while the workers step their envs; return
        ``(samples_pyt, completed_infos)`` (infos grouped by worker).

        Raises:
            WorkerError: if a worker died or raised (the sampler is then shut down).
        """
        self._check_usable()
        self._send_all(self.workers, "sample", itr)
        self.serve_actions(itr)
        completed: list[list[Any]] = [[] for _ in self.workers]

        def on_message(worker: Any, kind: str, payload: Any) -> bool:
            self._expect(worker, kind, "batch")
            completed[worker.rank] = payload
            return True

        self._gather(self.workers, on_message, "sampling")
        # Wait-reset collectors flag their frozen envs between batches: reset the agent's
        # state for them now, still in sample mode (before any evaluation).
        self._reset_flagged(self.step_buffer_np)
        return self.samples_pyt, [info for infos in completed for info in infos]

    def evaluate_agent(self, itr: int) -> list[Any]:
        """Run one evaluation, actions served here; return the finished ``TrajInfo``s."""
        self._check_usable()
        if not self._eval_workers:
            raise RuntimeError(f"{type(self).__name__}.evaluate_agent() needs eval_n_envs > 0")
        self.sync.stop_eval.value = False
        self._send_all(self._eval_workers, "eval", itr)
        return self.serve_actions_evaluation(itr)

    def _collect_agent_runtime_state(self, parts: Any) -> Any:
        """The master's agent acts for every env here: its runtime state (or ``None``)."""
        runtime_state_dict = getattr(self.agent, "runtime_state_dict", None)
        return None if runtime_state_dict is None else runtime_state_dict()

    def _restore_agent_runtime_state(self, state: dict[str, Any]) -> None:
        """Restore the master's agent (workers hold no agent state): from the snapshot's
        ``agent_runtime_state`` if it has one (else the runner has loaded the agent already);
        reset it if the snapshot's envs were not saved (the workers restart them)."""
        if state["envs"] is None:
            self.agent.reset()
        elif state.get("agent_runtime_state") is not None:
            self.agent.load_runtime_state_dict(state["agent_runtime_state"])

    def _release_buffers(self) -> None:
        super()._release_buffers()
        self.step_buffer_np = self.step_buffer_pyt = self.eval_step_buffer_np = None


class GpuSampler(GpuSamplerBase):
    """The GPU sampler: ``GpuResetCollector`` / ``GpuEvalCollector`` by default
    (``GpuWaitResetCollector`` for recurrent agents); see :class:`GpuSamplerBase`.

    Args:
        start_method: ``"fork"`` (default on Linux), ``"forkserver"`` or ``"spawn"``. Note
            that a process that has initialised CUDA must not ``fork`` further workers; the
            runner moves the agent to the GPU after ``initialize``, so the default is safe.
        *args, **kwargs: as :class:`~rlpyt.samplers.base.BaseSampler`.
    """

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
