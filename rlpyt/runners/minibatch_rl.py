"""`MinibatchRl` and `MinibatchRlEval`: one process alternates sampling and optimisation.

Each iteration the sampler fills one ``[T, B]`` batch (serially or with parallel workers) and
the algorithm optimises the agent on it. Every ``log_interval_steps`` environment steps the
runner logs diagnostics (rlpyt's ``progress.csv`` columns), saves a snapshot through the logger,
and, for ``MinibatchRlEval``, evaluates the agent first. A run resumes exactly from its last
snapshot with ``train(resume_from=run_dir)``.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import psutil
import torch
from tqdm import tqdm

from rlpyt.runners.base import BaseRunner
from rlpyt.utils.logging import logger
from rlpyt.utils.seed import get_rng_states, make_seed, set_rng_states, set_seed

SNAPSHOT_FORMAT = 1  # bump when the snapshot layout changes incompatibly


class MinibatchRlBase(BaseRunner):
    """Shared machinery of the minibatch runners: start-up, logging, snapshots, resuming.

    Args:
        algo: the algorithm (``RlAlgorithm``); optimises the agent on each batch.
        agent: the agent; shared by sampler and algorithm.
        sampler: the sampler; produces a ``[T, B]`` batch per iteration.
        n_steps: total environment steps to train for (rounded up to whole log intervals).
        seed: seed for Python, NumPy and torch; the sampler's envs get ``seed + 1`` onwards.
            ``None`` draws one (recorded in the log).
        affinity: resources of this run: ``master_cpus``, ``master_torch_threads``,
            ``cuda_idx``, ``set_affinity``, ``workers_cpus`` (see ``make_affinity``).
        log_interval_steps: environment steps between diagnostics rows and snapshots.
        progress_bar: show a tqdm bar on stderr.
    """

    _eval = False

    def __init__(
        self,
        algo: Any,
        agent: Any,
        sampler: Any,
        n_steps: float,
        seed: int | None = None,
        affinity: Mapping | None = None,
        log_interval_steps: float = 1e5,
        progress_bar: bool = True,
    ) -> None:
        if not n_steps >= 1 or not log_interval_steps >= 1:
            raise ValueError(
                f"n_steps ({n_steps}) and log_interval_steps ({log_interval_steps}) must be >= 1"
            )
        self.algo = algo
        self.agent = agent
        self.sampler = sampler
        self.n_steps = int(n_steps)
        self.seed = seed
        self.affinity = dict(affinity or {})
        self.log_interval_steps = int(log_interval_steps)
        self.progress_bar = progress_bar
        self.rank = 0
        self.world_size = 1
        self.min_itr_learn = getattr(algo, "min_itr_learn", 0)

    # -- start-up and shutdown ------------------------------------------------------------------

    def startup(self) -> int:
        """Seed, set threads and CPU affinity, initialise sampler, agent and algorithm.

        Returns:
            The number of iterations to run.
        """
        self._apply_affinity()
        if self.seed is None:
            self.seed = make_seed()
        set_seed(self.seed)
        examples = self.sampler.initialize(
            agent=self.agent,
            affinity=self.affinity,
            seed=self.seed + 1,
            bootstrap_value=getattr(self.algo, "bootstrap_value", False),
            traj_info_kwargs=self.get_traj_info_kwargs(),
            rank=self.rank,
            world_size=self.world_size,
        )
        self.itr_batch_size = self.sampler.batch_spec.size * self.world_size
        n_itr = self.get_n_itr()
        self.agent.to_device(self.affinity.get("cuda_idx"))
        if self.world_size > 1:
            self.agent.data_parallel()
        self.algo.initialize(
            agent=self.agent,
            n_itr=n_itr,
            batch_spec=self.sampler.batch_spec,
            mid_batch_reset=self.sampler.mid_batch_reset,
            examples=examples,
            world_size=self.world_size,
            rank=self.rank,
        )
        self.initialize_logging()
        return n_itr

    def _apply_affinity(self) -> None:
        """Pin this process and set its torch threads as the affinity asks; :meth:`shutdown`
        puts both back (a run started inside a notebook or a test leaves the process as it was).
        """
        cpus = self.affinity.get("master_cpus")
        if cpus and self.affinity.get("set_affinity", True):
            try:
                process = psutil.Process()
                previous = process.cpu_affinity()
                process.cpu_affinity(list(cpus))
                self._restore_cpus = previous
            except (AttributeError, OSError, ValueError) as e:  # not supported on this OS
                logger.log(f"could not set CPU affinity {cpus}: {e}")
        threads = self.affinity.get("master_torch_threads")
        if threads is not None:
            self._restore_threads = torch.get_num_threads()
            torch.set_num_threads(int(threads))

    def _restore_affinity(self) -> None:
        cpus, self._restore_cpus = getattr(self, "_restore_cpus", None), None
        if cpus is not None:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                psutil.Process().cpu_affinity(cpus)
        threads, self._restore_threads = getattr(self, "_restore_threads", None), None
        if threads is not None:
            torch.set_num_threads(threads)

    def get_traj_info_kwargs(self) -> dict:
        """Keyword arguments for every ``TrajInfo`` the sampler makes."""
        return dict(discount=getattr(self.algo, "discount", 1))

    def get_n_itr(self) -> int:
        """Iterations to run: ``n_steps`` in batches, rounded up to whole log intervals."""
        self.log_interval_itrs = max(self.log_interval_steps // self.itr_batch_size, 1)
        n_itr = max(math.ceil(self.n_steps / self.itr_batch_size), 1)
        self.n_itr = math.ceil(n_itr / self.log_interval_itrs) * self.log_interval_itrs
        return self.n_itr

    def initialize_logging(self) -> None:
        """Reset counters, timers and the window of recent trajectories."""
        self._opt_infos = {k: [] for k in getattr(self.algo, "opt_info_fields", ())}
        self._traj_infos: deque = deque(maxlen=getattr(self, "log_traj_window", None))
        self._cum_completed_trajs = 0
        self._cum_itrs = 0
        self._cum_train_time = 0.0  # wall time spent outside evaluation, summed over sessions
        self._cum_eval_time = 0.0
        self._last_time = self._session_start = time.time()
        self._last_update_counter = getattr(self.algo, "update_counter", 0)
        self._last_cum_itrs = 0
        self._pbar = None

    def shutdown(self) -> None:
        """Stop the sampler (workers, envs) and close the progress bar."""
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        self.sampler.shutdown()
        self._restore_affinity()

    def _open_progress_bar(self, n_itr: int, start_itr: int) -> None:
        self._pbar = tqdm(
            total=n_itr * self.itr_batch_size,
            initial=start_itr * self.itr_batch_size,
            unit="step",
            unit_scale=True,
            desc="training",
            disable=not self.progress_bar,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    # -- diagnostics ----------------------------------------------------------------------------

    def store_diagnostics(self, itr: int, traj_infos: Iterable, opt_info: Any) -> None:
        """Accumulate one iteration's completed trajectories and optimisation info."""
        traj_infos = list(traj_infos)
        self._cum_completed_trajs += len(traj_infos)
        self._traj_infos.extend(traj_infos)
        for k, values in self._opt_infos.items():
            new = getattr(opt_info, k, [])
            values.extend(new if isinstance(new, list) else [new])
        self._cum_itrs = itr + 1
        if self._pbar is not None:
            self._pbar.update(self.itr_batch_size)

    def log_diagnostics(
        self,
        itr: int,
        traj_infos: list | None = None,
        eval_time: float = 0.0,
        prefix: str = "Diagnostics/",
        save_snapshot: bool = True,
    ) -> None:
        """Write one row of diagnostics (rlpyt's columns) and save a snapshot."""
        now = time.time()
        train_time = max(now - self._last_time - eval_time, 1e-9)
        self._cum_train_time += train_time
        self._cum_eval_time += eval_time
        self._last_time = now
        update_counter = getattr(self.algo, "update_counter", 0)
        new_updates = update_counter - self._last_update_counter
        new_steps = (self._cum_itrs - self._last_cum_itrs) * self.itr_batch_size
        self._last_update_counter, self._last_cum_itrs = update_counter, self._cum_itrs
        cum_steps = self._cum_itrs * self.itr_batch_size
        algo_batch = getattr(self.algo, "batch_size", None) or self.itr_batch_size
        if save_snapshot and itr >= self.min_itr_learn - 1:
            self.save_itr_snapshot(itr)
        with logger.tabular_prefix(prefix):
            if self._eval:
                logger.record_tabular("CumTrainTime", self._cum_train_time)
            logger.record_tabular("Iteration", itr)
            logger.record_tabular("CumTime (s)", self._cum_train_time + self._cum_eval_time)
            logger.record_tabular("CumSteps", cum_steps)
            logger.record_tabular("CumCompletedTrajs", self._cum_completed_trajs)
            logger.record_tabular("CumUpdates", update_counter)
            logger.record_tabular("StepsPerSecond", new_steps / train_time)
            logger.record_tabular("UpdatesPerSecond", new_updates / train_time)
            logger.record_tabular(
                "ReplayRatio", new_updates * algo_batch / new_steps if new_steps else 0.0
            )
            logger.record_tabular(
                "CumReplayRatio", update_counter * algo_batch / cum_steps if cum_steps else 0.0
            )
        self._log_infos(traj_infos)
        logger.dump_tabular(with_prefix=False)
        if self._pbar is not None and self._traj_infos:
            self._pbar.set_postfix(
                Return=f"{_mean(info['Return'] for info in self._traj_infos):.4g}", refresh=False
            )

    def _log_infos(self, traj_infos: list | None = None) -> None:
        if traj_infos is None:
            traj_infos = list(self._traj_infos)
        if traj_infos:
            for k in traj_infos[0]:
                if not k.startswith("_"):
                    logger.record_tabular_misc_stat(k, [info[k] for info in traj_infos])
        for k, values in self._opt_infos.items():
            logger.record_tabular_misc_stat(k, values)
        self._opt_infos = {k: [] for k in self._opt_infos}

    # -- snapshots and resuming -----------------------------------------------------------------

    def get_itr_snapshot(self, itr: int) -> dict:
        """Everything needed to continue the run after iteration ``itr``.

        rlpyt's keys (``itr``, ``cum_steps``, ``agent_state_dict``, ``optimizer_state_dict``)
        plus the run state that exact resuming needs: counters, the trajectory window, RNG
        states and the sampler's state (the algorithm's schedule and update counter travel in
        its ``optim_state_dict``). Loads with
        ``torch.load(weights_only=True)``.
        """
        snapshot = dict(
            itr=itr,
            cum_steps=self._cum_itrs * self.itr_batch_size,
            agent_state_dict=self.agent.state_dict(),
            optimizer_state_dict=self.algo.optim_state_dict(),
            snapshot_format=SNAPSHOT_FORMAT,
            next_itr=self._cum_itrs,
            seed=self.seed,
            rng_states=get_rng_states(),
            runner_state=dict(
                cum_completed_trajs=self._cum_completed_trajs,
                cum_train_time=self._cum_train_time,
                cum_eval_time=self._cum_eval_time,
                traj_infos=[dict(info) for info in self._traj_infos],
            ),
        )
        if hasattr(self.agent, "runtime_state_dict"):
            snapshot["agent_runtime_state"] = self.agent.runtime_state_dict()
        if hasattr(self.sampler, "state_dict"):
            sampler_state = snapshot["sampler_state"] = self.sampler.state_dict()
            # Parallel samplers report the runtime state of the agent that acts for their
            # envs (in CpuSampler the workers' copies, not the master's agent): that is the
            # state to resume with, whichever sampler resumes.
            runtime = sampler_state.get("agent_runtime_state")
            if runtime is not None:
                snapshot["agent_runtime_state"] = runtime
        return snapshot

    def save_itr_snapshot(self, itr: int) -> None:
        """Save :meth:`get_itr_snapshot` through the logger (per its snapshot mode)."""
        logger.save_itr_params(itr, self.get_itr_snapshot(itr))

    def restore_snapshot(self, snapshot: Mapping) -> int:
        """Load a snapshot made by :meth:`get_itr_snapshot` into the started-up components.

        Returns:
            The iteration to continue from.
        """
        if snapshot.get("snapshot_format") != SNAPSHOT_FORMAT:
            raise ValueError(
                f"snapshot format {snapshot.get('snapshot_format')!r} cannot be resumed by this "
                f"version (expected {SNAPSHOT_FORMAT}); load agent_state_dict by hand instead"
            )
        self.agent.load_state_dict(snapshot["agent_state_dict"])
        self.algo.load_optim_state_dict(snapshot["optimizer_state_dict"])
        if "agent_runtime_state" in snapshot:
            self.agent.load_runtime_state_dict(snapshot["agent_runtime_state"])
        if "sampler_state" in snapshot and hasattr(self.sampler, "load_state_dict"):
            self.sampler.load_state_dict(snapshot["sampler_state"])
        state = snapshot["runner_state"]
        self._cum_completed_trajs = state["cum_completed_trajs"]
        self._cum_train_time = state["cum_train_time"]
        self._cum_eval_time = state["cum_eval_time"]
        traj_info_cls = getattr(self.sampler, "TrajInfoCls", dict)
        self._traj_infos.extend(_rebuild_traj_info(traj_info_cls, d) for d in state["traj_infos"])
        self._cum_itrs = self._last_cum_itrs = snapshot["next_itr"]
        self._last_update_counter = getattr(self.algo, "update_counter", 0)
        set_rng_states(snapshot["rng_states"])  # last: start-up above consumed random numbers
        return snapshot["next_itr"]

    def _resume(self, resume_from: str | Mapping | None, n_itr: int) -> int:
        if resume_from is None:
            return 0
        snapshot = resume_from
        if not isinstance(resume_from, Mapping):
            snapshot = logger.load_snapshot(resume_from)
        if snapshot.get("seed") is not None and snapshot["seed"] != self.seed:
            logger.log(f"resuming a run seeded {snapshot['seed']} (this runner's seed {self.seed})")
        start_itr = self.restore_snapshot(snapshot)
        logger.log(f"resumed from iteration {start_itr - 1}; continuing to {n_itr - 1}")
        return start_itr

    # -- the loop -------------------------------------------------------------------------------

    def _train_itr(self, itr: int) -> None:
        self.agent.sample_mode(itr)
        samples, traj_infos = self.sampler.obtain_samples(itr)
        self.agent.train_mode(itr)
        opt_info = self.algo.optimize_agent(itr, samples)
        self.store_diagnostics(itr, traj_infos, opt_info)


class MinibatchRl(MinibatchRlBase):
    """Serial-optimisation runner logging statistics of recent training trajectories.

    Diagnostics average over the last ``log_traj_window`` completed trajectories.

    Args:
        log_traj_window: trajectories kept for the Return/Length statistics.
        **kwargs: see :class:`MinibatchRlBase`.
    """

    def __init__(self, *args: Any, log_traj_window: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log_traj_window = int(log_traj_window)

    def train(self, resume_from: str | Mapping | None = None) -> None:
        """Run ``n_steps`` environment steps of training.

        Args:
            resume_from: a run directory, snapshot file or loaded snapshot dict; training
                continues after its iteration, with the same RNG streams, env states (when the
                sampler can save them), optimiser and schedules.
        """
        n_itr = self.startup()
        try:
            start_itr = self._resume(resume_from, n_itr)
            self._open_progress_bar(n_itr, start_itr)
            for itr in range(start_itr, n_itr):
                logger.set_iteration(itr)
                with logger.prefix(f"itr #{itr} "):
                    self._train_itr(itr)
                    if (itr + 1) % self.log_interval_itrs == 0:
                        self.log_diagnostics(itr)
        finally:
            self.shutdown()


class MinibatchRlEval(MinibatchRlBase):
    """Serial-optimisation runner that evaluates the agent offline at every log interval.

    Evaluation runs the sampler's eval envs with the agent in eval mode (``eval_n_envs``,
    ``eval_max_steps``, ``eval_max_trajectories`` on the sampler); the logged trajectory
    statistics come from evaluation only. The agent is also evaluated before training.
    """

    _eval = True

    def train(self, resume_from: str | Mapping | None = None) -> None:
        """Run ``n_steps`` environment steps of training; see :meth:`MinibatchRl.train`."""
        n_itr = self.startup()
        try:
            start_itr = self._resume(resume_from, n_itr)
            self._open_progress_bar(n_itr, start_itr)
            if start_itr == 0:
                with logger.prefix("itr #0 "):
                    eval_traj_infos, eval_time = self.evaluate_agent(0)
                    self.log_diagnostics(0, eval_traj_infos, eval_time, save_snapshot=False)
            for itr in range(start_itr, n_itr):
                logger.set_iteration(itr)
                with logger.prefix(f"itr #{itr} "):
                    self._train_itr(itr)
                    if (itr + 1) % self.log_interval_itrs == 0:
                        eval_traj_infos, eval_time = self.evaluate_agent(itr)
                        self.log_diagnostics(itr, eval_traj_infos, eval_time)
        finally:
            self.shutdown()

    def evaluate_agent(self, itr: int) -> tuple[list, float]:
        """Run the sampler's evaluation; returns its trajectory infos and the time it took."""
        start = time.time()
        self.agent.eval_mode(itr)
        traj_infos = self.sampler.evaluate_agent(itr)
        return traj_infos, time.time() - start

    def log_diagnostics(self, itr: int, eval_traj_infos=None, eval_time: float = 0.0, **kwargs):
        """Log as the base runner, plus evaluation counts and times."""
        if not eval_traj_infos:
            logger.log("WARNING: evaluation completed no trajectory; raise eval_max_steps")
        steps_in_eval = sum(info["Length"] for info in eval_traj_infos or [])
        with logger.tabular_prefix("Diagnostics/"):
            logger.record_tabular("StepsInEval", steps_in_eval)
            logger.record_tabular("TrajsInEval", len(eval_traj_infos or []))
            logger.record_tabular("CumEvalTime", self._cum_eval_time + eval_time)
        super().log_diagnostics(itr, eval_traj_infos or [], eval_time, **kwargs)


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _rebuild_traj_info(cls: type, values: Mapping) -> Any:
    info = cls.__new__(cls) if isinstance(cls, type) and issubclass(cls, dict) else {}
    info.update(values)
    return info
