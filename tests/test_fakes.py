"""Tests for the counting fake env used by sampler tests."""

import numpy as np
import numpy.testing as npt

from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from tests.fakes import CountingEnv


def test_counts_from_reset():
    env = CountingEnv(obs_shape=(2, 3))
    npt.assert_array_equal(env.reset(), np.zeros((2, 3), np.float32))
    for k in range(1, 6):
        obs, reward, done, info = env.step(env.action_space.sample())
        npt.assert_array_equal(obs, np.full((2, 3), k, np.float32))
        assert obs.dtype == np.float32 and reward == float(k) and done is False
        assert info.k == k and info.timeout is False and info.traj_done is False
    assert env.horizon is None and env.n_resets == 1


def test_done_every_and_timeout_every():
    env = CountingEnv(done_every=3, timeout_every=4)
    assert env.horizon == 4
    env.reset()
    steps = [env.step(0) for _ in range(3)]
    assert [s.done for s in steps] == [False, False, True]
    assert steps[-1].env_info.traj_done is True and steps[-1].env_info.timeout is False
    env.reset()
    assert env.step(0).env_info.k == 1  # reset restarts the count
    env = CountingEnv(done_every=5, timeout_every=4)
    env.reset()
    last = [env.step(0) for _ in range(4)][-1]
    assert last.done and last.env_info.timeout and last.env_info.traj_done


def test_termination_wins_over_timeout():
    env = CountingEnv(done_every=4, timeout_every=4)
    env.reset()
    last = [env.step(0) for _ in range(4)][-1]
    assert last.done and last.env_info.traj_done and last.env_info.timeout is False


def test_spaces_and_seed():
    env = CountingEnv(n_actions=4)
    assert isinstance(env.action_space, IntBox) and env.action_space.n == 4
    assert isinstance(env.observation_space, FloatBox) and env.observation_space.shape == (2,)
    cont = CountingEnv(n_actions=2, continuous=True, seed=1)
    assert isinstance(cont.action_space, FloatBox) and cont.action_space.shape == (2,)
    other = CountingEnv(n_actions=2, continuous=True, seed=1)
    npt.assert_array_equal(cont.action_space.sample(), other.action_space.sample())
    cont.step(np.array([0.5, -0.5]))
    npt.assert_array_equal(cont.last_action, [0.5, -0.5])
