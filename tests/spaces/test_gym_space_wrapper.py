"""Tests for GymSpaceWrapper: every supported Gymnasium space, convert/revert, errors."""

import pickle

import gymnasium as gym
import numpy as np
import numpy.testing as npt
import pytest

from rlpyt.spaces.composite import Composite
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.gym_wrapper import GymSpaceWrapper, sanitize_field_name, sanitize_field_names
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.collections import is_namedarraytuple


def test_float_box_forced_to_float32():
    gs = gym.spaces.Box(-2.0, 3.0, (3,), dtype=np.float64)
    w = GymSpaceWrapper(gs)
    assert isinstance(w.space, FloatBox) and w.dtype == np.float32 and w.shape == (3,)
    x = w.convert(np.array([0.5, 1.0, -2.0]))
    assert x.dtype == np.float32
    back = w.revert(x)
    assert back.dtype == np.float64
    npt.assert_allclose(back, [0.5, 1.0, -2.0])
    assert GymSpaceWrapper(gs, force_float32=False).dtype == np.float64


def test_integer_box_becomes_int_box_with_exclusive_high():
    gs = gym.spaces.Box(0, 255, (2, 3), dtype=np.uint8)
    w = GymSpaceWrapper(gs)
    assert isinstance(w.space, IntBox) and w.dtype == np.uint8 and w.n == 256
    assert w.contains(np.full((2, 3), 255, np.uint8))


def test_discrete_with_start_shifts_values():
    gs = gym.spaces.Discrete(4, start=-2)
    w = GymSpaceWrapper(gs, name="act")
    assert isinstance(w.space, IntBox) and w.shape == () and w.n == 4
    x = w.convert(np.int64(-2))
    assert x.shape == () and x == 0 and x.dtype == np.int64
    a = w.revert(np.array(3))
    assert a == 1 and type(a) is gs.dtype.type and gs.contains(a)
    for _ in range(20):
        assert gs.contains(w.revert(w.sample()))


def test_multi_discrete_and_multi_binary():
    md = gym.spaces.MultiDiscrete([3, 5], start=[1, -1])
    w = GymSpaceWrapper(md)
    npt.assert_array_equal(w.n, [3, 5])
    npt.assert_array_equal(w.convert(np.array([1, -1])), [0, 0])
    back = w.revert(np.array([2, 4]))
    npt.assert_array_equal(back, [3, 3])
    assert md.contains(back)
    mb = GymSpaceWrapper(gym.spaces.MultiBinary(4))
    assert mb.dtype == np.int8 and mb.shape == (4,) and mb.n == 2
    assert gym.spaces.MultiBinary(4).contains(mb.revert(mb.sample()))


def test_dict_and_tuple_become_composites():
    gs = gym.spaces.Dict(
        {
            "pixels": gym.spaces.Box(0, 255, (2, 2), np.uint8),
            "episode.r": gym.spaces.Box(-1.0, 1.0, (1,), np.float64),
            "pair": gym.spaces.Tuple([gym.spaces.Discrete(3, start=1), gym.spaces.MultiBinary(2)]),
        }
    )
    w = GymSpaceWrapper(gs, name="obs")
    assert isinstance(w.space, Composite)
    # Gymnasium sorts the keys of a plain dict; fields follow the space's key order.
    assert list(gs.spaces) == ["episode.r", "pair", "pixels"]
    assert w.names == ("episode_r", "pair", "pixels")
    assert w.space["pair"].names == ("f0", "f1")
    x = w.sample()
    assert is_namedarraytuple(x) and x.pixels.dtype == np.uint8 and x.episode_r.dtype == np.float32
    gym_value = gs.sample()
    converted = w.convert(gym_value)
    npt.assert_array_equal(converted.pixels, gym_value["pixels"])
    assert converted.pair.f0 == gym_value["pair"][0] - 1
    reverted = w.revert(converted)
    assert isinstance(reverted, dict) and list(reverted) == list(gs.spaces)
    assert isinstance(reverted["pair"], tuple)
    assert gs.contains(reverted)
    npt.assert_allclose(reverted["episode.r"], gym_value["episode.r"], rtol=1e-6)
    null = w.null_value()
    npt.assert_array_equal(null.pixels, np.zeros((2, 2), np.uint8))


def test_seed_and_pickle():
    gs = gym.spaces.Dict({"a": gym.spaces.Discrete(10), "b": gym.spaces.Box(-1, 1, (2,))})
    w = GymSpaceWrapper(gs)
    w.seed(3)
    first = w.sample()
    w.seed(3)
    clone = pickle.loads(pickle.dumps(w))
    for x in (w.sample(), clone.sample()):
        assert x.a == first.a
        npt.assert_array_equal(x.b, first.b)


@pytest.mark.parametrize(
    "bad",
    [gym.spaces.Text(5), gym.spaces.Sequence(gym.spaces.Discrete(2)), "not a space"],
)
def test_unsupported_spaces_raise_clear_error(bad):
    with pytest.raises(TypeError, match="unsupported space .* expected a Gymnasium space"):
        GymSpaceWrapper(bad, name="obs")


def test_sanitize_field_names():
    assert sanitize_field_name("episode.r") == "episode_r"
    assert sanitize_field_name("TimeLimit.truncated") == "TimeLimit_truncated"
    assert sanitize_field_name("lives") == "lives"
    assert sanitize_field_name(0) == "f0"
    assert sanitize_field_name("_private") == "f_private"
    assert sanitize_field_name("") == "f"
    assert sanitize_field_name("lambda") == "lambda_"
    assert sanitize_field_name("items") == "items_"
    assert sanitize_field_names(["a.b", "a_b", "a-b"], taken=["x"]) == ["a_b", "a_b_2", "a_b_3"]
    assert sanitize_field_names(["timeout"], taken=["timeout"]) == ["timeout_2"]
