"""Tests for rlpyt.utils.synchronize: RWLock under every start method, drain_queue, find_port."""

import multiprocessing as mp
import pickle
import queue
import socket
import threading
import time

import pytest

from rlpyt.utils.synchronize import RWLock, drain_queue, find_port

START_METHODS = [m for m in ("fork", "forkserver", "spawn") if m in mp.get_all_start_methods()]
JOIN_TIMEOUT = 20.0


def _join_all(procs):
    deadline = time.monotonic() + JOIN_TIMEOUT
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    alive = [p for p in procs if p.is_alive()]
    for p in alive:
        p.kill()
        p.join(2)
    assert not alive, f"processes hung: {alive}"
    assert [p.exitcode for p in procs] == [0] * len(procs)


# ---- RWLock, in one process -------------------------------------------------------------


@pytest.mark.parametrize("writer_preference", [False, True])
def test_rwlock_readers_share_writer_excludes(writer_preference):
    lock = RWLock(writer_preference=writer_preference)
    assert lock.acquire_read(timeout=1)
    with lock.read_lock:
        assert lock.num_readers == 2
        assert not lock.acquire_write(timeout=0.05)
        assert not lock.write_lock.acquire(block=False)
    lock.release_read()
    assert lock.num_readers == 0
    with lock.write_lock:
        assert not lock.acquire_read(timeout=0.05)
        assert not lock.acquire_write(timeout=0.05)
        with pytest.raises(TimeoutError):
            with lock.reading(timeout=0.05):
                pass
        assert lock.num_readers == 0
    # A failed read attempt must leave the lock usable.
    with lock.reading(timeout=1):
        with pytest.raises(TimeoutError):
            with lock.writing(timeout=0.05):
                pass
    with lock.writing(timeout=1):
        pass
    with pytest.raises(RuntimeError):
        lock.release_read()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("writer_preference", [False, True])
def test_rwlock_writer_preference_blocks_new_readers(writer_preference):
    lock = RWLock(writer_preference=writer_preference)
    lock.acquire_read()
    got_write = threading.Event()

    def writer():
        if lock.acquire_write(timeout=10):
            got_write.set()
            lock.release_write()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.2)  # Let the writer start waiting.
    assert not got_write.is_set()
    new_reader = lock.acquire_read(timeout=0.2)
    # Readers-preferred: a new reader joins; writer-preferred: it waits behind the writer.
    assert new_reader is (not writer_preference)
    if new_reader:
        lock.release_read()
    lock.release_read()
    thread.join(10)
    assert got_write.is_set()


def test_rwlock_pickles_only_when_starting_a_process():
    with pytest.raises(RuntimeError):
        pickle.dumps(RWLock())


# ---- RWLock, across processes ------------------------------------------------------------


def _probe(lock, results):
    # The parent holds a read lock: another read is allowed, a write is not.
    results[0] = int(lock.acquire_write(timeout=0.3))
    results[1] = int(lock.acquire_read(timeout=5))
    results[2] = lock.num_readers
    lock.release_read()


def _writer(lock, data, n):
    for _ in range(n):
        with lock.write_lock:
            data[0] += 1
            time.sleep(0.0005)  # Widen the window in which a reader could see a torn update.
            data[1] += 1


def _reader(lock, data, violations, n):
    for _ in range(n):
        with lock.read_lock:
            first = data[0]
            time.sleep(0.0002)
            if data[1] != first:
                violations.value += 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("writer_preference", [False, True])
def test_rwlock_across_processes(method, writer_preference):
    ctx = mp.get_context(method)
    lock = RWLock(ctx, writer_preference=writer_preference)

    results = ctx.RawArray("i", 3)
    lock.acquire_read()
    probe = ctx.Process(target=_probe, args=(lock, results))
    probe.start()
    _join_all([probe])
    assert list(results) == [0, 1, 2]
    assert lock.num_readers == 1
    lock.release_read()

    data = ctx.RawArray("i", 2)
    violations = ctx.RawValue("i", 0)
    n = 40
    procs = [ctx.Process(target=_writer, args=(lock, data, n)) for _ in range(2)]
    procs += [ctx.Process(target=_reader, args=(lock, data, violations, n)) for _ in range(2)]
    for p in procs:
        p.start()
    _join_all(procs)
    assert list(data) == [2 * n, 2 * n]
    assert violations.value == 0
    assert lock.num_readers == 0
    assert lock.acquire_write(timeout=1)
    lock.release_write()


# ---- drain_queue -------------------------------------------------------------------------


def _fill(q, items):
    for item in items:
        q.put(item)
    return q


def test_drain_queue_non_blocking_drops_sentinels():
    q = _fill(queue.Queue(), [1, None, 2, None, 3])
    assert drain_queue(q) == [1, 2, 3]
    assert q.empty()
    assert drain_queue(q) == []


def test_drain_queue_guard_sentinel_puts_it_back():
    q = _fill(queue.Queue(), [1, 2, None, 3])
    assert drain_queue(q, guard_sentinel=True) == [1, 2]
    # The sentinel went back behind the remaining items; a blocking drain still finds it.
    assert list(q.queue) == [3, None]
    assert drain_queue(q, n_sentinel=1, timeout=1) == [3]
    assert q.empty()


def test_drain_queue_blocking_stops_at_last_sentinel():
    q = _fill(queue.Queue(), ["a", None, "b", None, "after"])
    assert drain_queue(q, n_sentinel=2, timeout=1) == ["a", "b"]
    assert list(q.queue) == ["after"]


def test_drain_queue_blocking_times_out():
    q = _fill(queue.Queue(), [1, None])
    with pytest.raises(TimeoutError, match="1 of 2"):
        drain_queue(q, n_sentinel=2, timeout=0.05)


def _produce(q, rank, n):
    for i in range(n):
        q.put((rank, i))
    q.put(None)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", START_METHODS)
def test_drain_queue_from_producer_processes(method):
    ctx = mp.get_context(method)
    q = ctx.Queue()
    procs = [ctx.Process(target=_produce, args=(q, rank, 50)) for rank in range(3)]
    for p in procs:
        p.start()
    items = drain_queue(q, n_sentinel=3, timeout=JOIN_TIMEOUT)
    _join_all(procs)
    assert sorted(items) == [(r, i) for r in range(3) for i in range(50)]
    for rank in range(3):  # Each producer's items arrive in its order.
        assert [i for r, i in items if r == rank] == list(range(50))


# ---- find_port ---------------------------------------------------------------------------


def test_find_port_free_and_offset():
    port = find_port(7)
    assert (port - 29500) % 100 == 7 and port >= 29507
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        # With the first choice taken, the next candidate in the same slot is returned.
        other = find_port(7)
        assert other != port and (other - 29500) % 100 == 7
    with pytest.raises(ValueError):
        find_port(100)
    with pytest.raises(ValueError):
        find_port(-1)
