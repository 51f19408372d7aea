"""Async replay buffers: shared memory plus a reader/writer lock, for the async runner.

An async buffer (class attribute ``async_ = True``: every ``Async...`` class) allocates all of
its state in OS shared memory: the sample rings, the n-step rings, the frames, the stored RNN
states, the priority tree and the write cursor. Sent to other processes as a ``Process``
argument (under ``fork``, ``forkserver`` or ``spawn``), every copy of the object works on the
same memory. One :class:`rlpyt.utils.synchronize.RWLock` guards it:

* ``append_samples`` and ``update_batch_priorities`` hold the write lock (one writer at a
  time: several sampler-side processes may append);
* ``sample_batch`` holds the read lock (readers share it).

The lock prefers writers, so a steady stream of sampling cannot starve the appends. Local,
per-process state is only what each reader needs for itself: ``beta`` and the slots of its
own latest draw (for ``update_batch_priorities``). Priority updates skip slots that an append
invalidated after the draw.
"""

from __future__ import annotations

import multiprocessing as mp

from rlpyt.utils.synchronize import RWLock

__all__ = ["make_replay_lock"]


def make_replay_lock() -> RWLock:
    """The reader/writer lock of an async replay buffer.

    Built from ``spawn``-context primitives: such locks reach child processes under every
    start method (inherited under ``fork``, pickled at process start otherwise), whereas
    ``fork``-context ones refuse to travel to ``spawn``/``forkserver`` children.
    """
    return RWLock(mp.get_context("spawn"), writer_preference=True)
