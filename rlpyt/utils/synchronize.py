"""Inter-process synchronisation: a reader/writer lock, queue draining, and free-port finding."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import socket
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["RWLock", "drain_queue", "find_port"]


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _acquire(lock: Any, deadline: float | None) -> bool:
    if deadline is None:
        return lock.acquire()
    return lock.acquire(timeout=_remaining(deadline))


class _LockView:
    """One side (read or write) of an :class:`RWLock`, usable like a ``Lock``."""

    def __init__(self, rwlock: RWLock, write: bool):
        self._rwlock = rwlock
        self._write = write

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        if not block:
            timeout = 0.0
        if self._write:
            return self._rwlock.acquire_write(timeout)
        return self._rwlock.acquire_read(timeout)

    def release(self) -> None:
        if self._write:
            self._rwlock.release_write()
        else:
            self._rwlock.release_read()

    def __enter__(self) -> _LockView:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class RWLock:
    """Reader/writer lock shared between processes: many readers or one writer at a time.

    Used where one process writes a shared-memory structure that others read, e.g. the async
    replay buffer (the sampler side writes, the optimiser side samples). Built from the
    primitives of one multiprocessing context, so it can be handed to a child process as a
    ``Process`` argument under ``fork``, ``forkserver`` and ``spawn`` alike (like any
    multiprocessing lock, it pickles only while a process is being started).

    Use ``with rwlock.read_lock:`` / ``with rwlock.write_lock:`` (block until acquired), or
    ``with rwlock.reading(timeout=...):`` / ``with rwlock.writing(timeout=...):`` which raise
    ``TimeoutError`` instead of waiting forever. ``acquire_read``/``acquire_write`` return
    ``False`` on timeout.

    By default readers have preference (a writer waits until no reader holds the lock, which a
    steady stream of overlapping readers can delay indefinitely). With
    ``writer_preference=True`` a waiting writer stops new readers from entering, so it gets
    the lock as soon as the current readers leave; this costs readers one extra lock
    acquire/release.

    Args:
        ctx: multiprocessing context to build the primitives from; default
            ``multiprocessing.get_context()``. Use the context that starts the processes.
        writer_preference: see above.
    """

    def __init__(self, ctx: Any = None, writer_preference: bool = False):
        ctx = mp.get_context() if ctx is None else ctx
        self.writer_preference = writer_preference
        # Held by the writer, or on behalf of all readers (taken by the first reader in and
        # released by the last reader out, possibly another process: a Lock allows that).
        self._room = ctx.Lock()
        # Guards the reader count.
        self._count_lock = ctx.Lock()
        self._n_readers = ctx.RawValue("i", 0)
        # Writer preference: a writer holds this while it waits for the room; readers pass
        # through it on the way in.
        self._turnstile = ctx.Lock() if writer_preference else None

    @property
    def read_lock(self) -> _LockView:
        """Context manager for shared (read) access; blocks until acquired."""
        return _LockView(self, write=False)

    @property
    def write_lock(self) -> _LockView:
        """Context manager for exclusive (write) access; blocks until acquired."""
        return _LockView(self, write=True)

    @property
    def num_readers(self) -> int:
        """The number of readers inside now (for diagnostics)."""
        return self._n_readers.value

    def acquire_read(self, timeout: float | None = None) -> bool:
        """Enter as a reader. Returns ``False`` if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        if self._turnstile is not None:
            if not _acquire(self._turnstile, deadline):
                return False
            self._turnstile.release()
        if not _acquire(self._count_lock, deadline):
            return False
        try:
            if self._n_readers.value == 0 and not _acquire(self._room, deadline):
                return False
            self._n_readers.value += 1
            return True
        finally:
            self._count_lock.release()

    def release_read(self) -> None:
        """Leave as a reader (the last reader out lets writers in)."""
        with self._count_lock:
            if self._n_readers.value <= 0:
                raise RuntimeError("release_read() called with no reader inside.")
            self._n_readers.value -= 1
            if self._n_readers.value == 0:
                self._room.release()

    def acquire_write(self, timeout: float | None = None) -> bool:
        """Enter as the writer. Returns ``False`` if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        if self._turnstile is None:
            return _acquire(self._room, deadline)
        if not _acquire(self._turnstile, deadline):
            return False
        try:
            return _acquire(self._room, deadline)
        finally:
            self._turnstile.release()

    def release_write(self) -> None:
        """Leave as the writer."""
        self._room.release()

    @contextlib.contextmanager
    def reading(self, timeout: float | None = None) -> Iterator[None]:
        """Read access for the ``with`` block; raises ``TimeoutError`` after ``timeout`` s."""
        if not self.acquire_read(timeout):
            raise TimeoutError(f"RWLock: no read access within {timeout} s.")
        try:
            yield
        finally:
            self.release_read()

    @contextlib.contextmanager
    def writing(self, timeout: float | None = None) -> Iterator[None]:
        """Write access for the ``with`` block; raises ``TimeoutError`` after ``timeout`` s."""
        if not self.acquire_write(timeout):
            raise TimeoutError(f"RWLock: no write access within {timeout} s.")
        try:
            yield
        finally:
            self.release_write()


def drain_queue(
    queue_obj: Any,
    n_sentinel: int = 0,
    guard_sentinel: bool = False,
    timeout: float | None = None,
) -> list[Any]:
    """Take everything out of a queue and return it as a list, in order, without the ``None``s.

    ``None`` is the sentinel a producer puts when it has finished. Three modes:

    * ``n_sentinel > 0`` (blocking): keep taking items, waiting for new ones, until
      ``n_sentinel`` sentinels have been seen (one per producer); items after the last sentinel
      stay in the queue. ``timeout`` bounds each wait: if no item arrives within it (e.g. a
      producer died) ``TimeoutError`` is raised; ``None`` waits forever.
    * ``n_sentinel == 0`` and ``guard_sentinel=False`` (non-blocking): take items until the
      queue reports empty; sentinels met on the way are dropped. Note a
      ``multiprocessing.Queue`` can report empty for a moment after another process's ``put``.
    * ``n_sentinel == 0`` and ``guard_sentinel=True`` (non-blocking): as above, but stop at
      the first sentinel and put it back (at the end of the queue), so a later blocking drain
      still sees it.

    Args:
        queue_obj: a ``queue.Queue`` or multiprocessing queue.
        n_sentinel: number of sentinels to wait for (blocking mode if positive).
        guard_sentinel: in non-blocking mode, stop at a sentinel and put it back.
        timeout: per-item wait limit in seconds in blocking mode.

    Returns:
        The non-sentinel items taken.
    """
    contents: list[Any] = []
    if n_sentinel > 0:
        seen = 0
        while seen < n_sentinel:
            try:
                item = queue_obj.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(
                    f"drain_queue: saw {seen} of {n_sentinel} sentinels; no item within "
                    f"{timeout} s."
                ) from None
            if item is None:
                seen += 1
            else:
                contents.append(item)
        return contents
    while True:
        try:
            item = queue_obj.get(block=False)
        except queue.Empty:
            return contents
        if item is None:
            if guard_sentinel:
                queue_obj.put(None)
                return contents
            continue
        contents.append(item)


# torch.distributed's customary MASTER_PORT; runs stacked on one machine use offsets from it.
_BASE_PORT = 29500
_PORT_STRIDE = 100


def find_port(offset: int) -> int:
    """Find a free TCP port on localhost for ``torch.distributed`` rendezvous.

    Tries ``29500 + offset``, then steps up by 100 (so runs with different offsets, below 100,
    never pick the same candidate) until binding to ``127.0.0.1`` succeeds. The port is
    released again before returning, so another process may still take it in between.

    Args:
        offset: run slot, ``0 <= offset < 100``.

    Returns:
        A port number that was free at the time of the check.

    Raises:
        ValueError: for an offset outside ``[0, 100)``.
        RuntimeError: if no candidate port below 65536 is free.
    """
    if not 0 <= offset < _PORT_STRIDE:
        raise ValueError(f"offset must be in [0, {_PORT_STRIDE}); got {offset}.")
    for port in range(_BASE_PORT + offset, 65536, _PORT_STRIDE):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free TCP port found on 127.0.0.1 for offset {offset}.")
