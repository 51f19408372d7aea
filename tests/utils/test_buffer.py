"""Tests for buffer allocation, conversion and shared memory across processes."""

import copy
import gc
import multiprocessing as mp
import os
import pickle
import signal
from collections import namedtuple

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from rlpyt.utils.buffer import (
    buffer_from_example,
    buffer_func,
    buffer_method,
    buffer_to,
    build_array,
    get_leading_dims,
    is_shared,
    np_mp_array,
    numpify_buffer,
    torchify_buffer,
)
from rlpyt.utils.collections import is_namedarraytuple, namedarraytuple

Step = namedarraytuple("Step", ["observation", "reward", "done", "info"])
Info = namedtuple("Info", ["timeout", "lives"])  # plain namedtuple: becomes a namedarraytuple


def example_step():
    return Step(
        observation=np.zeros((3, 4), dtype=np.uint8),
        reward=np.float32(0),
        done=False,
        info=Info(timeout=False, lives=np.int16(3)),
    )


class TestAllocation:
    @pytest.mark.parametrize("share_memory", [False, True])
    def test_shapes_dtypes_and_structure(self, share_memory):
        buf = buffer_from_example(example_step(), (5, 2), share_memory=share_memory)
        assert buf.observation.shape == (5, 2, 3, 4) and buf.observation.dtype == np.uint8
        assert buf.reward.shape == (5, 2) and buf.reward.dtype == np.float32
        assert buf.done.dtype == np.bool_
        assert is_namedarraytuple(buf.info) and type(buf.info).__name__ == "Info"
        assert buf.info.lives.dtype == np.int16
        for leaf in (buf.observation, buf.reward, buf.done, buf.info.lives):
            assert not leaf.any()
            assert type(leaf) is np.ndarray and is_shared(leaf) == share_memory

    def test_none_fields_stay_none(self):
        buf = buffer_from_example(Step(np.zeros(2), None, None, None), 4)
        assert buf.reward is None and buf.observation.shape == (4, 2)
        assert buffer_from_example(None, (2, 3)) is None

    def test_tensor_examples(self):
        arr = build_array(torch.zeros(2, dtype=torch.int32), (3,))
        assert arr.shape == (3, 2) and arr.dtype == np.int32

    def test_shared_leaves_do_not_overlap(self):
        buf = buffer_from_example(example_step(), (7, 3), share_memory=True)
        buf.observation[:] = 255
        buf.reward[:] = 1.5
        buf.info.lives[:] = -1
        assert (buf.observation == 255).all() and (buf.reward == 1.5).all()
        assert not buf.done.any() and not buf.info.timeout.any()
        assert (buf.info.lives == -1).all()

    @pytest.mark.parametrize("bad", ["text", None, object()])
    def test_non_numeric_example_is_rejected(self, bad):
        with pytest.raises(TypeError, match="dtype"):
            build_array(np.array([bad]), (2,))

    def test_bad_leading_dims(self):
        with pytest.raises(ValueError, match="leading_dims"):
            buffer_from_example(np.zeros(2), (2, -1))

    def test_np_mp_array(self):
        a = np_mp_array((4, 2), np.float64)
        assert is_shared(a) and a.shape == (4, 2) and not a.any()
        assert np_mp_array(3, "int8").shape == (3,)


class TestSharedArrays:
    def test_views_are_shared_results_are_not(self):
        a = np_mp_array((4, 3), np.float32)
        assert is_shared(a[1:]) and is_shared(a[1:][::2, 0]) and is_shared(a.T)
        assert not is_shared(a + 1) and not is_shared(a.copy())
        assert not is_shared(torch.from_numpy(a).numpy())  # torch hides the owner
        assert not is_shared(np.zeros(3))

    def test_ordinary_pickling_copies(self):
        a = np_mp_array(3, np.int64)
        a[:] = [1, 2, 3]
        for b in (pickle.loads(pickle.dumps(a[1:])), copy.deepcopy(a)):
            b[0] = 100
            assert a[1] != 100 and a[0] != 100
        assert not is_shared(pickle.loads(pickle.dumps(a)))

    def test_torch_save_copies(self, tmp_path):
        a = np_mp_array(3, np.float32)
        a[:] = 2
        torch.save({"a": a}, tmp_path / "x.pt")
        loaded = torch.load(tmp_path / "x.pt", weights_only=False)["a"]
        assert_array_equal(loaded, a)


class TestConversion:
    def test_torchify_and_numpify_are_zero_copy(self):
        buf = buffer_from_example(example_step(), (2, 2), share_memory=True)
        t = torchify_buffer(buf)
        assert isinstance(t.observation, torch.Tensor) and t.info.timeout.dtype == torch.bool
        t.reward[1, 0] = 4.0
        assert buf.reward[1, 0] == 4.0
        n = numpify_buffer(t)
        n.info.lives[0, 1] = 9
        assert int(t.info.lives[0, 1]) == 9
        assert numpify_buffer(buf).observation is buf.observation
        assert torchify_buffer(t).reward is t.reward
        assert torchify_buffer(None) is None

    def test_numpify_detaches(self):
        x = torch.ones(2, requires_grad=True)
        assert_array_equal(numpify_buffer((x, None))[0], [1, 1])

    def test_buffer_to_method_func(self):
        buf = buffer_from_example(example_step(), (2,))
        moved = buffer_to(buf, "cpu")
        assert isinstance(moved.info.lives, torch.Tensor)
        floats = buffer_method(moved, "float")
        assert floats.done.dtype == torch.float32 and floats.info.lives.dtype == torch.float32
        shapes = buffer_func(buf, np.shape)
        assert shapes.observation == (2, 3, 4) and shapes.info.timeout == (2,)

    def test_get_leading_dims(self):
        buf = buffer_from_example(example_step(), (5, 2))
        assert get_leading_dims(buf, 2) == (5, 2)
        assert get_leading_dims(buf) == (5,)
        with pytest.raises(ValueError, match="shapes"):
            get_leading_dims(Step(np.zeros(3), np.zeros(4), None, None))
        with pytest.raises(ValueError, match="no array"):
            get_leading_dims(Step(None, None, None, None))


# -- shared memory across processes ---------------------------------------------------------------


def _child_writes(buf, queue, done_event):
    buf.observation[1, 0] = 7
    buf.reward[:] += 1  # in place on a shared array
    buf.info.timeout[2, 1] = True
    queue.put((is_shared(buf.observation), int(buf.observation[0, 1, 0, 0])))
    queue.put(buf[3])  # a view, sent back through a queue
    done_event.wait(20)


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_shared_buffer_crosses_processes(method):
    ctx = mp.get_context(method)
    buf = buffer_from_example(example_step(), (4, 2), share_memory=True)
    buf.observation[0, 1] = 3
    queue, done = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_child_writes, args=(buf, queue, done))
    proc.start()
    try:
        kind, seen = queue.get(timeout=30)
        back = queue.get(timeout=30)
    finally:
        done.set()
        proc.join(10)
    assert proc.exitcode == 0
    assert kind is True and seen == 3  # the child saw the parent's write
    assert (buf.observation[1, 0] == 7).all() and (buf.reward == 1).all()
    assert buf.info.timeout[2, 1] and buf.info.timeout.sum() == 1
    back.reward[0] = -5.0  # the view that came back is still the same memory
    assert buf.reward[3, 0] == -5.0


def _rlpyt_blocks():
    """Descriptors and mappings of this process that point at rlpyt shared-memory blocks."""
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
    return fds, maps


def _child_holds(buf, ready):
    buf.reward[:] = 1
    ready.set()
    signal.pause()


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="Linux memfd only")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_no_leaks_even_when_a_worker_is_killed(method):
    gc.collect()
    fds_before, maps_before = _rlpyt_blocks()
    ctx = mp.get_context(method)
    buf = buffer_from_example(example_step(), (64, 8), share_memory=True)
    fds, maps = _rlpyt_blocks()
    # One anonymous block for the whole buffer; it has no name under /dev/shm.
    assert len(maps) == len(maps_before) + 1 and len(fds) > len(fds_before)
    assert all(t.startswith("/memfd:") for t in fds)
    ready = ctx.Event()
    proc = ctx.Process(target=_child_holds, args=(buf, ready))
    proc.start()
    assert ready.wait(30)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert (buf.reward == 1).all()
    del buf
    gc.collect()
    assert _rlpyt_blocks() == (fds_before, maps_before)  # released with the last array


# -- property-based: allocation follows the example -----------------------------------------------

dtypes = st.sampled_from([np.bool_, np.uint8, np.int16, np.int32, np.int64, np.float32, np.float64])


@given(
    example=hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
    lead=st.lists(st.integers(0, 4), min_size=0, max_size=2),
    share=st.booleans(),
)
def test_buffer_from_example_property(example, lead, share):
    buf = buffer_from_example(Step(example, example, None, None), tuple(lead), share_memory=share)
    for leaf in (buf.observation, buf.reward):
        assert leaf.shape == tuple(lead) + example.shape
        assert leaf.dtype == example.dtype
        assert not leaf.any()
    t = torchify_buffer(buf)
    assert tuple(t.observation.shape) == tuple(lead) + example.shape
    if buf.observation.size:
        buf.observation.reshape(-1)[-1] = 1
        assert bool(t.observation.reshape(-1)[-1])  # same memory
        assert not buf.reward.any()  # and no overlap with the next leaf
