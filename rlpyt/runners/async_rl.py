"""`AsyncRl` and `AsyncRlEval`: sampling in its own process, optimisation in the training process.

The training process (this runner) is the optimizer. A sampler process runs an async sampler
(``AsyncSerialSampler``, ``AsyncCpuSampler`` with its workers, ``AsyncGpuSampler`` or
``AsyncAlternatingSampler`` serving actions) that writes batches alternately into the two
halves of a shared double buffer; a memory-copier thread here appends each finished batch to
the algorithm's async replay buffer, while the optimizer samples from that replay. The two
sides are throttled to the algorithm's ``replay_ratio``, parameters reach the sampler side
through shared memory under a reader/writer lock, and the runner logs rlpyt's columns (plus
``SamplerIteration``, ``ReplayRatio``, ``StepsInReplay``, ...) every ``log_interval_steps``
sampled steps. See ``docs/async_rl.md``.
"""

from __future__ import annotations

import math
import multiprocessing.connection as mp_connection
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import psutil
import torch
from tqdm import tqdm

from rlpyt.runners.base import BaseRunner
from rlpyt.samplers.async_.base import POLL_S, AsyncSamplerError
from rlpyt.samplers.async_.control import (
    AsyncControl,
    MemoryCopier,
    ReplayRatioSchedule,
    run_async_sampler,
)
from rlpyt.samplers.parallel.base import _block_sigint, _exit_description, _restore_sigmask
from rlpyt.utils.buffer import torchify_buffer
from rlpyt.utils.logging import logger
from rlpyt.utils.seed import make_seed, set_seed

__all__ = ["AsyncRl", "AsyncRlBase", "AsyncRlEval"]

ASYNC_SNAPSHOT_FORMAT = 1  # bump when the snapshot layout changes incompatibly
# The optimizer, waiting for data, looks at messages and liveness at least this often.
WAIT_S = 0.02
# shutdown(): time the sampler process gets to stop after the quit flag, then after SIGTERM
# (it shuts its own workers down, which takes up to 3 s), before SIGKILL.
QUIT_GRACE_S = 3.0
TERMINATE_GRACE_S = 6.0


def split_affinity(affinity: Mapping | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(optimizer, sampler)`` affinities from an async affinity.

    Takes ``make_affinity(async_sample=True, ...)``'s layout (``optimizer``: a list with one
    dict of ``cpus``, ``cuda_idx``, ``torch_threads``, ``set_affinity``; ``sampler``: a run
    affinity with ``master_cpus``, ``workers_cpus``, ``cuda_idx``, ...). A plain run affinity
    (no ``optimizer`` key) is used for the sampler, and its ``cuda_idx`` for the optimizer too.

    Raises:
        ValueError: for several optimizer GPUs or several sampler affinities (not supported).
    """
    if not affinity:
        return {}, {}
    affinity = dict(affinity)
    if "optimizer" not in affinity and "sampler" not in affinity:
        return dict(cuda_idx=affinity.get("cuda_idx")), affinity
    optimizer = affinity.get("optimizer") or {}
    if isinstance(optimizer, (list, tuple)):
        if len(optimizer) > 1:
            raise ValueError(
                f"AsyncRl: {len(optimizer)} optimizer affinities; multi-GPU asynchronous "
                f"optimisation is not supported (use one optimizer GPU)"
            )
        optimizer = optimizer[0] if optimizer else {}
    sampler = affinity.get("sampler") or {}
    if isinstance(sampler, (list, tuple)):
        raise ValueError("AsyncRl: several sampler affinities (multi-GPU sampling) not supported")
    return dict(optimizer), dict(sampler)


class AsyncRlBase(BaseRunner):
    """Shared machinery of the async runners: processes, throttling, logging, snapshots.

    Args:
        algo: an off-policy algorithm with ``async_initialize`` / ``optim_initialize`` (DQN,
            CategoricalDQN, R2D1, DDPG, TD3, SAC), ``replay_ratio`` and ``batch_size``.
        agent: the agent; trained here, copied to the sampler side.
        sampler: an async sampler (``rlpyt.samplers.async_``).
        n_steps: environment steps to sample (rounded up to whole log intervals).
        affinity: ``make_affinity(async_sample=True, ...)`` (``optimizer`` and ``sampler``
            parts; see :func:`split_affinity`), or ``None`` (no pinning, CPU).
        seed: seed of this process's RNGs; the envs get ``seed + 1`` onwards (``None``:
            drawn and logged).
        log_interval_steps: sampled steps between diagnostics rows (and snapshots).
        max_sampler_lead: sampler iterations (batches) the sampler may run ahead of the
            optimizer's replay-ratio schedule before it waits; ``None`` lets it run freely
            (the original rlpyt behaviour, where a slow optimizer lowers the replay ratio).
        progress_bar: show a tqdm bar of sampled steps on stderr.
    """

    _eval = False

    def __init__(
        self,
        algo: Any,
        agent: Any,
        sampler: Any,
        n_steps: float,
        affinity: Mapping | None = None,
        seed: int | None = None,
        log_interval_steps: float = 1e5,
        max_sampler_lead: int | None = 2,
        progress_bar: bool = True,
    ) -> None:
        if not n_steps >= 1 or not log_interval_steps >= 1:
            raise ValueError(
                f"n_steps ({n_steps}) and log_interval_steps ({log_interval_steps}) must be >= 1"
            )
        if max_sampler_lead is not None and int(max_sampler_lead) < 0:
            raise ValueError(f"max_sampler_lead must be >= 0 or None, got {max_sampler_lead}")
        self.algo = algo
        self.agent = agent
        self.sampler = sampler
        self.n_steps = int(n_steps)
        self.affinity = affinity
        self.seed = seed
        self.log_interval_steps = int(log_interval_steps)
        self.max_sampler_lead = None if max_sampler_lead is None else int(max_sampler_lead)
        self.progress_bar = progress_bar
        self.ctrl: AsyncControl | None = None
        self._sampler_proc: Any = None
        self._copier: MemoryCopier | None = None
        self._pbar: Any = None
        self._saved_torch_threads: int | None = None

    # -- start-up ----------------------------------------------------------------------------

    def get_traj_info_kwargs(self) -> dict:
        """Keyword arguments for every ``TrajInfo`` the sampler makes."""
        return dict(discount=getattr(self.algo, "discount", 1))

    def get_n_itr(self) -> int:
        """Sampler iterations: ``n_steps`` in batches, rounded up to whole log intervals."""
        self.log_interval_itrs = max(self.log_interval_steps // self.itr_batch_size, 1)
        n_itr = max(math.ceil(self.n_steps / self.itr_batch_size), 1)
        self.n_itr = math.ceil(n_itr / self.log_interval_itrs) * self.log_interval_itrs
        return self.n_itr

    def startup(self, resume_from: str | Mapping | None = None) -> bool:
        """Initialize sampler, agent and algorithm, start the sampler process and the copier,
        build the optimizer. Returns False if a resumed run has nothing left to do."""
        if self._eval and not getattr(self.sampler, "eval_n_envs", 0):
            raise ValueError(f"{type(self).__name__} needs a sampler with eval_n_envs > 0")
        if self.seed is None:
            self.seed = make_seed()
        set_seed(self.seed)
        snapshot = self._load_snapshot(resume_from)
        self._optimizer_affinity, self._sampler_affinity = split_affinity(self.affinity)
        double_buffer, examples = self.sampler.async_initialize(
            agent=self.agent,
            bootstrap_value=getattr(self.algo, "bootstrap_value", False),
            traj_info_kwargs=self.get_traj_info_kwargs(),
            seed=self.seed + 1,
        )
        self.itr_batch_size = self.sampler.batch_spec.size
        n_itr = self.get_n_itr()
        replay = self.algo.async_initialize(
            agent=self.agent,
            sampler_n_itr=n_itr,
            batch_spec=self.sampler.batch_spec,
            mid_batch_reset=self.sampler.mid_batch_reset,
            examples=examples,
            world_size=1,
        )
        self._replay = replay
        self._schedule = self._make_schedule(snapshot)
        self.initialize_logging()
        self._start_itr = 0
        if snapshot is not None:
            self._restore_snapshot(snapshot)
        if self._start_itr >= n_itr:
            logger.log(f"resumed run already at sampler iteration {self._start_itr}; nothing to do")
            return False
        logger.log(
            f"AsyncRl: {n_itr - self._start_itr} sampler iterations of {self.itr_batch_size} "
            f"steps, {self._schedule.updates_per_itr:.4g} updates per iteration "
            f"({self._updates_per_call} per optimize_agent call), sampler lead "
            f"{self.max_sampler_lead}"
        )
        self._launch_sampler(n_itr)
        self._copier = MemoryCopier(
            self.ctrl,
            tuple(torchify_buffer(half) for half in double_buffer),
            self.algo.samples_to_buffer,
            replay,
            first_itr=self._start_itr,
            n_batches=n_itr - self._start_itr,
        )
        self._copier.start()
        self._optim_startup(snapshot)
        return True

    def _make_schedule(self, snapshot: Mapping | None) -> ReplayRatioSchedule:
        algo = self.algo
        replay_ratio = getattr(algo, "replay_ratio", None)
        batch_size = getattr(algo, "batch_size", None)
        if not replay_ratio or not batch_size:
            raise ValueError(
                f"AsyncRl needs an off-policy algorithm with replay_ratio and batch_size; "
                f"{type(algo).__name__} has {replay_ratio!r} and {batch_size!r}"
            )
        # One optimize_agent call makes updates_per_sync updates, then the parameters go to
        # the sampler side (QPG algorithms set this in async_initialize already).
        if hasattr(algo, "updates_per_sync"):
            algo.updates_per_optimize = max(1, int(algo.updates_per_sync))
        self._updates_per_call = max(1, int(getattr(algo, "updates_per_optimize", 1)))
        start_updates = 0 if snapshot is None else int(snapshot["cum_updates"])
        return ReplayRatioSchedule(
            updates_per_itr=replay_ratio * self.itr_batch_size / batch_size,
            learn_start=int(getattr(algo, "min_itr_learn", 0)),
            start_updates=float(start_updates),
            max_lead=self.max_sampler_lead,
        )

    def _launch_sampler(self, n_itr: int) -> None:
        ctx = self.sampler.ctx
        self.ctrl = ctrl = AsyncControl(ctx)
        ctrl.opt_progress.value = self._progress = self._schedule.start_updates
        process = ctx.Process(
            target=run_async_sampler,
            kwargs=dict(
                sampler=self.sampler.sampler_process_copy(),
                affinity=self._sampler_affinity,
                ctrl=ctrl,
                schedule=self._schedule,
                start_itr=self._start_itr,
                n_itr=n_itr,
                eval_interval=self.log_interval_itrs if self._eval else 0,
                seed=self.seed,
            ),
            name="rlpyt-async-sampler",
        )
        # SIGINT stays blocked while the process starts, so a Ctrl-C reaches it only after it
        # ignores SIGINT (this process handles Ctrl-C and stops it).
        old_mask = _block_sigint()
        try:
            self._sampler_proc = process
            process.start()
        finally:
            _restore_sigmask(old_mask)
            ctrl.writer.close()  # only the sampler writes: its end means EOF here

    def _optim_startup(self, snapshot: Mapping | None) -> None:
        opt = self._optimizer_affinity
        cpus = opt.get("cpus")
        if cpus and opt.get("set_affinity", True):
            try:
                psutil.Process().cpu_affinity(list(cpus))
            except (AttributeError, OSError, ValueError) as e:
                logger.log(f"could not set the optimizer's CPU affinity {cpus}: {e}")
        # Without a thread count, half the cores: the other half samples (an optimizer
        # whose threads compete with the sampler's for every core runs many times slower).
        threads = opt.get("torch_threads") or max(1, (os.cpu_count() or 2) // 2)
        self._saved_torch_threads = torch.get_num_threads()
        torch.set_num_threads(int(threads))
        self.agent.to_device(opt.get("cuda_idx"))
        self.algo.optim_initialize(rank=0)
        if snapshot is not None:
            self.algo.load_optim_state_dict(snapshot["optimizer_state_dict"])
        self.agent.train_mode(self._start_itr)

    # -- the loop ----------------------------------------------------------------------------

    def train(self, resume_from: str | Mapping | None = None) -> None:
        """Sample ``n_steps`` steps while optimising; return when both are done.

        Args:
            resume_from: a run directory, snapshot file or loaded snapshot of an async run:
                the agent, optimizer, update count and counters continue from it (the
                replay buffer is not saved: it refills ``min_steps_learn`` steps first, and
                the envs start afresh).

        Raises:
            AsyncSamplerError: if the sampler process (or one of its workers) or the memory
                copier dies or raises; everything has been shut down by then.
        """
        try:
            if self.startup(resume_from):
                self._open_progress_bar()
                self._run()
        finally:
            self.shutdown()

    def _run(self) -> None:
        copier, schedule = self._copier, self._schedule
        n_session = self.n_itr - self._start_itr
        while True:
            copier.new_data.clear()
            self._check_failures()
            self._log_due_rows()
            copied = copier.copied
            if self._progress < schedule.credit(copied):
                self._optimize_once(copied)
                continue
            if self._sampler_done and copied == n_session and not self._due_rows:
                return
            start = time.monotonic()
            copier.new_data.wait(WAIT_S)
            self._opt_wait += time.monotonic() - start

    def _optimize_once(self, copied: int) -> None:
        """One ``optimize_agent`` call on the replay, then publish the parameters."""
        algo = self.algo
        before = algo.update_counter
        opt_info = algo.optimize_agent(self._opt_itr, sampler_itr=self._start_itr + copied - 1)
        made = algo.update_counter - before
        # A call that made no update (the algorithm not ready) still counts as a full call,
        # so that neither side can wait on the other forever.
        self._progress += made if made > 0 else self._updates_per_call
        self.ctrl.opt_progress.value = self._progress
        if made > 0:
            self.sampler.shared_params.publish(self.agent, on_wait=self._check_failures)
        for k, values in self._opt_infos.items():
            new = getattr(opt_info, k, [])
            values.extend(new if isinstance(new, list) else [new])
        self._opt_itr += 1

    # -- messages and failures ---------------------------------------------------------------

    def _check_failures(self) -> None:
        """Read the sampler's messages; raise :class:`AsyncSamplerError` if the sampler
        process or the copier has failed."""
        copier = self._copier
        if copier is not None and copier.error is not None:
            raise AsyncSamplerError("memory copier thread", None, f"raised {copier.error}")
        self._receive()
        proc = self._sampler_proc
        if proc is None or self._sampler_exited or proc.is_alive():
            return
        proc.join(1.0)
        self._receive()  # an error it sent just before it ended
        if self._sampler_done and proc.exitcode == 0:
            self._sampler_exited = True
            return
        cause = _exit_description(proc.exitcode)
        if proc.exitcode == 0:
            cause = "exited before its last batch"
        raise AsyncSamplerError("async sampler process", proc.pid, cause)

    def _receive(self) -> None:
        reader = self.ctrl.reader
        while not self._pipe_closed:
            try:
                if not reader.poll(0):
                    return
                message = reader.recv()
            except (EOFError, OSError):
                self._pipe_closed = True  # the process ended: _check_failures tells how
                return
            self._handle_message(message)

    def _handle_message(self, message: tuple) -> None:
        kind = message[0]
        if kind == "traj":
            _, itr, traj_infos = message
            self._sampler_itr = itr
            self.store_diagnostics(itr, traj_infos)
            if not self._eval and (itr + 1) % self.log_interval_itrs == 0:
                self._due_rows.append((itr, None, 0.0, False))
        elif kind == "eval":
            _, itr, traj_infos, seconds, initial = message
            self._cum_eval_time += seconds
            self._due_rows.append((itr, traj_infos, seconds, initial))
        elif kind == "done":
            self._sampler_done = True
        elif kind == "error":
            raise AsyncSamplerError(
                "async sampler process", self._sampler_proc.pid, f"raised {message[1]}"
            )
        elif kind != "ready":
            raise AsyncSamplerError(
                "async sampler process", self._sampler_proc.pid, f"sent unknown {kind!r}"
            )

    # -- logging -----------------------------------------------------------------------------

    def initialize_logging(self) -> None:
        """Reset counters, timers and the trajectory window."""
        self._opt_infos = {k: [] for k in getattr(self.algo, "opt_info_fields", ())}
        self._traj_infos: deque = deque(maxlen=getattr(self, "log_traj_window", None))
        self._due_rows: deque = deque()
        self._cum_completed_trajs = self._new_completed_trajs = 0
        self._cum_eval_time = self._last_cum_eval_time = 0.0
        self._prior_time = 0.0  # wall time of earlier sessions (resumed runs)
        self._session_start = self._last_time = time.time()
        self._opt_itr = 0
        self._opt_wait = self._last_opt_wait = 0.0
        self._last_sampler_wait = 0.0
        self._last_cum_steps = 0
        self._last_updates = getattr(self.algo, "update_counter", 0)
        self._sampler_itr = -1
        self._progress = 0.0
        self._sampler_done = self._sampler_exited = self._pipe_closed = False

    def _open_progress_bar(self) -> None:
        self._pbar = tqdm(
            total=self.n_itr * self.itr_batch_size,
            initial=self._start_itr * self.itr_batch_size,
            unit="step",
            unit_scale=True,
            desc="training (async)",
            disable=not self.progress_bar,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def store_diagnostics(self, itr: int, traj_infos: Iterable) -> None:
        """Keep one sampler batch's completed trajectories."""
        traj_infos = list(traj_infos)
        self._cum_completed_trajs += len(traj_infos)
        self._new_completed_trajs += len(traj_infos)
        if not self._eval:
            self._traj_infos.extend(traj_infos)
        if self._pbar is not None:
            self._pbar.update(self.itr_batch_size)

    def _log_due_rows(self) -> None:
        """Log the rows whose batches the optimizer has caught up with (so each row's
        ``CumUpdates`` belong to its ``CumSteps``)."""
        while self._due_rows:
            itr, eval_infos, eval_time, initial = self._due_rows[0]
            if not initial:
                n = itr + 1 - self._start_itr
                if self._copier.copied < n or self._progress < self._schedule.credit(n):
                    return
            self._due_rows.popleft()
            self.log_diagnostics(itr, eval_infos, eval_time, initial)

    def log_diagnostics(
        self,
        sampler_itr: int,
        eval_traj_infos: list | None = None,
        eval_time: float = 0.0,
        initial: bool = False,
        prefix: str = "Diagnostics/",
    ) -> None:
        """Write one row (rlpyt's async columns) and, except before training, a snapshot."""
        now = time.time()
        elapsed = max(now - self._last_time, 1e-9)
        bs = self.itr_batch_size
        cum_steps = 0 if initial else (sampler_itr + 1) * bs
        new_steps = cum_steps - self._last_cum_steps
        updates = self.algo.update_counter
        new_updates = updates - self._last_updates
        new_eval_time = self._cum_eval_time - self._last_cum_eval_time
        sampler_wait = self.ctrl.sampler_wait.value if self.ctrl is not None else 0.0
        algo_batch = self.algo.batch_size
        copied = self._copier.copied if self._copier is not None else 0
        if not initial:
            self.save_itr_snapshot(sampler_itr)
        with logger.tabular_prefix(prefix):
            logger.record_tabular("Iteration", self._opt_itr)
            logger.record_tabular("SamplerIteration", sampler_itr)
            logger.record_tabular("CumTime (s)", self._prior_time + now - self._session_start)
            logger.record_tabular("CumSteps", cum_steps)
            logger.record_tabular("CumUpdates", updates)
            logger.record_tabular("CumCompletedTrajs", self._cum_completed_trajs)
            logger.record_tabular(
                "ReplayRatio", new_updates * algo_batch / new_steps if new_steps else 0.0
            )
            logger.record_tabular(
                "CumReplayRatio", updates * algo_batch / cum_steps if cum_steps else 0.0
            )
            logger.record_tabular("StepsPerSecond", new_steps / max(elapsed - new_eval_time, 1e-9))
            logger.record_tabular("UpdatesPerSecond", new_updates / elapsed)
            # Shares of the interval each side spent working rather than waiting on the other.
            logger.record_tabular(
                "OptThrottle", 1 - (self._opt_wait - self._last_opt_wait) / elapsed
            )
            logger.record_tabular(
                "SamplerThrottle", 1 - (sampler_wait - self._last_sampler_wait) / elapsed
            )
            logger.record_tabular(
                "StepsInReplay", min(copied * bs, getattr(self._replay, "size", copied * bs))
            )
            if self._eval:
                logger.record_tabular(
                    "StepsInEval", sum(i["Length"] for i in eval_traj_infos or [])
                )
                logger.record_tabular("TrajsInEval", len(eval_traj_infos or []))
                logger.record_tabular("CumEvalTime", self._cum_eval_time)
            else:
                logger.record_tabular("NewCompletedTrajs", self._new_completed_trajs)
                logger.record_tabular(
                    "StepsInTrajWindow", sum(i["Length"] for i in self._traj_infos)
                )
        if self._eval and not eval_traj_infos:
            logger.log("WARNING: evaluation completed no trajectory; raise eval_max_steps")
        self._log_infos(eval_traj_infos if self._eval else list(self._traj_infos))
        logger.dump_tabular(with_prefix=False)
        self._last_time = now
        self._last_cum_steps, self._last_updates = cum_steps, updates
        self._last_cum_eval_time = self._cum_eval_time
        self._last_opt_wait, self._last_sampler_wait = self._opt_wait, sampler_wait
        self._new_completed_trajs = 0

    def _log_infos(self, traj_infos: list | None) -> None:
        if traj_infos:
            for k in traj_infos[0]:
                if not k.startswith("_"):
                    logger.record_tabular_misc_stat(k, [info[k] for info in traj_infos])
        for k, values in self._opt_infos.items():
            logger.record_tabular_misc_stat(k, values)
        self._opt_infos = {k: [] for k in self._opt_infos}

    # -- snapshots ---------------------------------------------------------------------------

    def get_itr_snapshot(self, sampler_itr: int) -> dict[str, Any]:
        """The state after sampler iteration ``sampler_itr`` (and the updates it paid for).

        rlpyt's keys (``itr``: optimizer iterations, ``sampler_itr``, ``cum_steps``,
        ``cum_updates``, ``agent_state_dict``, ``optimizer_state_dict``) plus what resuming
        needs; the replay buffer and the envs are not saved. Loads with
        ``torch.load(weights_only=True)``.
        """
        return dict(
            itr=self._opt_itr,
            sampler_itr=sampler_itr,
            cum_steps=(sampler_itr + 1) * self.itr_batch_size,
            cum_updates=self.algo.update_counter,
            agent_state_dict=self.agent.state_dict(),
            optimizer_state_dict=self.algo.optim_state_dict(),
            async_snapshot_format=ASYNC_SNAPSHOT_FORMAT,
            next_sampler_itr=sampler_itr + 1,
            seed=self.seed,
            runner_state=dict(
                opt_itr=self._opt_itr,
                cum_completed_trajs=self._cum_completed_trajs,
                cum_time=self._prior_time + time.time() - self._session_start,
                cum_eval_time=self._cum_eval_time,
                traj_infos=[dict(info) for info in self._traj_infos],
            ),
        )

    def save_itr_snapshot(self, sampler_itr: int) -> None:
        """Save :meth:`get_itr_snapshot` through the logger (named by sampler iteration)."""
        logger.save_itr_params(sampler_itr, self.get_itr_snapshot(sampler_itr))

    def _load_snapshot(self, resume_from: str | Mapping | None) -> Mapping | None:
        if resume_from is None:
            return None
        snapshot = resume_from
        if not isinstance(resume_from, Mapping):
            snapshot = logger.load_snapshot(resume_from)
        if snapshot.get("async_snapshot_format") != ASYNC_SNAPSHOT_FORMAT:
            raise ValueError(
                "resume_from is not an async runner snapshot of this version (no "
                f"async_snapshot_format {ASYNC_SNAPSHOT_FORMAT}); load agent_state_dict by hand"
            )
        return snapshot

    def _restore_snapshot(self, snapshot: Mapping) -> None:
        """Load the agent and counters (the optimizer state follows in ``_optim_startup``)."""
        self.agent.load_state_dict(snapshot["agent_state_dict"])
        self.agent.send_shared_memory()  # the sampler side starts from these parameters
        self._start_itr = int(snapshot["next_sampler_itr"])
        state = snapshot["runner_state"]
        self._opt_itr = int(state["opt_itr"])
        self._cum_completed_trajs = int(state["cum_completed_trajs"])
        self._prior_time = float(state["cum_time"])
        self._cum_eval_time = self._last_cum_eval_time = float(state["cum_eval_time"])
        self._traj_infos.extend(state["traj_infos"])
        self._last_cum_steps = self._start_itr * self.itr_batch_size
        self._last_updates = int(snapshot["cum_updates"])
        logger.log(f"resuming after sampler iteration {self._start_itr - 1}")

    # -- shutdown ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the sampler process (and its workers) and the copier; idempotent.

        Sets the quit flag, waits for the sampler process to finish its current batch and
        shut down its workers (3 s), then SIGTERM (6 s more: it still shuts its workers
        down), then SIGKILL; the process is always joined. Drops the double buffer.
        """
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        ctrl = self.ctrl
        if ctrl is not None:
            ctrl.quit.value = True
        if self._copier is not None:
            self._copier.stop.set()
        proc, self._sampler_proc = self._sampler_proc, None
        if proc is not None and proc.pid is not None:
            self._stop_process(proc)
        if self._copier is not None:
            self._copier.join(2 * POLL_S + 5.0)
            self._copier = None
        if ctrl is not None:
            ctrl.reader.close()
            self.ctrl = None
        if self._saved_torch_threads is not None:
            torch.set_num_threads(self._saved_torch_threads)
            self._saved_torch_threads = None
        release = getattr(self.sampler, "release_async_buffers", None)
        if release is not None:
            release()

    def _stop_process(self, proc: Any) -> None:
        reader = self.ctrl.reader if self.ctrl is not None else None
        deadline = time.monotonic() + QUIT_GRACE_S
        while proc.is_alive() and time.monotonic() < deadline:
            # Keep reading, so a sampler blocked on a full pipe can reach its quit check.
            if reader is not None and not self._pipe_closed:
                try:
                    while reader.poll(0):
                        reader.recv()
                except (EOFError, OSError):
                    self._pipe_closed = True
            waitables = [proc.sentinel]
            if reader is not None and not self._pipe_closed:
                waitables.append(reader)
            mp_connection.wait(waitables, timeout=0.1)
        if proc.is_alive():
            proc.terminate()
            proc.join(TERMINATE_GRACE_S)
        if proc.is_alive():
            logger.log("async sampler process ignored SIGTERM; killing it")
            proc.kill()
        proc.join()
        proc.close()


class AsyncRl(AsyncRlBase):
    """Async runner logging statistics of recent training trajectories.

    Diagnostics average over the last ``log_traj_window`` completed trajectories.

    Args:
        log_traj_window: trajectories kept for the Return/Length statistics.
        *args, **kwargs: see :class:`AsyncRlBase`.
    """

    def __init__(self, *args: Any, log_traj_window: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log_traj_window = int(log_traj_window)


class AsyncRlEval(AsyncRlBase):
    """Async runner that evaluates the agent at every log interval, in the sampler process.

    The sampler evaluates (its eval envs, agent in eval mode, the newest parameters) before
    training and after every ``log_interval_steps`` sampled steps, between two batches; the
    logged trajectory statistics come from evaluation only.
    """

    _eval = True
