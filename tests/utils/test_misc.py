"""Tests for rlpyt.utils.misc."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.misc import empty, extract_sequences, iterate_mb_idxs, zeros

Pair = namedarraytuple("Pair", ["obs", "extra"])


@settings(max_examples=50, deadline=None)
@given(length=st.integers(0, 50), mb=st.integers(1, 20), shuffle=st.booleans())
def test_iterate_mb_idxs_full_minibatches(length, mb, shuffle):
    batches = list(iterate_mb_idxs(length, mb, shuffle=shuffle))
    assert len(batches) == length // mb
    data = np.arange(length)
    taken = [data[b] for b in batches]
    for t in taken:
        assert len(t) == mb
    flat = np.concatenate(taken) if taken else np.array([], dtype=int)
    assert len(np.unique(flat)) == len(flat)  # no index twice
    assert np.all((flat >= 0) & (flat < length))
    if not shuffle:
        assert all(isinstance(b, slice) for b in batches)
        np.testing.assert_array_equal(flat, np.arange(len(flat)))


def test_iterate_mb_idxs_shuffle_covers_everything_when_divisible():
    np.random.seed(0)
    batches = list(iterate_mb_idxs(12, 4, shuffle=True))
    assert all(isinstance(b, np.ndarray) for b in batches)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(12))
    assert not np.array_equal(np.concatenate(batches), np.arange(12))
    with pytest.raises(ValueError):
        list(iterate_mb_idxs(10, 0))


@pytest.mark.parametrize("fn", [zeros, empty])
def test_zeros_empty_dispatch(fn):
    t = fn((2, 3), torch.float16)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float16 and t.shape == (2, 3)
    for dtype, expected in [(np.float32, np.float32), ("int64", np.int64), (bool, np.bool_)]:
        a = fn((2, 3), dtype)
        assert isinstance(a, np.ndarray) and a.dtype == expected and a.shape == (2, 3)
    a = fn(4, np.uint8)
    assert a.shape == (4,)


def test_zeros_are_zero():
    torch.testing.assert_close(zeros((2,), torch.int32), torch.zeros(2, dtype=torch.int32))
    np.testing.assert_array_equal(zeros((2, 2), "float64"), np.zeros((2, 2)))


def _reference_sequences(src, T_idxs, B_idxs, T):
    size = src.shape[0]
    return np.stack(
        [np.stack([src[(t0 + k) % size, b] for k in range(T)]) for t0, b in zip(T_idxs, B_idxs)],
        axis=1,
    )


@settings(max_examples=40, deadline=None)
@given(
    T_buf=st.integers(1, 8),
    B_buf=st.integers(1, 4),
    T=st.integers(1, 10),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_extract_sequences_wraps_numpy_and_torch(T_buf, B_buf, T, n, seed):
    rng = np.random.default_rng(seed)
    src = rng.standard_normal((T_buf, B_buf, 2)).astype(np.float32)
    T_idxs = rng.integers(0, T_buf, n)
    B_idxs = rng.integers(0, B_buf, n)
    ref = _reference_sequences(src, T_idxs, B_idxs, T)
    out = extract_sequences(src, T_idxs, B_idxs, T)
    assert out.shape == (T, n, 2)
    np.testing.assert_array_equal(out, ref)
    out_t = extract_sequences(torch.from_numpy(src), torch.from_numpy(T_idxs), list(B_idxs), T)
    assert isinstance(out_t, torch.Tensor)
    torch.testing.assert_close(out_t, torch.from_numpy(ref))


def test_extract_sequences_counting_buffer():
    # Value = 10 * t + b, so every gathered entry names its source position.
    src = np.arange(5)[:, None] * 10 + np.arange(3)[None, :]
    out = extract_sequences(src, np.array([3, 0]), np.array([2, 1]), T=4)
    np.testing.assert_array_equal(out[:, 0], [32, 42, 2, 12])
    np.testing.assert_array_equal(out[:, 1], [1, 11, 21, 31])


def test_extract_sequences_namedarraytuple():
    obs = np.arange(4 * 2 * 3).reshape(4, 2, 3)
    extra = torch.arange(8.0).reshape(4, 2)
    buf = Pair(obs=obs, extra=Pair(obs=extra, extra=None))
    out = extract_sequences(buf, [3, 1], [0, 1], 2)
    assert type(out) is Pair and type(out.extra) is Pair
    np.testing.assert_array_equal(out.obs, np.stack([obs[[3, 0], 0], obs[[1, 2], 1]], axis=1))
    assert isinstance(out.extra.obs, torch.Tensor)
    torch.testing.assert_close(
        out.extra.obs, torch.stack([extra[[3, 0], 0], extra[[1, 2], 1]], dim=1)
    )
    assert out.extra.extra is None
    # A copy, not a view: writing to it leaves the buffer alone.
    out.obs[...] = -1
    assert obs.min() == 0
