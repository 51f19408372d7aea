"""Process and shared-memory inspection helpers and fake envs for the parallel-sampler tests."""

from __future__ import annotations

import gc
import os
import time

import numpy as np
import psutil

from rlpyt.envs.base import EnvStep
from rlpyt.spaces.composite import Composite
from rlpyt.spaces.float_box import FloatBox
from rlpyt.utils.collections import namedarraytuple
from tests.fakes import CountingEnv

# Long-lived helpers multiprocessing starts for itself (not sampler workers).
_MP_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")


def our_children() -> list[psutil.Process]:
    """Child processes of this process (zombies included), without multiprocessing's own
    forkserver and resource-tracker helpers."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            cmdline = ""
        except psutil.AccessDenied:
            cmdline = ""
        if not any(helper in cmdline for helper in _MP_HELPERS):
            found.append(child)
    return found


def rlpyt_blocks() -> tuple[list[str], list[str]]:
    """Descriptors and mappings of this process that point at rlpyt shared-memory blocks."""
    gc.collect()
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "rlpyt-buffer" in target:
            fds.append(target)
    with open("/proc/self/maps") as f:
        maps = [line for line in f if "rlpyt-buffer" in line]
    return sorted(fds), maps


def dev_shm_held() -> set[str]:
    """Named ``/dev/shm`` files this process has open or mapped (e.g. named semaphores).

    Unlinked ones (``(deleted)``, e.g. multiprocessing's process-lifetime heap arena) leave
    nothing behind and are not counted."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/dev/shm/") and not target.endswith("(deleted)"):
            held.add(target)
    with open("/proc/self/maps") as f:
        for line in f:
            if "/dev/shm/" in line and not line.rstrip().endswith("(deleted)"):
                held.add(line.split()[-1])
    return held


def dev_shm() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def lasting_new_entries(before: set[str]) -> set[str]:
    """Entries of ``/dev/shm`` not in ``before`` that are still there a moment later, except
    multiprocessing's named semaphores (``sem.mp-*``), which other test processes running at
    the same time make and remove; ours are caught by :func:`dev_shm_held` instead."""
    new = {name for name in dev_shm() - before if not name.startswith("sem.mp-")}
    time.sleep(0.2)
    return {name for name in new if os.path.exists(os.path.join("/dev/shm", name))}


class BlockingEnv(CountingEnv):
    """A counting env that blocks (sleeps) at step ``block_at`` if its seed is in
    ``block_seeds``, after creating the file ``marker/<pid>`` so a test knows it is there."""

    def __init__(self, block_at: int, block_seeds: tuple[int, ...], marker: str, **kwargs):
        super().__init__(**kwargs)
        self.block_at = block_at
        self.block_seeds = tuple(block_seeds)
        self.marker = marker
        self._seed = None

    def step(self, action):
        step = super().step(action)
        if self.k == self.block_at and self._seed in self.block_seeds:
            with open(os.path.join(self.marker, str(os.getpid())), "w"):
                pass
            time.sleep(600)
        return step


class FailingEnv(CountingEnv):
    """A counting env that raises ``ValueError`` at step ``fail_at`` if its seed is in
    ``fail_seeds`` (``None``: every env)."""

    def __init__(self, fail_at: int, fail_seeds: tuple[int, ...] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.fail_at = fail_at
        self.fail_seeds = fail_seeds
        self._seed = None

    def step(self, action) -> EnvStep:
        step = super().step(action)
        if self.k == self.fail_at and (self.fail_seeds is None or self._seed in self.fail_seeds):
            raise ValueError(f"env with seed {self._seed} exploded at step {self.k}")
        return step


class BrokenConstructorEnv(CountingEnv):
    """An env whose constructor raises in worker processes (but not in the test process)."""

    def __init__(self, master_pid: int, **kwargs):
        if os.getpid() != master_pid:
            raise OSError("no emulator licence in this process")
        super().__init__(**kwargs)


PairObs = namedarraytuple("PairObs", ["pos", "vel"])


class PairObsEnv(CountingEnv):
    """A counting env with a two-part observation ``PairObs(pos=[k, k], vel=-k)``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._observation_space = Composite(
            [FloatBox(0, np.inf, (2,)), FloatBox(-np.inf, 0, ())], PairObs
        )

    def _pair(self, obs):
        return PairObs(pos=obs, vel=np.float32(-obs[0]))

    def reset(self):
        return self._pair(super().reset())

    def step(self, action) -> EnvStep:
        o, r, d, info = super().step(action)
        return EnvStep(self._pair(o), r, d, info)
