"""Tests for rlpyt.utils.tensor: properties, edge cases, agreement with the NumPy twins."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlpyt.utils import array as nu
from rlpyt.utils.tensor import (
    from_onehot,
    infer_leading_dims,
    restore_leading_dims,
    select_at_indexes,
    to_onehot,
    valid_mean,
)

small_dims = st.lists(st.integers(1, 4), min_size=0, max_size=3)
lead_dims = st.integers(0, 2)


@st.composite
def shapes_with_lead(draw):
    data = tuple(draw(small_dims))
    lead_dim = draw(lead_dims)
    lead = tuple(draw(st.lists(st.integers(1, 4), min_size=lead_dim, max_size=lead_dim)))
    return lead_dim, lead, data


@settings(max_examples=50, deadline=None)
@given(shapes_with_lead())
def test_infer_restore_round_trip(case):
    lead_dim, lead, data = case
    x = torch.arange(int(np.prod(lead + data))).reshape(lead + data)
    got_lead, T, B, shape = infer_leading_dims(x, len(data))
    assert got_lead == lead_dim
    assert tuple(shape) == data
    expected_TB = {0: (1, 1), 1: (1, lead[-1] if lead else 1), 2: lead}[lead_dim]
    assert (T, B) == expected_TB
    flat = x.reshape((T * B,) + data)
    out = restore_leading_dims(flat, got_lead, T, B)
    torch.testing.assert_close(out, x)
    # The NumPy twin infers the same thing.
    assert nu.infer_leading_dims(x.numpy(), len(data)) == (lead_dim, T, B, data)


def test_infer_leading_dims_values():
    assert infer_leading_dims(torch.zeros(5, 4, 3), 1) == (2, 5, 4, torch.Size([3]))
    assert infer_leading_dims(torch.zeros(4, 3), 1) == (1, 1, 4, torch.Size([3]))
    assert infer_leading_dims(torch.zeros(3), 1) == (0, 1, 1, torch.Size([3]))
    assert infer_leading_dims(torch.zeros(7, 2), 0) == (2, 7, 2, torch.Size([]))
    assert infer_leading_dims(torch.zeros(()), 0) == (0, 1, 1, torch.Size([]))


@pytest.mark.parametrize("shape,dim", [((2, 3, 4, 5), 1), ((3,), 2), ((), 1)])
def test_infer_leading_dims_rejects_bad_shapes(shape, dim):
    with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        infer_leading_dims(torch.zeros(shape), dim)
    with pytest.raises(ValueError):
        nu.infer_leading_dims(np.zeros(shape), dim)


def test_restore_leading_dims_kinds_and_none():
    a = torch.arange(6.0).reshape(6, 1)
    b = torch.arange(6)
    out = restore_leading_dims((a, None, b), 2, T=2, B=3)
    assert isinstance(out, tuple) and out[1] is None
    torch.testing.assert_close(out[0], a.reshape(2, 3, 1))
    torch.testing.assert_close(out[2], b.reshape(2, 3))
    out = restore_leading_dims([a, b], 1, B=6)
    assert isinstance(out, list)
    assert out[0] is a and out[1] is b
    out = restore_leading_dims(torch.ones(1, 4), 0)
    assert out.shape == (4,)
    assert restore_leading_dims(None, 0) is None


def test_restore_leading_dims_errors():
    with pytest.raises(ValueError, match="size 1"):
        restore_leading_dims(torch.zeros(3, 2), 0)
    with pytest.raises(ValueError, match="lead_dim"):
        restore_leading_dims(torch.zeros(3, 2), 3)


def test_restore_non_contiguous():
    x = torch.arange(12.0).reshape(3, 4).t()  # [4, 3], non-contiguous
    out = restore_leading_dims(x, 2, T=2, B=2)
    torch.testing.assert_close(out, x.contiguous().reshape(2, 2, 3))


@settings(max_examples=50, deadline=None)
@given(
    idx_shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    n=st.integers(1, 5),
    rest=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    seed=st.integers(0, 2**16),
)
def test_select_at_indexes_matches_loop_and_numpy(idx_shape, n, rest, seed):
    g = torch.Generator().manual_seed(seed)
    idx_shape, rest = tuple(idx_shape), tuple(rest)
    tensor = torch.randn(idx_shape + (n,) + rest, generator=g)
    indexes = torch.randint(0, n, idx_shape, generator=g)
    out = select_at_indexes(indexes, tensor)
    assert out.shape == idx_shape + rest
    expected = torch.empty(idx_shape + rest)
    for i in np.ndindex(*idx_shape):
        expected[i] = tensor[i][indexes[i]]
    torch.testing.assert_close(out, expected)
    np.testing.assert_allclose(
        nu.select_at_indexes(indexes.numpy(), tensor.numpy()), expected.numpy()
    )


def test_select_at_indexes_grad_and_errors():
    q = torch.randn(3, 2, 4, requires_grad=True)
    a = torch.tensor([[0, 3], [1, 1], [2, 0]])
    select_at_indexes(a, q).sum().backward()
    expected = torch.zeros(3, 2, 4)
    for t in range(3):
        for b in range(2):
            expected[t, b, a[t, b]] = 1.0
    torch.testing.assert_close(q.grad, expected)
    with pytest.raises(ValueError):
        select_at_indexes(torch.zeros(3, dtype=torch.long), torch.zeros(2, 4))
    with pytest.raises(ValueError):
        nu.select_at_indexes(np.zeros(3, dtype=int), np.zeros(3))


@settings(max_examples=50, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    num=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_onehot_round_trip_and_numpy_twin(shape, num, seed):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, num, tuple(shape), generator=g)
    onehot = to_onehot(idx, num, dtype=torch.float32)
    assert onehot.shape == tuple(shape) + (num,)
    assert onehot.dtype == torch.float32
    torch.testing.assert_close(onehot.sum(-1), torch.ones(tuple(shape)))
    torch.testing.assert_close(from_onehot(onehot), idx)
    np_onehot = nu.to_onehot(idx.numpy(), num, dtype=np.float32)
    np.testing.assert_array_equal(np_onehot, onehot.numpy())
    np.testing.assert_array_equal(nu.from_onehot(np_onehot), idx.numpy())


def test_onehot_dtypes_and_dim():
    idx = torch.tensor([2, 0], dtype=torch.int32)
    assert to_onehot(idx, 3).dtype == torch.int32
    torch.testing.assert_close(to_onehot(idx, 3), torch.tensor([[0, 0, 1], [1, 0, 0]]).int())
    assert to_onehot(idx, 3, dtype=torch.bool).tolist() == [
        [False, False, True],
        [True, False, False],
    ]
    oh = to_onehot(idx, 3, dtype=torch.float32).t()  # codes along dim 0
    torch.testing.assert_close(from_onehot(oh, dim=0, dtype=torch.int32), idx)
    assert nu.to_onehot(np.array([1], dtype=np.uint8), 2).dtype == np.uint8
    np.testing.assert_array_equal(
        nu.from_onehot(nu.to_onehot(np.array([2, 0]), 3).T, dim=0, dtype=np.int32), [2, 0]
    )


@settings(max_examples=50, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
    as_float=st.booleans(),
    dim_choice=st.integers(-1, 2),
)
def test_valid_mean_matches_reference_and_numpy(shape, seed, as_float, dim_choice):
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    x = rng.standard_normal(shape)
    mask = rng.random(shape) < 0.6
    valid = mask.astype(np.float64) if as_float else mask
    dim = None if dim_choice < 0 or dim_choice >= len(shape) else dim_choice
    got = valid_mean(torch.from_numpy(x), torch.from_numpy(valid), dim=dim)
    # Reference: masked sums, 0 where no entry is valid.
    num = (x * mask).sum(axis=dim)
    cnt = mask.sum(axis=dim)
    ref = np.where(cnt > 0, num / np.maximum(cnt, 1), 0.0)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nu.valid_mean(x, valid, dim=dim), ref, rtol=1e-12, atol=1e-12)
    # valid=None is the plain mean.
    torch.testing.assert_close(
        valid_mean(torch.from_numpy(x), dim=dim), torch.from_numpy(np.asarray(x.mean(axis=dim)))
    )
    np.testing.assert_allclose(nu.valid_mean(x, dim=dim), x.mean(axis=dim))


def test_valid_mean_special_cases():
    x = torch.tensor([[1.0, float("nan")], [3.0, 5.0]])
    valid = torch.tensor([[True, False], [False, False]])
    torch.testing.assert_close(valid_mean(x, valid), torch.tensor(1.0))
    torch.testing.assert_close(valid_mean(x, valid, dim=0), torch.tensor([1.0, 0.0]))
    # Float weights are a weighted mean (not clamped at 1).
    w = torch.tensor([0.25, 0.25])
    torch.testing.assert_close(valid_mean(torch.tensor([2.0, 4.0]), w), torch.tensor(3.0))
    # Gradient flows only to valid entries.
    y = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    valid_mean(y, torch.tensor([True, False, True])).backward()
    torch.testing.assert_close(y.grad, torch.tensor([0.5, 0.0, 0.5]))
    np.testing.assert_allclose(nu.valid_mean(x.numpy(), valid.numpy()), 1.0)
