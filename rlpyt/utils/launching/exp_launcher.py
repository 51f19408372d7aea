"""``run_experiments``: run a train script for every variant and seed, on this machine's run slots.

Each run is a separate process, ``python <script> <slot_affinity_code> <log_dir> <run_ID>
*common_args *run_args``, started as soon as one of the affinity code's run slots is free and
pinned to that slot's CPUs. The layout on disk (``{data}`` is ``$RLPYT_DATA_DIR`` or ``./data``)::

    {data}/local/<yyyymmdd>/<experiment_title>/
        experiments_tree.txt          the settings and runs_per_setting
        num_launched.txt              progress of the queue
        <log_dir>/variant_config.json one per setting (``log_dirs`` from ``make_variants``)
        <log_dir>/run_<ID>/           written by the train script (``logger_context``):
                                      progress.csv, params.json, debug.log, snapshots

A run that fails is logged with its exit code and command and does not stop the others.
Ctrl-C (or SIGTERM/SIGHUP) stops every run: each gets SIGINT (runners end cleanly and keep
their snapshot), then SIGTERM, then SIGKILL, sent to its whole process group (its sampler
workers included).
"""

from __future__ import annotations

import datetime
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rlpyt.utils.launching.affinity import (
    _available_cpus,
    affinity_from_code,
    decode_affinity,
    get_n_run_slots,
    prepend_run_slot,
)
from rlpyt.utils.launching.variant import save_variant
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import get_log_dir

ExperimentRun = namedtuple("ExperimentRun", ["log_dir", "run_ID", "run_slot", "returncode", "call"])
ExperimentRun.__doc__ = """The outcome of one run: ``returncode`` 0 on success, negative if killed
by a signal, ``None`` if it was stopped by an interruption of the launcher."""

_SIGNAL_GRACE_S = 5.0  # after SIGTERM, and after SIGKILL


def launch_experiment(
    script: str,
    run_slot: int,
    affinity_code: str,
    log_dir: str,
    variant: Mapping,
    run_ID: int,
    args: Sequence[Any],
    python_executable: str | None = None,
    set_egl_device: bool = False,
) -> subprocess.Popen:
    """Start one run of ``script`` in run slot ``run_slot``, without waiting for it.

    Writes ``variant`` to ``<log_dir>/variant_config.json`` first. The process gets its own
    process group (so it can be stopped with its workers) and is pinned to the slot's CPUs
    (with ``taskset`` where installed, else ``sched_setaffinity`` right after start) unless the
    code says ``0saf``. CPU numbers the process may not use are mapped onto those it may.

    Args:
        script: path of the train script.
        run_slot: the slot, ``0 <= run_slot < get_n_run_slots(affinity_code)``.
        affinity_code: the code without run slot (from ``encode_affinity``).
        log_dir: directory of the setting; the script logs into ``<log_dir>/run_<run_ID>``.
        variant: the setting's config changes.
        run_ID: run number (seed index) within the setting.
        args: further command-line arguments (``common_args`` then ``run_args``).
        python_executable: interpreter; defaults to this one.
        set_egl_device: set ``EGL_DEVICE_ID`` to the run's GPU (headless MuJoCo rendering).

    Returns:
        The started process.
    """
    slot_code = prepend_run_slot(run_slot, affinity_code)
    affinity = affinity_from_code(slot_code)
    python = python_executable or sys.executable or "python"
    call = [python, script, slot_code, log_dir, str(run_ID), *(str(a) for a in args)]
    cpus = _on_available_cpus(_run_cpus(affinity))
    taskset = shutil.which("taskset") if cpus else None
    prefix = [taskset, "-c", ",".join(map(str, cpus))] if taskset else []
    env = os.environ.copy()
    cuda_idx = _first_cuda_idx(affinity)
    if set_egl_device and cuda_idx is not None:
        env["EGL_DEVICE_ID"] = str(cuda_idx)
    save_variant(variant, log_dir)
    logger.log(f"launching run slot {run_slot}: {shlex.join(prefix + call)}")
    proc = subprocess.Popen(prefix + call, env=env, start_new_session=True)
    if cpus and not taskset:
        _pin(proc.pid, cpus)
    return proc


def run_experiments(
    script: str,
    affinity_code: str,
    experiment_title: str,
    runs_per_setting: int,
    variants: Sequence[Mapping],
    log_dirs: Sequence[str],
    common_args: Sequence[Any] | None = None,
    runs_args: Sequence[Sequence[Any]] | None = None,
    set_egl_device: bool = False,
    *,
    python_executable: str | None = None,
    poll_interval: float = 0.5,
    stop_timeout: float = 10.0,
) -> list[ExperimentRun]:
    """Run ``script`` ``runs_per_setting`` times for every variant, stacked onto free run slots.

    Runs are queued in order ``run_ID`` 0 of every setting, then ``run_ID`` 1, ...; at most
    ``get_n_run_slots(affinity_code)`` run at once. Returns when all have ended.

    Args:
        script: path of the train script (called as described in the module docstring).
        affinity_code: the machine's code (``encode_affinity`` / ``quick_affinity_code``).
        experiment_title: the experiment's directory under ``{data}/local/<yyyymmdd>/``.
        runs_per_setting: runs of each variant (``run_ID`` 0 to ``runs_per_setting - 1``).
        variants: one config-change dict per setting (from ``make_variants``).
        log_dirs: the settings' directories, relative to the experiment's.
        common_args: arguments given to every run after ``run_ID`` (e.g. a config key).
        runs_args: per-setting arguments, after ``common_args``.
        set_egl_device: set ``EGL_DEVICE_ID`` to each run's GPU.
        python_executable: interpreter for the runs; defaults to this one.
        poll_interval: seconds between checks for ended runs.
        stop_timeout: seconds the runs get to end after SIGINT when the launcher is stopped.

    Returns:
        One :class:`ExperimentRun` per run, in the order they ended.
    """
    if len(variants) != len(log_dirs):
        raise ValueError(f"{len(variants)} variants but {len(log_dirs)} log_dirs")
    runs_args = [()] * len(variants) if runs_args is None else list(runs_args)
    if len(runs_args) != len(variants):
        raise ValueError(f"{len(variants)} variants but {len(runs_args)} runs_args")
    if runs_per_setting < 1:
        raise ValueError(f"runs_per_setting must be >= 1, got {runs_per_setting}")
    common_args = tuple(common_args or ())
    n_slots = get_n_run_slots(affinity_code)
    _warn_missing_gpus(affinity_code)
    exp_dir = get_log_dir(experiment_title)
    os.makedirs(exp_dir, exist_ok=True)
    _write_tree(exp_dir, log_dirs, runs_per_setting)
    queue = [
        (run_ID, variant, os.path.normpath(os.path.join(exp_dir, log_dir)), tuple(run_args))
        for run_ID in range(runs_per_setting)
        for variant, log_dir, run_args in zip(variants, log_dirs, runs_args)
    ]
    slots: list[_Running | None] = [None] * n_slots
    results: list[ExperimentRun] = []
    interrupts = _Interrupts()
    with _on_signals(interrupts.handler, ("SIGINT", "SIGTERM", "SIGHUP")):
        try:
            for n_launched, (run_ID, variant, log_dir, run_args) in enumerate(queue, 1):
                slot = _wait_free_slot(slots, results, poll_interval)
                with interrupts.deferred():  # a started run is always recorded in its slot
                    proc = launch_experiment(
                        script, slot, affinity_code, log_dir, variant, run_ID,
                        common_args + run_args, python_executable=python_executable,
                        set_egl_device=set_egl_device,
                    )  # fmt: skip
                    slots[slot] = _Running(proc, log_dir, run_ID, slot, proc.args)
                _write_num_launched(exp_dir, n_launched, len(queue))
            while any(slots):
                _reap(slots, results)
                if any(slots):
                    time.sleep(poll_interval)
        except BaseException:
            interrupts.stopping = True  # from here a signal only hurries the stop
            running = [r for r in slots if r is not None]
            logger.log(f"run_experiments interrupted: stopping {len(running)} run(s)")
            _stop_all(running, stop_timeout, interrupts.hurry)
            raise
    failed = [r for r in results if r.returncode != 0]
    logger.log(
        f"run_experiments {experiment_title!r}: {len(results) - len(failed)} of "
        f"{len(results)} runs succeeded"
        + "".join(
            f"\n  FAILED: {r.log_dir} run_{r.run_ID} ({_exit_text(r.returncode)})" for r in failed
        )
    )
    return results


# -- the queue ------------------------------------------------------------------------------

_Running = namedtuple("_Running", ["proc", "log_dir", "run_ID", "run_slot", "call"])


def _wait_free_slot(
    slots: list[_Running | None], results: list[ExperimentRun], poll_interval: float
) -> int:
    while True:
        _reap(slots, results)
        if None in slots:
            return slots.index(None)
        time.sleep(poll_interval)


def _reap(slots: list[_Running | None], results: list[ExperimentRun]) -> None:
    for i, run in enumerate(slots):
        if run is None or run.proc.poll() is None:
            continue
        slots[i] = None
        code = run.proc.returncode
        results.append(ExperimentRun(run.log_dir, run.run_ID, run.run_slot, code, run.call))
        if code != 0:
            logger.log(
                f"run {run.run_ID} of {run.log_dir} (slot {run.run_slot}) FAILED, "
                f"{_exit_text(code)}: {shlex.join(map(str, run.call))}"
            )


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# -- stopping -------------------------------------------------------------------------------


class _Interrupts:
    """The launcher's handler for SIGINT, SIGTERM and SIGHUP.

    It raises ``KeyboardInterrupt`` (SIGINT) or ``SystemExit(128 + signum)``; inside
    :meth:`deferred` it holds the signal back until the block ends; once ``stopping`` is set it
    only sets ``hurry`` (the runs are being stopped: go straight to SIGKILL).
    """

    def __init__(self) -> None:
        self.stopping = False
        self.hurry = threading.Event()
        self._deferring = False
        self._pending: int | None = None

    def handler(self, signum: int, frame: Any) -> None:
        if self.stopping:
            self.hurry.set()
        elif self._deferring:
            self._pending = signum
        else:
            self._raise(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self._pending is not None:
            self._raise(self._pending)

    @staticmethod
    def _raise(signum: int) -> None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)


@contextmanager
def _on_signals(handler: Callable[[int, Any], None], names: Sequence[str]) -> Iterator[None]:
    """Install ``handler`` for the named signals while inside (main thread only; else no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for name in names:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _stop_all(running: Sequence[_Running], stop_timeout: float, hurry: threading.Event) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to every run's process group until all have ended.

    Once ``hurry`` is set (a further Ctrl-C), the remaining stages are skipped but SIGKILL.
    """
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    stages = [(signal.SIGINT, stop_timeout), (signal.SIGTERM, _SIGNAL_GRACE_S)]
    for sig, wait_s in [*stages, (kill, _SIGNAL_GRACE_S)]:
        alive = [r for r in running if r.proc.poll() is None]
        if not alive:
            break
        if hurry.is_set() and sig != kill:
            continue
        for run in alive:
            _signal_group(run.proc, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not (hurry.is_set() and sig != kill):
            if all(r.proc.poll() is not None for r in alive):
                break
            time.sleep(0.05)
    for run in running:
        # The leaders have ended (and been reaped); their groups may still hold orphaned
        # workers. A group outlives its leader, so its id is not reused while it has any.
        _signal_group(run.proc, kill)
        try:
            run.proc.wait(timeout=_SIGNAL_GRACE_S)
        except subprocess.TimeoutExpired:  # unkillable (e.g. stuck in the kernel)
            logger.log(f"run {run.run_ID} of {run.log_dir}: pid {run.proc.pid} did not end")


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)  # start_new_session: the group id is the leader's pid
        elif proc.poll() is None:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


# -- CPUs, GPUs and bookkeeping -------------------------------------------------------------


def _run_cpus(affinity: Any) -> tuple[int, ...]:
    """Every CPU of a run (all its GPUs' parts), or ``()`` if the code says not to pin."""
    parts = affinity if isinstance(affinity, list) else [affinity]
    if not all(part.get("set_affinity", True) for part in parts):
        return ()
    cpus: dict[int, None] = {}
    for part in parts:
        cpus.update(dict.fromkeys(part.get("all_cpus", ())))
    return tuple(cpus)


def _on_available_cpus(cpus: tuple[int, ...]) -> tuple[int, ...]:
    """``cpus`` if this process may use them all; else mapped onto those it may (modulo)."""
    available = _available_cpus()
    if not cpus or set(cpus) <= set(available):
        return cpus
    mapped = tuple(dict.fromkeys(available[c % len(available)] for c in cpus))
    logger.log(f"CPUs {list(cpus)} not all available here; pinning to {list(mapped)}")
    return mapped


def _pin(pid: int, cpus: tuple[int, ...]) -> None:
    try:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(pid, cpus)
        else:
            import psutil

            psutil.Process(pid).cpu_affinity(list(cpus))
    except (AttributeError, OSError, ValueError, ImportError) as e:  # e.g. macOS: no pinning
        logger.log(f"could not pin process {pid} to CPUs {list(cpus)}: {e}")


def _first_cuda_idx(affinity: Any) -> int | None:
    if isinstance(affinity, list):
        return affinity[0].get("cuda_idx")
    if "optimizer" in affinity:
        return affinity["optimizer"][0].get("cuda_idx")
    return affinity.get("cuda_idx")


def _warn_missing_gpus(affinity_code: str) -> None:
    n_gpu = decode_affinity(affinity_code).get("gpu", 0)
    if n_gpu > 0:
        import torch

        if torch.cuda.device_count() < n_gpu:
            logger.log(
                f"affinity code {affinity_code!r} asks for {n_gpu} GPUs; this machine has "
                f"{torch.cuda.device_count()}: runs on a missing GPU will fail"
            )


def _write_tree(exp_dir: str, log_dirs: Sequence[str], runs_per_setting: int) -> None:
    lines = [
        f"started: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"runs_per_setting: {runs_per_setting}",
        f"settings ({len(log_dirs)}):",
        *(f"  {d or '.'}" for d in log_dirs),
    ]
    with open(os.path.join(exp_dir, "experiments_tree.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def _write_num_launched(exp_dir: str, n_launched: int, total: int) -> None:
    with open(os.path.join(exp_dir, "num_launched.txt"), "w") as f:
        f.write(f"{n_launched} of {total} runs launched\n")
