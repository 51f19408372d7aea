"""The machinery between the async runner and its sampler process.

- :class:`AsyncControl`: shared flags, counters and the double buffer's semaphores.
- :class:`ReplayRatioSchedule`: how many updates the optimizer may have made once ``c`` batches
  of this session are in the replay; both sides throttle by it.
- :func:`run_async_sampler`: the body of the sampler process.
- :class:`MemoryCopier`: the thread of the training process that appends finished batches to
  the replay buffer, in sampling order.

Double buffer protocol (batch ``itr`` uses half ``db = itr % 2``): the sampler acquires
``sample_copied[db]`` (the half is free), writes the batch, releases ``sample_ready[db]``; the
copier acquires ``sample_ready[db]``, appends the batch to the replay, releases
``sample_copied[db]``. Every wait is cut in 0.5 s slices between which the waiter checks the
other side (quit flag, parent alive), so nothing waits forever.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from rlpyt.samplers.async_.base import POLL_S
from rlpyt.samplers.parallel.worker import _MasterWatch, _prepare_process

__all__ = ["AsyncControl", "MemoryCopier", "ReplayRatioSchedule", "run_async_sampler"]

# How often a throttled sampler looks at the optimizer's progress.
THROTTLE_POLL_S = 0.002


class AsyncControl:
    """Shared state of one async run (built by the runner from the sampler's context).

    Attributes:
        quit: set by the runner to stop the sampler (and copier) early.
        sample_ready, sample_copied: per half of the double buffer (see the module doc).
        sampler_itr: batches the sampler has finished (global count, across resumes).
        opt_progress: the optimizer's progress in updates (what the sampler throttles on).
        sampler_wait: seconds the sampler has waited for the optimizer (throttled).
        reader, writer: a one-way pipe from the sampler process to the runner carrying
            ``("ready", pid)``, ``("traj", itr, infos)``,
            ``("eval", itr, infos, seconds, before_training)``,
            ``("done", n_itr)`` and ``("error", text)``.
    """

    def __init__(self, ctx: Any) -> None:
        self.quit = ctx.RawValue(ctypes.c_bool, False)
        self.sample_ready = [ctx.Semaphore(0) for _ in range(2)]
        self.sample_copied = [ctx.Semaphore(1) for _ in range(2)]
        self.sampler_itr = ctx.RawValue(ctypes.c_int64, 0)
        self.opt_progress = ctx.RawValue(ctypes.c_double, 0.0)
        self.sampler_wait = ctx.RawValue(ctypes.c_double, 0.0)
        self.reader, self.writer = ctx.Pipe(duplex=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["reader"] = None  # the sampler process only writes
        return state


@dataclass(frozen=True)
class ReplayRatioSchedule:
    """The updates the optimizer may have made once ``c`` batches of this session are in the
    replay: ``start_updates + max(0, c - learn_start) * updates_per_itr``.

    ``updates_per_itr = replay_ratio * sampler_batch_size / algo_batch_size`` (each stored
    step is trained on ``replay_ratio`` times on average), and ``learn_start`` is the
    algorithm's ``min_itr_learn``: as in ``MinibatchRl``, updates begin with the batch after
    ``min_steps_learn`` steps. Counted per session, so a resumed run (whose replay starts
    empty) refills ``min_steps_learn`` steps before training again.

    The optimizer makes an ``optimize_agent`` call while its progress is below
    ``credit(copied)``; the sampler may start session batch ``i`` only once the optimizer's
    progress has reached ``credit(i - max_lead)`` (``max_lead=None``: never waits).
    """

    updates_per_itr: float
    learn_start: int
    start_updates: float = 0.0
    max_lead: int | None = 2

    def credit(self, n_batches: int) -> float:
        return self.start_updates + max(0, n_batches - self.learn_start) * self.updates_per_itr

    def sampler_may_start(self, session_itr: int, progress: float) -> bool:
        if self.max_lead is None:
            return True
        return progress >= self.credit(session_itr - self.max_lead)


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}\n{traceback.format_exc()}"


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(f"signal {signum}")


class _SamplerLoop:
    """The sampler process's work: batches into the double buffer, evaluations, messages."""

    def __init__(self, sampler: Any, ctrl: Any, schedule: ReplayRatioSchedule) -> None:
        self.sampler = sampler
        self.ctrl = ctrl
        self.schedule = schedule
        self.watch = _MasterWatch()

    def running(self) -> bool:
        return not self.ctrl.quit.value and self.watch.alive()

    def acquire(self, semaphore: Any) -> bool:
        while not semaphore.acquire(timeout=POLL_S):
            if not self.running():
                return False
        return True

    def throttle(self, session_itr: int) -> bool:
        """Wait until the optimizer is close enough; False if asked to stop meanwhile."""
        start = time.monotonic()
        next_check = start + POLL_S
        ctrl, schedule = self.ctrl, self.schedule
        while not schedule.sampler_may_start(session_itr, ctrl.opt_progress.value):
            time.sleep(THROTTLE_POLL_S)
            if time.monotonic() > next_check:
                if not self.running():
                    return False
                next_check += POLL_S
        ctrl.sampler_wait.value += time.monotonic() - start
        return True

    def evaluate(self, itr: int, initial: bool = False) -> None:
        start = time.monotonic()
        traj_infos = self.sampler.evaluate_agent(itr)
        self.ctrl.writer.send(("eval", itr, traj_infos, time.monotonic() - start, initial))

    def run(self, start_itr: int, n_itr: int, eval_interval: int) -> None:
        ctrl, sampler = self.ctrl, self.sampler
        if eval_interval and start_itr == 0:
            self.evaluate(0, initial=True)  # the agent before training
        for itr in range(start_itr, n_itr):
            db = itr % 2
            if not self.acquire(ctrl.sample_copied[db]) or not self.throttle(itr - start_itr):
                return
            if ctrl.quit.value:
                return
            traj_infos = sampler.obtain_samples(itr, db)
            ctrl.sample_ready[db].release()
            ctrl.sampler_itr.value = itr + 1
            ctrl.writer.send(("traj", itr, traj_infos))
            if eval_interval and (itr + 1) % eval_interval == 0:
                self.evaluate(itr)
        ctrl.writer.send(("done", n_itr))


def run_async_sampler(
    sampler: Any,
    affinity: dict[str, Any],
    ctrl: AsyncControl,
    schedule: ReplayRatioSchedule,
    start_itr: int,
    n_itr: int,
    eval_interval: int,
    seed: int,
) -> None:
    """Body of the sampler process (the ``target`` the runner starts).

    Prepares the process as parallel-sampler workers are prepared (SIGINT ignored, SIGTERM
    when the runner dies, torch threads ``master_torch_threads``, CPU affinity
    ``master_cpus``), turns SIGTERM into ``SystemExit`` so its own workers are shut down on the
    way out, initializes the sampler, then samples batches ``start_itr .. n_itr - 1`` (and
    evaluates every ``eval_interval`` batches, and first at 0, if ``eval_interval``). Any
    exception is sent to the runner as ``("error", text)`` and ends the process with code 1.
    """
    loop = None
    try:
        _prepare_process(
            dict(
                cpus=affinity.get("master_cpus"),
                torch_threads=affinity.get("master_torch_threads") or 1,
                set_affinity=affinity.get("set_affinity", True),
                global_seed=int(np.random.SeedSequence([int(seed), 3]).generate_state(1)[0]),
            )
        )
        signal.signal(signal.SIGTERM, _raise_exit)
        loop = _SamplerLoop(sampler, ctrl, schedule)
        sampler.initialize(affinity)
        ctrl.writer.send(("ready", os.getpid()))
        loop.run(start_itr, n_itr, eval_interval)
    except SystemExit:
        raise
    except BaseException as e:
        try:
            ctrl.writer.send(("error", _error_text(e)))
        except (OSError, EOFError, ValueError):
            pass
        raise SystemExit(1) from None
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM just ends us
        try:
            sampler.shutdown()
        finally:
            ctrl.writer.close()


class MemoryCopier(threading.Thread):
    """Appends each finished batch of the double buffer to the replay buffer, in order.

    A daemon thread of the training process: one thread taking the halves in sampling order
    keeps the replay's ring contiguous (its n-step returns span batch boundaries). The
    append, ``replay.append_samples(samples_to_buffer(samples))``, holds the async buffer's
    write lock. Exceptions are kept in :attr:`error` (the runner raises them).

    Args:
        ctrl: the run's :class:`AsyncControl`.
        double_buffer: the two torch samples buffers (views of the shared halves).
        samples_to_buffer: the algorithm's ``samples_to_buffer``.
        replay: the algorithm's async replay buffer.
        first_itr, n_batches: the global index of the session's first batch, and how many.
    """

    def __init__(
        self,
        ctrl: AsyncControl,
        double_buffer: tuple[Any, Any],
        samples_to_buffer: Any,
        replay: Any,
        first_itr: int,
        n_batches: int,
    ) -> None:
        super().__init__(name="rlpyt-memory-copier", daemon=True)
        self.ctrl = ctrl
        self.double_buffer = double_buffer
        self.samples_to_buffer = samples_to_buffer
        self.replay = replay
        self.first_itr = first_itr
        self.n_batches = n_batches
        self.copied = 0  # batches appended so far (only this thread writes it)
        self.error: str | None = None
        self.new_data = threading.Event()  # set after every append (and on error)
        self.stop = threading.Event()

    def run(self) -> None:
        ctrl = self.ctrl
        try:
            for i in range(self.n_batches):
                db = (self.first_itr + i) % 2
                while not ctrl.sample_ready[db].acquire(timeout=POLL_S):
                    if self.stop.is_set():
                        return
                self.replay.append_samples(self.samples_to_buffer(self.double_buffer[db]))
                ctrl.sample_copied[db].release()
                self.copied += 1
                self.new_data.set()
        except BaseException as e:
            self.error = _error_text(e)
            self.new_data.set()
