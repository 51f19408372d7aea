"""`ParallelSamplerBase`: worker processes, their start-up, messages, failure and shutdown."""

from __future__ import annotations

import ctypes
import functools
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from rlpyt.samplers.base import BaseSampler
from rlpyt.samplers.buffer import build_samples_buffer
from rlpyt.samplers.parallel.worker import detach_model, sampling_process, worker_seed
from rlpyt.samplers.run_state import merge_run_states, split_run_state
from rlpyt.utils.logging import logger
from rlpyt.utils.seed import make_seed

__all__ = [
    "ParallelSamplerBase",
    "WorkerError",
    "join_env_major",
    "resolve_start_method",
    "split_counts",
    "split_env_major",
]

START_METHODS = ("fork", "forkserver", "spawn")

# The master never waits longer than this without checking that every worker is alive.
POLL_S = 0.5
# Log a note when workers (alive) have not answered for this long.
SLOW_NOTE_S = 60.0
# shutdown(): how long workers get to exit after "close", then after SIGTERM, before SIGKILL.
CLOSE_GRACE_S = 2.0
TERMINATE_GRACE_S = 1.0


class WorkerError(RuntimeError):
    """A sampler worker process died or raised; the sampler has been shut down.

    Attributes:
        rank: index of the worker among the sampler's workers.
        pid: its process id.
        cause: what happened: the worker's exception with its traceback text, or how the
            process ended (exit code or signal name).
    """

    def __init__(self, rank: int, pid: int | None, cause: str) -> None:
        super().__init__(f"sampler worker {rank} (pid {pid}) {cause}")
        self.rank = rank
        self.pid = pid
        self.cause = cause


def resolve_start_method(start_method: str | None) -> str:
    """The multiprocessing start method to use: ``None`` means ``"fork"`` on Linux, else
    ``"spawn"``.

    Raises:
        ValueError: for a name other than ``"fork"``, ``"forkserver"``, ``"spawn"``, or one
            this platform lacks.
    """
    if start_method is None:
        return "fork" if sys.platform.startswith("linux") else "spawn"
    if start_method not in START_METHODS:
        raise ValueError(
            f"start_method must be one of {START_METHODS} or None, got {start_method!r}"
        )
    if start_method not in mp.get_all_start_methods():
        raise ValueError(f"start_method {start_method!r} is not available on this platform")
    return start_method


def split_counts(total: int, n: int) -> list[int]:
    """``total`` items over ``n`` groups as evenly as possible, the larger groups first.

    >>> split_counts(7, 3)
    [3, 2, 2]
    """
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def join_env_major(parts: Sequence[Any], counts: Sequence[int]) -> Any:
    """Join per-worker states whose tensors lead with the worker's envs (``[B_w, ...]``).

    Walks dicts, lists and tuples alike in every part; tensors are concatenated along dim 0,
    other values (field names, flags) must agree and are kept once. A part that is ``None``
    where others hold tensors (an agent that has not stepped yet) contributes zeros for its
    ``counts[i]`` envs. Used for agents' runtime states (``RecurrentAgentMixin``'s
    ``{"rnn_state": ...}``), which are env-major by that contract.

    >>> join_env_major([{"h": torch.ones(1, 2)}, {"h": None}], [1, 2])["h"].tolist()
    [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]
    """
    first = next((p for p in parts if p is not None), None)
    if first is None:
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(
            [
                first.new_zeros((n, *first.shape[1:])) if p is None else p
                for p, n in zip(parts, counts, strict=True)
            ]
        )
    if isinstance(first, dict):
        return {
            k: join_env_major([None if p is None else p[k] for p in parts], counts) for k in first
        }
    if isinstance(first, (list, tuple)):
        items = [
            join_env_major([None if p is None else p[i] for p in parts], counts)
            for i in range(len(first))
        ]
        return _rebuild_sequence(first, items)
    if any(p is not None and p != first for p in parts):
        raise ValueError(f"cannot join differing non-tensor values {parts!r}")
    return first


def split_env_major(value: Any, counts: Sequence[int]) -> list[Any]:
    """Split a state joined by :func:`join_env_major` into parts of ``counts`` envs (copies).

    Raises:
        ValueError: if a tensor does not lead with ``sum(counts)`` envs.
    """
    if value is None:
        return [None] * len(counts)
    if isinstance(value, torch.Tensor):
        if value.dim() == 0 or value.shape[0] != sum(counts):
            raise ValueError(
                f"agent runtime state has a tensor of shape {tuple(value.shape)}, "
                f"expected {sum(counts)} envs leading"
            )
        bounds = np.cumsum([0, *counts])
        return [value[a:b].clone() for a, b in zip(bounds[:-1], bounds[1:])]
    if isinstance(value, dict):
        split = {k: split_env_major(v, counts) for k, v in value.items()}
        return [{k: split[k][i] for k in value} for i in range(len(counts))]
    if isinstance(value, (list, tuple)):
        split_items = [split_env_major(v, counts) for v in value]
        return [
            _rebuild_sequence(value, [items[i] for items in split_items])
            for i in range(len(counts))
        ]
    return [value] * len(counts)


def _rebuild_sequence(like: Any, items: list[Any]) -> Any:
    """``items`` as a sequence of the type of ``like`` (list, tuple or namedtuple)."""
    return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)


def _exit_description(exitcode: int | None) -> str:
    if exitcode is None:
        return "stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"died: killed by signal {name}"
    return f"died: exited with code {exitcode}"


class _Worker:
    """Master-side record of one worker process: its rank, process, and pipe end."""

    def __init__(self, rank: int, process: Any, conn: Any) -> None:
        self.rank = rank
        self.process = process
        self.conn = conn


class ParallelSamplerBase(BaseSampler):
    """Runs the envs in worker processes that write into one shared ``[T, B]`` buffer.

    Base of ``CpuSampler`` (workers run their own agent copy) and ``GpuSampler`` (workers only
    step envs). Subclasses build the shared buffers in ``initialize`` and call
    :meth:`_start_workers`; this class owns the process lifecycle:

    - **Start methods.** ``start_method`` ``"fork"`` (default on Linux), ``"forkserver"`` or
      ``"spawn"``; everything handed to a worker pickles (shared-memory arrays by reference).
    - **Messages.** Each worker has one duplex pipe. The master sends commands
      (``("sample", itr)``, ``("eval", itr)``, ``("close", None)``, ...) and waits for replies
      with :meth:`_gather`, which wakes at least every 0.5 s and also returns as soon as a
      worker process ends (its sentinel), so a dead worker is noticed at once.
    - **Failure.** A worker that raises sends its exception and traceback text, then exits;
      one that dies (SIGKILL, segfault) is seen by its sentinel. Either way the master shuts
      every worker down (close, then SIGTERM, then SIGKILL after grace periods, always
      joined) and raises :class:`WorkerError` naming the worker's rank, pid and cause.
    - **Ctrl-C.** Workers ignore SIGINT; the runner's ``finally`` calls :meth:`shutdown`.
      Workers exit on their own when the master dies (``PR_SET_PDEATHSIG`` on Linux, and a
      check of the parent's sentinel in every wait).

    Args:
        start_method: ``"fork"``, ``"forkserver"``, ``"spawn"``, or ``None`` (``"fork"`` on
            Linux, ``"spawn"`` elsewhere). Other arguments: see
            :class:`~rlpyt.samplers.base.BaseSampler`.

    Raises:
        ValueError: for an unknown ``start_method`` (and as ``BaseSampler``).
    """

    def __init__(self, *args: Any, start_method: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_method = resolve_start_method(start_method)
        self.ctx = mp.get_context(self.start_method)
        if self.start_method == "forkserver":
            # The server imports these once; each worker then forks with them loaded.
            self.ctx.set_forkserver_preload(["rlpyt.samplers.parallel.worker"])
        self.workers: list[_Worker] = []
        self.n_worker = 0
        self.agent: Any = None
        self.samples_pyt: Any = None
        self.samples_np: Any = None
        self.sync: Any = None
        self._eval_workers: list[_Worker] = []
        self._closed = False
        self._failure: WorkerError | None = None

    # -- initialize -------------------------------------------------------------------------

    def initialize(
        self,
        agent: Any,
        affinity: dict[str, Any] | None = None,
        seed: int | None = None,
        bootstrap_value: bool = False,
        traj_info_kwargs: dict[str, Any] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> dict[str, Any]:
        """Allocate the shared buffer, initialize the agent, start the workers.

        The ``batch_B`` envs are split over the workers in contiguous blocks, as evenly as
        possible (uneven splits are fine: with 5 envs and 2 workers, worker 0 steps envs 0-2
        and worker 1 envs 3-4); eval envs likewise. Env ``b`` of this sampler (global index
        ``g = rank * batch_B + b``) is seeded ``seed + g`` and draws its decorrelation steps
        from a generator seeded by ``(seed, g)``, exactly as in ``SerialSampler``; eval env
        ``i`` is seeded ``seed + batch_B * world_size + rank * eval_n_envs + i``. See
        :meth:`BaseSampler.initialize` for the arguments; ``affinity`` keys used here:
        ``workers_cpus``, ``worker_torch_threads`` (default 1), ``set_affinity``.

        Raises:
            WorkerError: if a worker fails while building its envs.
        """
        B = self.batch_spec.B
        seed = make_seed() if seed is None else int(seed)
        global_B = B * world_size
        env_ranks = list(range(rank * B, (rank + 1) * B))
        settings = self._workers_settings(affinity)
        counts = self._split_envs(B, len(settings))
        eval_counts = split_counts(self.eval_n_envs, len(settings))
        probe_env = self.EnvCls(**self.env_kwargs)  # a throwaway env: the example step
        try:
            self._initialize_agent(agent, probe_env.spaces, global_B, env_ranks)
            self.samples_pyt, self.samples_np, examples = self._build_samples_buffer(
                agent, probe_env, bootstrap_value
            )
        finally:
            probe_env.close()
        self.agent = agent
        self._TrajInfo = functools.partial(self.TrajInfoCls, **(traj_info_kwargs or {}))
        self.sync = self._make_sync(len(settings))
        self._build_step_buffers(examples, bootstrap_value)
        common = self._common_worker_kwargs(agent, seed, global_B)
        worker_args = []
        start = eval_start = 0
        for w, (n_envs, n_eval, setting) in enumerate(zip(counts, eval_counts, settings)):
            stop = start + n_envs
            worker = dict(
                setting,
                rank=w,
                global_seed=worker_seed(seed, rank, w),
                env_ranks=env_ranks[start:stop],
                samples_np=self.samples_np[:, start:stop],
                eval_n_envs=n_eval,
                eval_seed=seed + global_B + rank * self.eval_n_envs + eval_start,
            )
            worker.update(
                self._extra_worker_kwargs(w, (start, stop), (eval_start, eval_start + n_eval))
            )
            worker_args.append((common, worker))
            start, eval_start = stop, eval_start + n_eval
        self._start_workers(sampling_process, worker_args)
        self._env_counts = counts
        self._eval_workers = [w for w, n in zip(self.workers, eval_counts) if n > 0]
        self._after_start()
        logger.log(
            f"{type(self).__name__} initialized: batch_spec {tuple(self.batch_spec)}, "
            f"{self.n_worker} workers ({self.start_method}), envs per worker {counts}, "
            f"seed {seed}."
        )
        return examples

    def _build_samples_buffer(
        self, agent: Any, probe_env: Any, bootstrap_value: bool
    ) -> tuple[Any, Any, dict[str, Any]]:
        """``(samples_pyt, samples_np, examples)``: the shared ``[T, B]`` buffer the workers
        write, from one example step of ``agent`` on ``probe_env`` (the async samplers return
        the double buffer they allocated in the training process instead)."""
        return build_samples_buffer(
            agent,
            probe_env,
            self.batch_spec,
            bootstrap_value,
            agent_shared=True,
            env_shared=True,
            subprocess=False,
        )

    def _split_envs(self, B: int, n_worker: int) -> list[int]:
        """Number of envs of each worker (contiguous blocks, in worker order)."""
        return split_counts(B, n_worker)

    def _initialize_agent(
        self, agent: Any, env_spaces: Any, global_B: int, env_ranks: list[int]
    ) -> None:
        """Initialize the agent in the master; here with shared-memory parameters."""
        agent.initialize(env_spaces, share_memory=True, global_B=global_B, env_ranks=env_ranks)

    def _common_worker_kwargs(self, agent: Any, seed: int, global_B: int) -> dict[str, Any]:
        """Settings every worker gets (see ``SamplingWorker``)."""
        return dict(
            EnvCls=self.EnvCls,
            env_kwargs=self.env_kwargs,
            CollectorCls=self.CollectorCls,
            eval_CollectorCls=self.eval_CollectorCls,
            eval_env_kwargs=self.eval_env_kwargs,
            eval_max_T=self.eval_max_T,
            TrajInfoCls=self._TrajInfo,
            batch_T=self.batch_spec.T,
            global_B=global_B,
            seed=seed,
            max_decorrelation_steps=self.max_decorrelation_steps,
            agent=detach_model(agent),
            sync=self.sync,
        )

    def _make_sync(self, n_worker: int) -> SimpleNamespace:
        """Shared flags and semaphores: ``stop_eval`` here (subclasses add theirs)."""
        return SimpleNamespace(
            stop_eval=self.ctx.RawValue(ctypes.c_bool, False),
            # Set by shutdown(): workers waiting on a semaphore exit instead of waiting on.
            closing=self.ctx.RawValue(ctypes.c_bool, False),
        )

    def _build_step_buffers(self, examples: dict[str, Any], bootstrap_value: bool) -> None:
        """Allocate further shared buffers from the examples (GPU samplers' step buffers)."""

    def _extra_worker_kwargs(
        self, rank: int, envs: tuple[int, int], eval_envs: tuple[int, int]
    ) -> dict[str, Any]:
        """Per-worker settings a subclass adds, given the worker's ``[start, stop)`` ranges of
        training and eval envs (e.g. its rows of a GPU sampler's step buffers)."""
        return {}

    def _after_start(self) -> None:
        """Called once every worker has reported ready."""

    # -- sampling and evaluation ------------------------------------------------------------

    def obtain_samples(self, itr: int) -> tuple[Any, list[Any]]:
        """Have every worker collect its part of the batch; return ``(samples_pyt, infos)``.

        Publishes the agent's parameters first (``agent.sync_shared_memory()``); workers pull
        them (``recv_shared_memory``) before collecting. ``samples_pyt`` is the same shared
        buffer every call. Completed trajectory infos come grouped by worker (worker 0's envs
        first), in order of completion within a worker.

        Raises:
            WorkerError: if a worker died or raised (the sampler is then shut down).
        """
        self._check_usable()
        self._publish_parameters()
        self._send_all(self.workers, "sample", itr)
        completed: list[list[Any]] = [[] for _ in self.workers]

        def on_message(worker: _Worker, kind: str, payload: Any) -> bool:
            self._expect(worker, kind, "batch")
            completed[worker.rank] = payload
            return True

        self._gather(self.workers, on_message, "sampling")
        return self.samples_pyt, [info for infos in completed for info in infos]

    def evaluate_agent(self, itr: int) -> list[Any]:
        """Run one evaluation in the workers that hold eval envs; return finished infos.

        Workers send each finished trajectory as it ends; once ``eval_max_trajectories`` have
        arrived, the master sets ``sync.stop_eval`` and the workers stop after their current
        step (trajectories finishing meanwhile are kept, so a few more may be returned).
        Each worker runs at most ``eval_max_T`` steps.
        """
        self._check_usable()
        if not self._eval_workers:
            raise RuntimeError(f"{type(self).__name__}.evaluate_agent() needs eval_n_envs > 0")
        self._publish_parameters()
        self.sync.stop_eval.value = False
        self._send_all(self._eval_workers, "eval", itr)
        infos: list[Any] = []
        max_trajectories = self.eval_max_trajectories

        def on_message(worker: _Worker, kind: str, payload: Any) -> bool:
            self._expect(worker, kind, "traj")
            if payload is None:  # this worker's end marker
                return True
            infos.append(payload)
            if max_trajectories is not None and len(infos) >= max_trajectories:
                if not self.sync.stop_eval.value:
                    logger.log(f"Evaluation reached {max_trajectories} trajectories; stopping.")
                self.sync.stop_eval.value = True
            return False

        self._gather(self._eval_workers, on_message, "evaluation")
        return infos

    def state_dict(self) -> dict[str, Any]:
        """Snapshot of the sampling run, in ``SerialSampler``'s format (see
        :mod:`rlpyt.samplers.run_state`): every worker reports its envs' part, joined in env
        order, so a snapshot resumes with any sampler of the same settings.

        Two keys go beyond ``SerialSampler``'s: ``agent_runtime_state``, the runtime state
        (e.g. recurrent state) of the agent acting for these envs, joined in env order
        (present only for agents with ``runtime_state_dict``: the workers' copies in
        ``CpuSampler``, the master's agent in GPU samplers), and ``worker_rng_states``, each
        worker's Python, NumPy and torch RNG states (stochastic agents in the workers draw
        from them).
        """
        self._check_usable()
        self._send_all(self.workers, "state")
        parts: list[Any] = [None] * len(self.workers)

        def on_message(worker: _Worker, kind: str, payload: Any) -> bool:
            self._expect(worker, kind, "state")
            parts[worker.rank] = payload
            return True

        self._gather(self.workers, on_message, "state_dict")
        state = merge_run_states(parts)
        runtime = self._collect_agent_runtime_state(parts)
        if runtime is not None:
            state["agent_runtime_state"] = runtime
        state["worker_rng_states"] = [part["worker_rng_states"] for part in parts]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a snapshot taken by any sampler with the same settings (after
        :meth:`initialize`); each worker restores its envs' part.

        The agent's runtime state is restored from the snapshot's ``agent_runtime_state``;
        where it has none (a ``SerialSampler`` snapshot), ``CpuSampler`` workers take the
        master agent's (which the runner has loaded from the snapshot's top level just
        before). Worker RNG states are restored when the snapshot has one per worker (same
        number of workers); otherwise the workers keep their own streams, which changes the
        draws of stochastic agents only.

        Raises:
            ValueError: if the snapshot holds a different number of envs.
        """
        self._check_usable()
        parts = split_run_state(state, self._env_counts)
        if state["envs"] is None:
            warnings.warn(
                f"{type(self).__name__}.load_state_dict: envs were not saved "
                f"({state['envs_unpicklable']}); resetting and decorrelating them again, so "
                f"sampling does not continue exactly",
                stacklevel=2,
            )
        runtimes = self._restore_agent_runtime_state(state)
        rng_states = state.get("worker_rng_states")
        if rng_states is not None and len(rng_states) != len(self.workers):
            logger.log(
                f"{type(self).__name__}.load_state_dict: snapshot of {len(rng_states)} workers, "
                f"this sampler has {len(self.workers)}; workers keep their own RNG streams"
            )
            rng_states = None
        for worker, part in zip(self.workers, parts):
            part["agent_runtime_state"] = None if runtimes is None else runtimes[worker.rank]
            part["worker_rng_states"] = None if rng_states is None else rng_states[worker.rank]
            self._send_all([worker], "load_state", part)
        self._gather(self.workers, lambda w, kind, p: self._expect(w, kind, "loaded"), "load")

    def _collect_agent_runtime_state(self, parts: Sequence[dict[str, Any]]) -> Any:
        """The runtime state of the agent acting for this sampler's envs, or ``None``.

        Here the workers' agent copies act: their states (leaves ``[B_worker, ...]``) are
        joined in env order. GPU samplers override this (their master's agent acts).
        """
        states = [part.get("agent_runtime_state") for part in parts]
        if any(s is None for s in states):
            return None
        return join_env_major(states, self._env_counts)

    def _restore_agent_runtime_state(self, state: dict[str, Any]) -> list[Any] | None:
        """Per worker, the agent runtime state to load with its envs (``None``: nothing).

        Nothing when the snapshot's envs were not saved (the workers reset their envs and
        agents). GPU samplers override this to restore the master's agent.
        """
        if state["envs"] is None:
            return None
        runtime = state.get("agent_runtime_state")
        if runtime is None:
            runtime_state_dict = getattr(self.agent, "runtime_state_dict", None)
            if runtime_state_dict is None:
                return None
            runtime = runtime_state_dict()
        return split_env_major(runtime, self._env_counts)

    def _publish_parameters(self) -> None:
        sync = getattr(self.agent, "sync_shared_memory", None)
        if sync is not None:
            sync()

    def _expect(self, worker: _Worker, kind: str, expected: str) -> bool:
        if kind != expected:
            self._fail(worker, f"ProtocolError: sent {kind!r} where {expected!r} was expected")
        return True

    # -- affinity ---------------------------------------------------------------------------

    def _workers_settings(self, affinity: dict[str, Any] | None) -> list[dict[str, Any]]:
        """Per-worker ``cpus``, ``torch_threads`` and ``set_affinity`` from an affinity dict.

        ``workers_cpus`` (a list with one CPU list, or one CPU int, per worker) sets the number
        of workers; without it there are ``min(os.cpu_count(), batch_B)`` unpinned workers.
        More workers than ``batch_B`` are cut to ``batch_B`` (every worker needs an env).
        """
        affinity = dict(affinity or {})
        B = self.batch_spec.B
        cpus_list: list[Any] = list(
            affinity.get("workers_cpus") or [None] * min(os.cpu_count() or 1, B)
        )
        if len(cpus_list) > B:
            logger.log(
                f"{type(self).__name__}: {len(cpus_list)} worker CPU sets for batch_B={B}; "
                f"using {B} workers"
            )
            cpus_list = cpus_list[:B]
        threads = int(affinity.get("worker_torch_threads") or 1)
        set_affinity = bool(affinity.get("set_affinity", True))
        settings = []
        for cpus in cpus_list:
            if isinstance(cpus, int):
                cpus = [cpus]
            settings.append(
                dict(
                    cpus=None if cpus is None else list(cpus),
                    torch_threads=threads,
                    set_affinity=set_affinity,
                )
            )
        return settings

    # -- process lifecycle ------------------------------------------------------------------

    def _start_workers(self, target: Callable[..., Any], worker_args: Sequence[tuple]) -> None:
        """Start one process per entry of ``worker_args``, running
        ``target(*args, conn)`` with ``conn`` its end of a duplex pipe; wait until each
        reports ready (its envs built).

        SIGINT is blocked in this thread while the processes start, so a Ctrl-C in that
        window reaches workers only after they have set it to be ignored; the master gets it
        right after.

        Raises:
            WorkerError: if a worker fails during start-up.
        """
        self._closed = False
        self._failure = None
        old_mask = _block_sigint()
        try:
            for rank, args in enumerate(worker_args):
                parent_conn, child_conn = self.ctx.Pipe(duplex=True)
                process = self.ctx.Process(
                    target=target,
                    args=(*args, child_conn),
                    name=f"rlpyt-sampler-worker-{rank}",
                    daemon=True,
                )
                self.workers.append(_Worker(rank, process, parent_conn))
                process.start()
                # Close our copy of the child's end now (before the next fork inherits it),
                # so that a dead worker's pipe reads as EOF instead of blocking.
                child_conn.close()
        except BaseException:
            _restore_sigmask(old_mask)
            self.shutdown()
            raise
        _restore_sigmask(old_mask)
        self.n_worker = len(self.workers)
        self._gather(self.workers, lambda worker, kind, payload: kind == "ready", "start-up")

    def _send_all(self, workers: Sequence[_Worker], command: str, arg: Any = None) -> None:
        """Send ``(command, arg)`` to each of ``workers``; a broken pipe means the worker died."""
        self._check_usable()
        for worker in workers:
            try:
                worker.conn.send((command, arg))
            except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
                self._fail(worker, None)

    def _gather(
        self,
        workers: Sequence[_Worker],
        on_message: Callable[[_Worker, str, Any], bool],
        what: str,
    ) -> None:
        """Receive messages from ``workers`` until ``on_message(worker, kind, payload)`` has
        returned True once for each of them.

        Waits on the workers' pipes and on every worker's process sentinel at once, at most
        0.5 s per wait, checking liveness after every wake-up; an ``"error"`` message or a
        process end shuts the sampler down and raises :class:`WorkerError`.
        """
        pending = {worker.conn: worker for worker in workers}
        sentinels = {worker.process.sentinel: worker for worker in self.workers}
        next_note = time.monotonic() + SLOW_NOTE_S
        while pending:
            ready = mp_connection.wait([*pending, *sentinels], timeout=POLL_S)
            if not ready and time.monotonic() > next_note:  # alive, but slow (or hung)
                ranks = sorted(worker.rank for worker in pending.values())
                logger.log(f"{type(self).__name__}: still waiting for workers {ranks} ({what})")
                next_note += SLOW_NOTE_S
            for obj in ready:
                if obj in pending:
                    worker = pending[obj]
                    try:
                        kind, payload = worker.conn.recv()
                    except (EOFError, OSError):
                        self._fail(worker, None)
                    if kind == "error":
                        self._fail(worker, payload)
                    if on_message(worker, kind, payload):
                        del pending[obj]
            for worker in self.workers:
                if not worker.process.is_alive():
                    self._fail(worker, None)

    def _poll_workers(self, on_message: Callable[[_Worker, str, Any], Any] | None = None) -> None:
        """Without blocking: read what workers have sent (an ``"error"`` fails the sampler;
        other messages go to ``on_message``, and are a protocol error without one), then
        check that every worker process lives."""
        for worker in self.workers:
            try:
                while worker.conn.poll(0):
                    kind, payload = worker.conn.recv()
                    if kind == "error":
                        self._fail(worker, payload)
                    if on_message is None:
                        self._fail(worker, f"ProtocolError: unexpected message {kind!r}")
                    on_message(worker, kind, payload)
            except (EOFError, OSError):
                self._fail(worker, None)
        for worker in self.workers:
            if not worker.process.is_alive():
                self._fail(worker, None)

    def _acquire(
        self, semaphore: Any, on_message: Callable[[_Worker, str, Any], Any] | None = None
    ) -> None:
        """Acquire ``semaphore`` (released by a worker), checking the workers every 0.5 s."""
        while not semaphore.acquire(timeout=POLL_S):
            self._poll_workers(on_message)

    def _fail(self, worker: _Worker, error_text: str | None) -> None:
        """Shut everything down and raise :class:`WorkerError` for ``worker``."""
        if error_text is None:
            error_text = self._pending_error(worker)
        if error_text is not None:
            cause = f"raised {error_text}"
        else:
            worker.process.join(TERMINATE_GRACE_S)
            cause = _exit_description(worker.process.exitcode)
        error = WorkerError(worker.rank, worker.process.pid, cause)
        self._failure = error
        logger.log(f"{type(self).__name__}: {error}; shutting down all workers")
        self.shutdown()
        raise error

    @staticmethod
    def _pending_error(worker: _Worker) -> str | None:
        """The error text a dead worker sent before it ended, if any is still in its pipe."""
        try:
            while worker.conn.poll(0.2):
                kind, payload = worker.conn.recv()
                if kind == "error":
                    return payload
        except (EOFError, OSError):
            pass
        return None

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise RuntimeError(
                f"{type(self).__name__} was shut down after a worker failure: {self._failure}"
            )
        if self._closed or not self.workers:
            raise RuntimeError(
                f"{type(self).__name__} has no running workers (not initialized, or shut down)"
            )

    def shutdown(self) -> None:
        """Stop every worker and release the shared buffers. Idempotent, safe after a failure.

        Asks live workers to close (they close their envs and exit), waits up to 2 s, then
        terminates (SIGTERM) and finally kills (SIGKILL) whatever is left; every process is
        joined (no zombies) and every pipe closed. References to the shared buffers are
        dropped so their memory is freed once no other holder remains.
        """
        if self._closed:
            return
        self._closed = True
        if self.sync is not None:
            self.sync.closing.value = True
        workers, self.workers = self.workers, []
        for worker in [w for w in workers if w.process.pid is None]:  # never started
            worker.conn.close()
            workers.remove(worker)
        for worker in workers:
            if worker.process.is_alive():
                try:
                    worker.conn.send(("close", None))
                except (OSError, EOFError, ValueError):
                    pass
        deadline = time.monotonic() + CLOSE_GRACE_S
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + TERMINATE_GRACE_S
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():
                logger.log(f"sampler worker {worker.rank} ignored SIGTERM; killing it")
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
            worker.process.close()
        self._release_buffers()

    def _release_buffers(self) -> None:
        """Drop the master's references to shared buffers (subclasses extend)."""
        self.samples_pyt = None
        self.samples_np = None
        self.sync = None


def _block_sigint() -> Any:
    if hasattr(signal, "pthread_sigmask"):
        return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    return None


def _restore_sigmask(old_mask: Any) -> None:
    if old_mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
