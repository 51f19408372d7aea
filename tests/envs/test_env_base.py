"""Tests for the Env interface and its types."""

import pickle

import pytest

from rlpyt.envs.base import Env, EnvInfo, EnvSpaces, EnvStep
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox


class _Minimal(Env):
    def __init__(self):
        self._action_space = IntBox(0, 2)
        self._observation_space = FloatBox(-1, 1, (3,))

    def step(self, action):
        return EnvStep(self._observation_space.null_value(), 0.0, False, EnvInfo())

    def reset(self):
        return self._observation_space.null_value()


def test_env_is_abstract():
    with pytest.raises(TypeError):
        Env()


def test_env_defaults_and_spaces():
    env = _Minimal()
    assert env.spaces == EnvSpaces(observation=env.observation_space, action=env.action_space)
    assert env.spaces.action.n == 2
    assert env.horizon is None
    env.seed(4)
    assert env._seed == 4
    step = env.step(env.action_space.sample())
    assert step.env_info._fields == () and step.done is False
    assert env.close() is None


def test_types_pickle():
    step = EnvStep(1, 2.0, False, EnvInfo())
    assert pickle.loads(pickle.dumps(step)) == step
