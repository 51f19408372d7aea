"""The replica processes of a local `SyncRl` run: starting a child replica (its entry point
and signals), rank 0's view of its children (liveness, failures, shut-down, stack reports)
and the object collectives over the process group. Used by ``rlpyt.runners.sync_rl``."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime
import faulthandler
import multiprocessing.util as mp_util
import os
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

import torch
import torch.distributed as dist

from rlpyt.utils.logging import logger
from rlpyt.utils.synchronize import find_port

__all__ = ["ChildReplica", "ReplicaError", "Replicas", "master_store", "replica_main"]

READY_KEY = "rlpyt_sync_rl/ready/{}"
POLL_S = 0.05
_EXIT_GRACE_S = 2.0  # after SIGTERM (then SIGKILL): children's time to exit
_FINISH_TIMEOUT_S = 120.0  # children's time to shut down after the last iteration
_STACK_DUMP_AFTER_S = 30.0  # a child still not exited then reports its threads' stacks
_STACKS_FILE: Any = None  # a child's open file for those stacks
_ERROR_CHARS = 16000  # longest traceback a child sends (a pipe holds 64 KiB unread)
_PR_SET_PDEATHSIG = 1


class ReplicaError(RuntimeError):
    """A replica process of a local ``SyncRl`` run died or raised.

    Raised by rank 0 within about a second of the failure (Gloo): at the next collective, which
    fails when a peer's connections close, or at the next iteration's liveness check.

    Args:
        rank: the replica's rank.
        pid: its process id.
        cause: what happened (exit code, signal, or the replica's traceback).
    """

    def __init__(self, rank: int, pid: int | None, cause: str) -> None:
        super().__init__(f"SyncRl replica {rank} (pid {pid}) {cause}")
        self.rank = rank
        self.pid = pid


# -- the replicas of one run, seen from one process -----------------------------------------------


class ChildReplica:
    """Rank 0's record of one child replica: its process and the read end of its error pipe."""

    def __init__(self, rank: int, process: Any, conn: Any) -> None:
        self.rank = rank
        self.process = process
        self.pid = process.pid
        self.conn = conn

    def failure(self) -> ReplicaError | None:
        """The child's failure, if it has reported one or exited with a nonzero code."""
        with contextlib.suppress(EOFError, OSError):
            if self.conn.poll():
                return ReplicaError(self.rank, self.pid, f"raised:\n{self.conn.recv()}")
        code = self.process.exitcode
        if code is None or code == 0:
            return None
        if code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return ReplicaError(self.rank, self.pid, f"{how} (see its output above)")


class Replicas:
    """One process's view of the run's replicas: rank, world size, the process groups and, in
    rank 0 of a local run, the child processes.

    Args:
        rank, world_size: this replica's rank and the number of replicas.
        backend: ``"nccl"`` or ``"gloo"``.
        owns_group: destroy the default process group on :meth:`close` (not when the user
            initialised it).
    """

    def __init__(self, rank: int, world_size: int, backend: str, owns_group: bool = True) -> None:
        self.rank = rank
        self.world_size = world_size
        self.backend = backend
        self.owns_group = owns_group
        self.children: list[ChildReplica] = []
        self.object_group: Any = None  # Gloo group for Python objects (None: the default)

    def init_group(self, timeout: datetime.timedelta, **kwargs: Any) -> None:
        """Initialise the default process group (``init_process_group(**kwargs)``)."""
        if self.owns_group:
            dist.init_process_group(
                self.backend, rank=self.rank, world_size=self.world_size, timeout=timeout, **kwargs
            )
        if dist.get_backend() != "gloo":  # objects travel over Gloo, not through GPU memory
            self.object_group = dist.new_group(backend="gloo", timeout=timeout)

    # -- collectives over Python objects

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        box = [obj]
        dist.broadcast_object_list(box, src=0, group=self.object_group)
        return box[0]

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj`` (a list by rank) on rank 0; ``None`` elsewhere."""
        out = [None] * self.world_size if self.rank == 0 else None
        dist.gather_object(obj, out, dst=0, group=self.object_group)
        return out

    # -- children (rank 0 of a local run)

    def check(self) -> None:
        """Raise :class:`ReplicaError` if a child has failed."""
        for child in self.children:
            failure = child.failure()
            if failure is not None:
                raise failure

    def find_failure(self, wait_s: float) -> ReplicaError | None:
        """A child's failure, waiting up to ``wait_s`` for one to show."""
        deadline = time.monotonic() + wait_s
        while True:
            for child in self.children:
                failure = child.failure()
                if failure is not None:
                    return failure
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_S)

    def wait_ready(self, store: Any, timeout_s: float) -> None:
        """Wait until every child has connected to the store, checking that they live."""
        keys = [READY_KEY.format(child.rank) for child in self.children]
        deadline = time.monotonic() + timeout_s
        while not store.check(keys):
            self.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"SyncRl: replicas did not start within {timeout_s:.0f} s")
            time.sleep(POLL_S)

    def finish(self) -> None:
        """After training: wait for the children to exit, raising if one fails.

        A child that takes longer than ``_STACK_DUMP_AFTER_S`` is sent ``SIGUSR1``, on which
        it writes every thread's stack to a file (``faulthandler``); rank 0 logs them, and
        puts them in the error if the child has not exited by ``_FINISH_TIMEOUT_S``, so a
        shut-down that hangs says where.
        """
        start = time.monotonic()
        deadline = start + _FINISH_TIMEOUT_S
        for child in self.children:
            stacks = ""
            while child.process.exitcode is None:
                self.check()
                if not stacks and time.monotonic() - start > _STACK_DUMP_AFTER_S:
                    stacks = self._request_stacks(child)
                if time.monotonic() > deadline:
                    raise ReplicaError(
                        child.rank,
                        child.pid,
                        f"did not exit within {_FINISH_TIMEOUT_S:.0f} s after training; its "
                        f"threads were at:\n{stacks}",
                    )
                child.process.join(POLL_S)
        self.check()

    @staticmethod
    def _request_stacks(child: ChildReplica) -> str:
        """Ask ``child`` for its threads' stacks (SIGUSR1), log and return them."""
        path = stacks_path(child.pid)
        with contextlib.suppress(OSError):
            os.kill(child.pid, signal.SIGUSR1)
        text, last = "", None
        for _ in range(40):  # the child writes them from its signal handler: read until whole
            time.sleep(POLL_S)
            with contextlib.suppress(OSError):
                with open(path) as f:
                    text = f.read()
            if text and text == last:
                break
            last = text
        text = text or "(no stacks received)"
        logger.log(
            f"SyncRl: replica {child.rank} (pid {child.pid}) has not exited "
            f"{_STACK_DUMP_AFTER_S:.0f} s after training; its threads are at:\n{text}"
        )
        return text

    def close(self) -> None:
        """Reap every child and destroy the process group (if ours), on any exit path.

        Children still alive here (rank 0 failed, or a sibling did) are almost always blocked
        in a collective, where no Python signal handler can run until it times out: they get
        SIGTERM (which unwinds a child that is running Python code through its clean-up),
        then SIGKILL after a short grace. Their sampler workers follow them (parent-death
        signal), and their shared memory is anonymous, so nothing is left behind.
        """
        for sig_method, grace_s in (("terminate", _EXIT_GRACE_S), ("kill", _EXIT_GRACE_S)):
            alive = [c for c in self.children if c.process.exitcode is None]
            for child in alive:
                with contextlib.suppress(OSError, ValueError):
                    getattr(child.process, sig_method)()
            deadline = time.monotonic() + grace_s
            for child in alive:
                child.process.join(max(deadline - time.monotonic(), 0.0))
        for child in self.children:
            with contextlib.suppress(OSError):
                child.conn.close()
            with contextlib.suppress(OSError):  # left by a child that was killed
                os.remove(stacks_path(child.pid))
            with contextlib.suppress(ValueError):
                if child.process.exitcode is not None:
                    child.process.close()
        if self.owns_group and dist.is_initialized():
            with contextlib.suppress(Exception):
                dist.destroy_process_group()
        elif self.object_group is not None and dist.is_initialized():
            with contextlib.suppress(Exception):
                dist.destroy_process_group(self.object_group)
        self.object_group = None


def master_store(world_size: int, timeout: datetime.timedelta, offset: int) -> Any:
    """Rank 0's TCP store on ``127.0.0.1``: ``find_port``'s port, else one the OS picks
    (another process may take the found port before we bind it)."""
    error: Exception | None = None
    for port in (find_port(offset % 100), 0):
        try:
            return dist.TCPStore(
                "127.0.0.1", port, world_size, is_master=True, timeout=timeout,
                wait_for_workers=False,
            )  # fmt: skip
        except (RuntimeError, OSError) as e:  # DistNetworkError: address in use
            error = e
    raise RuntimeError(f"SyncRl: could not open a TCP store on 127.0.0.1: {error}") from error


def stacks_path(pid: int) -> str:
    """Where child ``pid`` writes its threads' stacks when rank 0 asks (SIGUSR1)."""
    return os.path.join(tempfile.gettempdir(), f"rlpyt-syncrl-stacks-{pid}.txt")


def _raise_system_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _prepare_child() -> None:
    """Signals of a child replica: rank 0 handles Ctrl-C; SIGTERM (also sent when rank 0
    dies) unwinds through the clean-up code; SIGUSR1 writes every thread's stack to
    ``stacks_path(pid)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_system_exit)
    global _STACKS_FILE
    with contextlib.suppress(AttributeError, ValueError, RuntimeError, OSError):
        # Rank 0's stack request: into a file rank 0 reads (stderr may go nowhere visible).
        _STACKS_FILE = open(stacks_path(os.getpid()), "w")  # noqa: SIM115 - open until exit
        faulthandler.register(signal.SIGUSR1, file=_STACKS_FILE, all_threads=True)
    libc_name = ctypes.util.find_library("c")
    if libc_name and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def replica_main(
    runner: Any,  # a SyncRlMixin runner
    rank: int,
    world_size: int,
    backend: str,
    port: int,
    timeout_s: float,
    conn: Any,
) -> None:
    """Entry point of a child replica process (rank >= 1 of a local run)."""
    _prepare_child()
    code = 0
    replicas = Replicas(rank, world_size, backend)
    try:
        timeout = datetime.timedelta(seconds=timeout_s)
        store = dist.TCPStore("127.0.0.1", port, world_size, is_master=False, timeout=timeout)
        store.set(READY_KEY.format(rank), "1")
        runner.affinity = dict(runner.affinities[rank])
        if backend == "nccl":
            torch.cuda.set_device(runner.affinity["cuda_idx"])
        replicas.init_group(timeout, store=store)
        runner._run_replica(replicas, None)
    except BaseException:  # noqa: BLE001 - report everything, including SystemExit from SIGTERM
        code = 1
        with contextlib.suppress(Exception):
            conn.send(traceback.format_exc()[-_ERROR_CHARS:])
    finally:
        replicas.close()
        with contextlib.suppress(OSError):
            conn.close()
        if _STACKS_FILE is not None:
            with contextlib.suppress(Exception):
                faulthandler.unregister(signal.SIGUSR1)
                _STACKS_FILE.close()
                os.remove(stacks_path(os.getpid()))
        # multiprocessing's own exit steps for a child (what it runs before ``os._exit`` in
        # forked children): finalizers, e.g. unlinking the named semaphores of locks made here.
        with contextlib.suppress(Exception):
            mp_util._exit_function()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    # Exit without running any destructor. Freeing a replica's DDP model and process group
    # can deadlock (a child stuck in ``gc.collect()`` after training, its stacks showed: a
    # C++ destructor waiting on a thread that needs the interpreter lock), and left to
    # interpreter finalisation (spawned children) those destructors may abort the process.
    # The runner's shutdown has already stopped the sampler and closed its files; the kernel
    # releases the rest (sockets, memory), and rank 0 learns the exit code as usual.
    os._exit(code)
