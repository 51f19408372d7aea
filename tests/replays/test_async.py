"""Async buffers: one buffer in shared memory, written and read from other processes (fork,
forkserver, spawn), under the reader/writer lock."""

from __future__ import annotations

import multiprocessing as mp
import time

import numpy as np
import pytest
import torch

from rlpyt.utils.buffer import is_shared
from rlpyt.utils.synchronize import RWLock
from tests.replays.helpers import ASYNC_SPECS, SPEC_BY_NAME, Stream, fill
from tests.replays.test_contract import check_batch

JOIN_TIMEOUT = 60


def _run(ctx_name, target, *args):
    ctx = mp.get_context(ctx_name)
    p = ctx.Process(target=target, args=args)
    p.start()
    p.join(JOIN_TIMEOUT)
    if p.is_alive():
        p.kill()
        p.join()
    assert p.exitcode == 0, f"child failed with exit code {p.exitcode}"


def _reference(spec, seed, n_batches):
    stream = Stream(spec, seed=seed)
    for _ in range(n_batches):
        stream.batch(5)
    return stream


def _child_append(buf, name, seed, n_batches):
    fill(buf, Stream(SPEC_BY_NAME[name], seed=seed), n_batches)


def _child_sample_and_check(buf, name, seed, n_batches):
    spec = SPEC_BY_NAME[name]
    np.random.seed(1)
    stream = _reference(spec, seed, n_batches)
    for _ in range(5):
        check_batch(spec, buf.sample_batch(16), stream, stream.t)
    if spec.prioritized:
        buf.update_batch_priorities(torch.full((16,), 7.0))


def _appended_then_checked(spec, ctx_name):
    buf = spec.make()
    assert type(buf).async_ and isinstance(buf.rw_lock, RWLock)
    assert is_shared(buf.samples.action) and is_shared(buf._cursor)
    _run(ctx_name, _child_append, buf, spec.name, 11, 9)  # a child writes ...
    assert buf.steps_written == 45
    stream = _reference(spec, 11, 9)
    check_batch(spec, buf.sample_batch(16), stream, stream.t)  # ... the parent reads
    fill(buf, stream, 3)  # the parent writes ...
    _run(ctx_name, _child_sample_and_check, buf, spec.name, 11, 12)  # ... a child reads
    if spec.prioritized:  # the child's priority updates landed in the shared tree
        assert np.any(np.isclose(buf.priority_tree.values, 7.0**0.6))


@pytest.mark.parametrize("spec", ASYNC_SPECS, ids=lambda s: s.name)
def test_fork(spec):
    _appended_then_checked(spec, "fork")


@pytest.mark.parametrize(
    "name", ["AsyncPrioritizedReplayFrameBuffer", "AsyncPrioritizedSequenceReplayFrameBuffer"]
)
@pytest.mark.parametrize("ctx_name", ["spawn", "forkserver"])
def test_spawn_and_forkserver(name, ctx_name):
    _appended_then_checked(SPEC_BY_NAME[name], ctx_name)


def _child_writer(buf, name, seed, n_batches):
    stream = Stream(SPEC_BY_NAME[name], seed=seed)
    for _ in range(n_batches):
        buf.append_samples(stream.batch(5))
        time.sleep(0.002)


@pytest.mark.parametrize(
    "name", ["AsyncTlPrioritizedReplayBuffer", "AsyncUniformSequenceReplayFrameBuffer"]
)
def test_reader_concurrent_with_writer(name):
    """Batches read while another process appends are always whole and consistent."""
    spec = SPEC_BY_NAME[name]
    buf = spec.make()
    fill(buf, Stream(spec, seed=5), 6)  # the same data the writer starts with
    stream = _reference(spec, 5, 6 + 150)
    p = mp.get_context("fork").Process(target=_writer_after, args=(buf, name, 5, 6, 150))
    p.start()
    n_checked = 0
    while p.is_alive() and n_checked < 400:
        t_before = buf.steps_written
        batch = buf.sample_batch(8)
        check_batch(spec, batch, stream, t_before, buf.steps_written)
        n_checked += 1
    p.join(JOIN_TIMEOUT)
    assert p.exitcode == 0
    assert buf.steps_written == 5 * 156
    assert n_checked > 5


def _writer_after(buf, name, seed, skip, n_batches):
    stream = Stream(SPEC_BY_NAME[name], seed=seed)
    for _ in range(skip):
        stream.batch(5)
    for _ in range(n_batches):
        buf.append_samples(stream.batch(5))
        time.sleep(0.001)


def _child_timed_sample(buf, q):
    buf.sample_batch(4)
    q.put(time.monotonic())


def test_sampling_waits_for_the_writer():
    spec = SPEC_BY_NAME["AsyncUniformReplayBuffer"]
    buf = spec.make()
    fill(buf, Stream(spec), 8)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    with buf.rw_lock.write_lock:
        p = ctx.Process(target=_child_timed_sample, args=(buf, q))
        p.start()
        time.sleep(0.5)
        released = time.monotonic()
    done_at = q.get(timeout=JOIN_TIMEOUT)
    p.join(JOIN_TIMEOUT)
    assert p.exitcode == 0
    assert done_at >= released
