"""Tests for IntBox, FloatBox and Composite: sampling, null values, seeding, pickling."""

import pickle

import numpy as np
import numpy.testing as npt
import pytest

from rlpyt.spaces.composite import Composite
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.collections import namedarraytuple

Obs = namedarraytuple("Obs", ["image", "vector"])


def test_int_box_scalar():
    space = IntBox(0, 5)
    assert space.shape == () and space.dtype == np.int64 and space.n == 5
    samples = np.array([space.sample() for _ in range(500)])
    assert samples.min() == 0 and samples.max() == 4  # high is exclusive
    x = space.sample()
    assert isinstance(x, np.ndarray) and x.shape == () and x.dtype == np.int64
    null = space.null_value()
    assert null.shape == () and null.dtype == np.int64 and null == 0
    assert space.contains(np.int64(4)) and not space.contains(np.int64(5))
    assert np.int64(-1) not in space


def test_int_box_shapes_dtypes_and_null():
    space = IntBox(0, 256, shape=(4, 3), dtype="uint8")
    x = space.sample()
    assert x.shape == (4, 3) and x.dtype == np.uint8
    assert space.n == 256
    npt.assert_array_equal(IntBox(2, 7, shape=(3,)).null_value(), [2, 2, 2])  # 0 clipped
    npt.assert_array_equal(IntBox(0, 7, shape=(2,), null_value=6).null_value(), [6, 6])
    varying = IntBox(0, np.array([2, 3, 4]))
    assert varying.shape == (3,)
    npt.assert_array_equal(varying.n, [2, 3, 4])
    draws = np.stack([varying.sample() for _ in range(300)])
    npt.assert_array_equal(draws.max(axis=0), [1, 2, 3])


def test_int_box_rejects_bad_arguments():
    with pytest.raises(ValueError, match="low < high"):
        IntBox(3, 3)
    with pytest.raises(TypeError, match="integer"):
        IntBox(0, 3, dtype="float32")
    with pytest.raises(ValueError, match="broadcast"):
        IntBox(np.zeros(2), np.ones(3), shape=(2,))


def test_float_box_bounded_and_unbounded():
    space = FloatBox(-1, 2, shape=(1000,))
    x = space.sample()
    assert x.dtype == np.float32 and x.shape == (1000,)
    assert x.min() >= -1 and x.max() <= 2 and x.std() > 0.5
    npt.assert_array_equal(space.null_value(), np.zeros(1000, np.float32))
    npt.assert_array_equal(FloatBox(-1, 1, (2,), null_value=0.5).null_value(), [0.5, 0.5])
    half = FloatBox(np.array([0.0, -np.inf, -np.inf]), np.array([np.inf, 0.0, np.inf]))
    draws = np.stack([half.sample() for _ in range(200)])
    assert draws[:, 0].min() >= 0 and draws[:, 1].max() <= 0
    assert draws[:, 2].min() < 0 < draws[:, 2].max()
    assert FloatBox(-np.inf, np.inf).sample().shape == ()
    assert FloatBox(-1, 1, (2,), dtype="float64").sample().dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        FloatBox(0, 1, dtype="int64")


def test_seeding_makes_sampling_reproducible():
    spaces = [IntBox(0, 100, (5,)), FloatBox(-1, 1, (5,))]
    for space in spaces:
        space.seed(123)
        a = [space.sample() for _ in range(3)]
        space.seed(123)
        b = [space.sample() for _ in range(3)]
        for x, y in zip(a, b):
            npt.assert_array_equal(x, y)
        space.seed(124)
        assert not np.array_equal(space.sample(), a[0])


def test_composite():
    space = Composite([IntBox(0, 256, (2, 2), "uint8"), FloatBox(-1, 1, (3,))], Obs)
    assert space.names == ("image", "vector")
    assert space.shape == Obs((2, 2), (3,))
    assert space.dtype == Obs(np.dtype("uint8"), np.dtype("float32"))
    x = space.sample()
    assert isinstance(x, Obs) and x.image.shape == (2, 2) and x.vector.dtype == np.float32
    assert space.contains(x)
    null = space.null_value()
    npt.assert_array_equal(null.vector, np.zeros(3, np.float32))
    assert space["vector"] is space.spaces[1]
    space.seed(5)
    a = space.sample()
    space.seed(5)
    b = space.sample()
    npt.assert_array_equal(a.image, b.image)
    npt.assert_array_equal(a.vector, b.vector)
    with pytest.raises(ValueError, match="fields"):
        Composite([IntBox(0, 2)], Obs)


def test_spaces_pickle():
    space = Composite([IntBox(0, 256, (2, 2), "uint8"), FloatBox(-1, 1, (3,))], Obs)
    space.seed(7)
    clone = pickle.loads(pickle.dumps(space))
    a, b = space.sample(), clone.sample()  # the generator state travels too
    npt.assert_array_equal(a.image, b.image)
    npt.assert_array_equal(a.vector, b.vector)
    assert clone.shape == space.shape
