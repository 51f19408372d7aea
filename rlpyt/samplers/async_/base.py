"""What every async sampler shares: the double buffer, the parameter channel, the worker type.

An async sampler lives in two processes. In the training process (the optimizer) the runner
calls :meth:`AsyncSamplerMixin.async_initialize`: the agent is initialized with its parameters
copied into shared memory (``shared_model``), and two ``[T, B]`` samples buffers are allocated
in shared memory (the *double buffer*). The runner then starts the sampler process with
:meth:`AsyncSamplerMixin.sampler_process_copy`, where ``initialize(affinity)`` builds the envs
(and worker processes) and ``obtain_samples(itr, db_idx)`` fills half ``db_idx`` of the double
buffer while the training process copies the other half into the replay buffer.

Parameters travel through :class:`SharedParams`: the optimizer writes ``shared_model`` under
the write side of a reader/writer lock and bumps a version counter; every agent that acts on
the sampler side (the sampler process's, or each CPU worker's) loads it under the read side
before a batch or an evaluation, when the version has changed.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import multiprocessing as mp
from typing import Any

import torch

from rlpyt.agents.base import BaseAgent
from rlpyt.models.utils import strip_ddp_state_dict
from rlpyt.samplers.async_.collectors import select_buffer
from rlpyt.samplers.buffer import build_samples_buffer
from rlpyt.samplers.parallel.base import WorkerError
from rlpyt.samplers.parallel.worker import SamplingWorker, detach_model
from rlpyt.utils.buffer import torchify_buffer
from rlpyt.utils.seed import make_seed
from rlpyt.utils.synchronize import RWLock

__all__ = [
    "AsyncParallelSamplerMixin",
    "AsyncSamplerError",
    "AsyncSamplerMixin",
    "AsyncSamplingWorker",
    "SharedParams",
    "parent_gone",
]

# Nobody waits longer than this on a lock or semaphore without checking the other side lives.
POLL_S = 0.5


class AsyncSamplerError(WorkerError):
    """A process or thread of an async run died or raised; the run has been shut down.

    Raised by ``AsyncRl.train`` within seconds of the failure. A failing sampler worker
    (``CpuSampler`` machinery inside the sampler process) shows up as the sampler process
    raising ``WorkerError``, with the worker's rank, pid and traceback in the message.

    Attributes:
        name: what failed, e.g. ``"async sampler process"`` or ``"memory copier"``.
        pid: its process id (``None`` for a thread of the training process).
        cause: its exception with the traceback text, or how the process ended.
    """

    def __init__(self, name: str, pid: int | None, cause: str) -> None:
        RuntimeError.__init__(self, f"{name} (pid {pid}) {cause}")
        self.name = name
        self.rank = 0
        self.pid = pid
        self.cause = cause


def parent_gone() -> bool:
    """In a process started by ``multiprocessing``: whether its parent has ended."""
    parent = mp.parent_process()
    return parent is not None and not parent.is_alive()


def _exit_if_parent_gone() -> None:
    if parent_gone():
        raise SystemExit("the parent process has ended")


class SharedParams:
    """The channel that carries the optimizer's parameters to the agents that sample.

    ``publish`` (training process) copies the agent's model into its ``shared_model`` under
    the write lock and increments ``version``; ``pull`` (sampler side) loads ``shared_model``
    into the local model under the read lock, only if ``version`` moved since the caller's
    last pull. The lock keeps a reader from loading half-written parameters. Waits are cut in
    ``POLL_S`` slices with a liveness check between them (``on_wait``), so a process that dies
    holding the lock turns into an error on the other side, never a hang.

    Args:
        ctx: multiprocessing context of the processes sharing it (its locks must travel to
            them under that start method).
    """

    def __init__(self, ctx: Any) -> None:
        self.lock = RWLock(ctx)
        self.version = ctx.RawValue(ctypes.c_int64, 0)
        self._pairs: tuple[Any, list[tuple[Any, Any]]] | None = None  # (model, pairs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pairs"] = None  # per-process cache of the publisher
        return state

    def publish(self, agent: Any, on_wait: Any = None) -> None:
        """Copy ``agent.model`` into ``agent.shared_model`` (``agent.send_shared_memory``)."""
        pairs = self._copy_pairs(agent)
        while not self.lock.acquire_write(POLL_S):
            if on_wait is not None:
                on_wait()
        try:
            if pairs is None:
                agent.send_shared_memory()
            else:
                with torch.no_grad():
                    for shared, trained in pairs:
                        shared.copy_(trained)
            self.version.value += 1
        finally:
            self.lock.release_write()

    def _copy_pairs(self, agent: Any) -> list[tuple[Any, Any]] | None:
        """``(shared, trained)`` tensor pairs when the agent's publish is rlpyt's own copy of
        its model into ``shared_model`` (every agent in ``rlpyt.agents``), else ``None``.

        ``send_shared_memory`` goes through ``load_state_dict`` (~250 us for a small MLP,
        paid after every update); copying the same tensors directly takes ~10 us. Agents
        that override the publish with their own behaviour keep it.
        """
        cls = type(agent)
        sync = getattr(cls, "sync_shared_memory", None)
        if (
            getattr(cls, "send_shared_memory", None) is not BaseAgent.send_shared_memory
            or not getattr(sync, "__module__", "").startswith("rlpyt.agents.")
            or getattr(agent, "shared_model", None) is None
        ):
            return None
        module = agent.module
        if self._pairs is None or self._pairs[0] is not module:
            shared = agent.shared_model.state_dict()
            trained = strip_ddp_state_dict(module.state_dict())
            if list(shared) != list(trained):
                return None
            self._pairs = (module, [(shared[k], trained[k]) for k in shared])
        return self._pairs[1]

    def pull(self, agent: Any, seen: int, on_wait: Any = _exit_if_parent_gone) -> int:
        """Load the newest published parameters into ``agent`` if they are newer than
        version ``seen``; return the version now held."""
        if self.version.value == seen:
            return seen
        while not self.lock.acquire_read(POLL_S):
            if on_wait is not None:
                on_wait()
        try:
            version = self.version.value
            agent.recv_shared_memory()
        finally:
            self.lock.release_read()
        return version


class AsyncSamplerMixin:
    """The training-process half of every async sampler, and its hand-over to the sampler
    process. Put it first in the bases of an async sampler class.

    Attributes set by :meth:`async_initialize`: ``agent``, ``double_buffer`` (two NumPy samples
    buffers in shared memory), ``examples``, ``seed``, ``bootstrap_value``,
    ``traj_info_kwargs``, ``shared_params`` and ``ctx`` (the start method's context, which
    also starts the sampler process).
    """

    # Whether the agent of the sampler process itself acts (serial and GPU samplers); in
    # AsyncCpuSampler only the workers' copies act.
    _master_acts: bool = True

    def async_initialize(
        self,
        agent: Any,
        bootstrap_value: bool = False,
        traj_info_kwargs: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> tuple[tuple[Any, Any], dict[str, Any]]:
        """In the training process: initialize ``agent`` on the env spaces with its
        parameters in shared memory, and allocate the double buffer.

        Returns:
            ``(double_buffer, examples)``: the two NumPy samples buffers (leaves
            ``[T, B, ...]``, shared memory) and the one-step examples for the algorithm.
        """
        self.seed = make_seed() if seed is None else int(seed)
        B = self.batch_spec.B
        probe_env = self.EnvCls(**self.env_kwargs)
        try:
            agent.initialize(
                probe_env.spaces, share_memory=True, global_B=B, env_ranks=list(range(B))
            )
            buffers: list[Any] = []
            examples = None
            for _ in range(2):  # the example step runs once, in a forked child if possible
                _, samples_np, examples = build_samples_buffer(
                    agent,
                    probe_env,
                    self.batch_spec,
                    bootstrap_value,
                    agent_shared=True,
                    env_shared=True,
                    subprocess=True,
                    examples=examples,
                )
                buffers.append(samples_np)
        finally:
            probe_env.close()
        self.agent = agent
        self.bootstrap_value = bool(bootstrap_value)
        self.traj_info_kwargs = dict(traj_info_kwargs or {})
        self.double_buffer = tuple(buffers)
        self.examples = examples
        self.shared_params = SharedParams(self.ctx)
        self._params_seen = -1
        return self.double_buffer, examples

    def sampler_process_copy(self) -> Any:
        """A shallow copy to hand to the sampler process, with the agent detached from its
        training model (the sampler side acts with copies of ``shared_model``; under
        ``spawn`` the training parameters must not travel, or torch would move them to
        shared memory)."""
        twin = copy.copy(self)
        twin.agent = detach_model(self.agent)
        return twin

    def release_async_buffers(self) -> None:
        """Drop the training process's references to the double buffer (after the run)."""
        self.double_buffer = None
        self.examples = None

    def _pull_params(self) -> None:
        """Sampler process: load newer published parameters into the acting agent."""
        self._params_seen = self.shared_params.pull(self.agent, self._params_seen)

    @staticmethod
    def _acting_agent(agent: Any) -> Any:
        """Give a detached agent a model of its own, a copy of ``shared_model``."""
        if getattr(agent, "model", None) is None and agent.shared_model is not None:
            agent.model = copy.deepcopy(agent.shared_model)
        return agent


class AsyncParallelSamplerMixin(AsyncSamplerMixin):
    """The sampler-process half of the async CPU, GPU and alternating samplers.

    Reuses ``ParallelSamplerBase`` whole (worker processes, collectors, liveness checks,
    ``WorkerError``, shutdown), through its hooks: the agent is already initialized (in the
    training process), the workers' buffer is the double buffer (:class:`AsyncSamplingWorker`
    points its collector at the half named by ``sync.db_idx`` before each batch), and the
    workers pull parameters themselves under the read lock (no ``sync_shared_memory`` here).
    """

    def initialize(self, affinity: dict[str, Any] | None = None) -> dict[str, Any]:
        """In the sampler process: start the workers (envs, collectors) on the double buffer.

        Args:
            affinity: the sampler's affinity (``workers_cpus``, ``worker_torch_threads``,
                ``set_affinity``, and ``cuda_idx`` for the acting agent of GPU samplers).
        """
        affinity = dict(affinity or {})
        agent = self._acting_agent(self.agent) if self._master_acts else self.agent
        examples = super().initialize(
            agent=agent,
            affinity=affinity,
            seed=self.seed,
            bootstrap_value=self.bootstrap_value,
            traj_info_kwargs=self.traj_info_kwargs,
        )
        if self._master_acts:  # after the workers have forked (CUDA must not be forked)
            agent.to_device(affinity.get("cuda_idx"))
        self._params_seen = -1
        return examples

    def obtain_samples(self, itr: int, db_idx: int) -> list[Any]:  # type: ignore[override]
        """Collect batch ``itr`` into half ``db_idx`` of the double buffer; return the
        completed trajectories' infos."""
        if self._master_acts:
            self._pull_params()
        self.sync.db_idx.value = db_idx
        _, traj_infos = super().obtain_samples(itr)
        return traj_infos

    def evaluate_agent(self, itr: int) -> list[Any]:
        """One evaluation with the newest parameters; returns the finished infos."""
        if self._master_acts:
            self._pull_params()
        return super().evaluate_agent(itr)

    # -- ParallelSamplerBase hooks ----------------------------------------------------------

    def _initialize_agent(self, agent: Any, *args: Any, **kwargs: Any) -> None:
        pass  # initialized in the training process by async_initialize

    def _build_samples_buffer(
        self, agent: Any, probe_env: Any, bootstrap_value: bool
    ) -> tuple[Any, Any, dict[str, Any]]:
        first = self.double_buffer[0]
        return torchify_buffer(first), first, self.examples

    def _make_sync(self, n_worker: int) -> Any:
        sync = super()._make_sync(n_worker)
        sync.db_idx = self.ctx.RawValue(ctypes.c_int, 0)  # the half the next batch goes to
        return sync

    def _common_worker_kwargs(self, agent: Any, seed: int, global_B: int) -> dict[str, Any]:
        common = super()._common_worker_kwargs(agent, seed, global_B)
        common["WorkerCls"] = AsyncSamplingWorker
        common["shared_params"] = self.shared_params
        return common

    def _extra_worker_kwargs(
        self, rank: int, envs: tuple[int, int], eval_envs: tuple[int, int]
    ) -> dict[str, Any]:
        extra = super()._extra_worker_kwargs(rank, envs, eval_envs)
        extra["double_buffer_np"] = tuple(half[:, slice(*envs)] for half in self.double_buffer)
        return extra

    def _publish_parameters(self) -> None:
        pass  # the optimizer publishes; workers pull under the read lock


class AsyncSamplingWorker(SamplingWorker):
    """A parallel-sampler worker for the async samplers.

    Before each batch it points its collector at its slice of the half of the double buffer
    the master named (``sync.db_idx``); before each batch and evaluation its agent copy (CPU
    sampler) pulls the newest parameters through :class:`SharedParams`.
    """

    def __init__(self, common: dict[str, Any], worker: dict[str, Any], conn: Any) -> None:
        self.shared_params = common["shared_params"]
        self.double_buffer_np = worker["double_buffer_np"]
        self._params_seen = -1
        super().__init__(common, worker, conn)
        self._select = functools.partial(select_buffer, self.collector, self.double_buffer_np)

    def handle(self, command: str, arg: Any) -> None:
        if command == "sample":
            self._select(self.common["sync"].db_idx.value)
        super().handle(command, arg)

    def _recv_parameters(self) -> None:
        if self.agent is not None and getattr(self.agent, "shared_model", None) is not None:
            self._params_seen = self.shared_params.pull(self.agent, self._params_seen)
