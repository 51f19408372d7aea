"""Tests for rlpyt.utils.array (NumPy twins of the tensor helpers)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlpyt.utils.array import (
    from_onehot,
    infer_leading_dims,
    select_at_indexes,
    to_onehot,
    valid_mean,
)


def test_infer_leading_dims():
    assert infer_leading_dims(np.zeros((5, 4, 3)), 1) == (2, 5, 4, (3,))
    assert infer_leading_dims(np.zeros((4, 3)), 1) == (1, 1, 4, (3,))
    assert infer_leading_dims(np.zeros(3), 1) == (0, 1, 1, (3,))
    assert infer_leading_dims(np.float32(2.0), 0) == (0, 1, 1, ())
    with pytest.raises(ValueError, match=r"\(1, 2, 3, 4\)"):
        infer_leading_dims(np.zeros((1, 2, 3, 4)), 1)


@settings(max_examples=50, deadline=None)
@given(
    idx_shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    n=st.integers(1, 5),
    rest=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    seed=st.integers(0, 2**16),
)
def test_select_at_indexes_matches_loop(idx_shape, n, rest, seed):
    rng = np.random.default_rng(seed)
    idx_shape, rest = tuple(idx_shape), tuple(rest)
    arr = rng.standard_normal(idx_shape + (n,) + rest).astype(np.float32)
    idx = rng.integers(0, n, idx_shape)
    out = select_at_indexes(idx, arr)
    assert out.shape == idx_shape + rest
    assert out.dtype == np.float32
    for i in np.ndindex(*idx_shape):
        np.testing.assert_array_equal(out[i], arr[i][idx[i]])


def test_select_at_indexes_q_values():
    q = np.arange(24).reshape(3, 2, 4)
    a = np.array([[0, 3], [1, 1], [2, 0]])
    np.testing.assert_array_equal(select_at_indexes(a, q), [[0, 7], [9, 13], [18, 20]])


@settings(max_examples=50, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    num=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_onehot_round_trip(shape, num, seed):
    idx = np.random.default_rng(seed).integers(0, num, tuple(shape))
    onehot = to_onehot(idx, num)
    assert onehot.shape == tuple(shape) + (num,)
    assert onehot.dtype == idx.dtype
    np.testing.assert_array_equal(onehot.sum(-1), np.ones(tuple(shape)))
    np.testing.assert_array_equal(from_onehot(onehot), idx)
    np.testing.assert_array_equal(np.argmax(onehot, -1), idx)


def test_onehot_dtype():
    oh = to_onehot(np.array([1, 0]), 2, dtype=np.float32)
    assert oh.dtype == np.float32
    np.testing.assert_array_equal(oh, [[0.0, 1.0], [1.0, 0.0]])
    assert from_onehot(oh, dtype=np.uint8).dtype == np.uint8


def test_valid_mean():
    x = np.array([[1.0, np.inf], [3.0, 5.0]], dtype=np.float32)
    valid = np.array([[True, False], [True, False]])
    np.testing.assert_allclose(valid_mean(x, valid), 2.0)
    out = valid_mean(x, valid, dim=0)
    np.testing.assert_allclose(out, [2.0, 0.0])
    assert out.dtype == np.float32
    # Float weights multiply, so inf * 0 would be NaN: only bool masks exclude non-finite values.
    x[0, 1] = 7.0
    np.testing.assert_allclose(valid_mean(x, valid.astype(np.float32), dim=1), [1.0, 3.0])
    np.testing.assert_allclose(valid_mean(np.array([2.0, 4.0]), np.array([0.5, 0.0])), 2.0)
    np.testing.assert_allclose(valid_mean(np.array([2.0, 4.0])), 3.0)
