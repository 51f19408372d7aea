"""Tests for GymEnvWrapper / gym_make: done, timeout, traj_done, info dicts, seeding, pickling."""

import multiprocessing as mp
import pickle
import warnings

import gymnasium as gym
import numpy as np
import numpy.testing as npt
import pytest
from gymnasium.wrappers import TimeLimit

from rlpyt.envs.gym import GymEnvWrapper, gym_make, make
from rlpyt.envs.gym import make as gym_make_alias
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.collections import is_namedarraytuple


class ScriptedEnv(gym.Env):
    """Gymnasium env with obs = [t, t], info = info_fn(t), terminated at step `terminate_at`."""

    def __init__(self, info_fn=lambda t: {}, reset_info=None, terminate_at=None, start=0):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
        self.action_space = gym.spaces.Discrete(3, start=start)
        self.info_fn, self.reset_info, self.terminate_at = info_fn, reset_info or {}, terminate_at
        self.t, self.received, self.reset_seeds = 0, [], []

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.reset_seeds.append(seed)
        self.t = 0
        return np.zeros(2), dict(self.reset_info)

    def step(self, action):
        assert self.action_space.contains(action), action
        self.received.append(action)
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.full(2, float(self.t)), 1.0, terminated, False, self.info_fn(self.t)


def _run(env, n):
    env.reset()
    return [env.step(env.action_space.sample()) for _ in range(n)]


def _episode(env, policy):
    """Run one episode; return its length and the last env_info."""
    obs, done, t = env.reset(), False, 0
    while not done:
        obs, _, done, info = env.step(policy(obs))
        t += 1
    return t, info


def test_aliases():
    assert gym_make is make and gym_make_alias is make
    # The normal path to workers: the factory and its kwargs pickle by reference.
    factory, kwargs = pickle.loads(pickle.dumps((gym_make, dict(id="CartPole-v1"))))
    assert factory is make and kwargs["id"] == "CartPole-v1"


def test_step_types_and_action_revert():
    env = GymEnvWrapper(ScriptedEnv(start=5))
    assert isinstance(env.action_space.space, IntBox) and env.action_space.n == 3
    obs = env.reset()
    npt.assert_array_equal(obs, np.zeros(2, np.float32))
    assert obs.dtype == np.float32
    step = env.step(np.array(2))  # int64 0-d array, as agents send it
    assert env.env.unwrapped.received[-1] == 7
    assert step.observation.dtype == np.float32 and step.reward == 1.0
    assert isinstance(step.reward, np.float32) and step.done is False
    assert step.env_info.timeout is False and step.env_info.traj_done is False


def test_timeout_from_time_limit():
    env = GymEnvWrapper(TimeLimit(ScriptedEnv(), max_episode_steps=5))
    steps = _run(env, 5)
    assert [s.done for s in steps] == [False] * 4 + [True]
    assert [s.env_info.timeout for s in steps] == [False] * 4 + [True]
    assert steps[-1].env_info.traj_done is True


def test_termination_wins_over_truncation():
    env = GymEnvWrapper(TimeLimit(ScriptedEnv(terminate_at=5), max_episode_steps=5))
    last = _run(env, 5)[-1]
    assert last.done is True and last.env_info.timeout is False and last.env_info.traj_done


def test_cartpole_times_out_at_500_when_balanced():
    env = gym_make("CartPole-v1")
    assert env.horizon == 500
    env.seed(0)
    t, info = _episode(env, lambda obs: np.array(int(obs[2] + 0.5 * obs[3] > 0)))
    assert t == 500 and info.timeout is True and info.traj_done is True


def test_cartpole_falling_is_termination():
    env = gym_make("CartPole-v1", max_episode_steps=200)
    assert env.horizon == 200
    env.seed(1)
    t, info = _episode(env, lambda obs: np.array(1))  # always push right: falls in ~10 steps
    assert t < 200 and info.timeout is False and info.traj_done is True


def test_seed_reproducible_and_used_once():
    obs = []
    for _ in range(2):
        env = gym_make("CartPole-v1")
        env.seed(42)
        obs.append(env.reset())
        obs.append(env.action_space.sample())
    npt.assert_array_equal(obs[0], obs[2])
    assert obs[1] == obs[3]
    scripted = ScriptedEnv()
    env = GymEnvWrapper(scripted)
    env.seed(9)
    env.reset()
    env.reset()
    assert scripted.reset_seeds[-2:] == [9, None]


def test_info_fields_discovered_sanitized_and_nulled():
    def info_fn(t):
        info = {"lives": 3 - t // 2, "episode.r": 0.5 * t, "flag": t % 2 == 0, "vec": np.ones(3)}
        if t % 3 == 0:
            info["episode"] = {"r": float(t), "l": t}
        return info

    env = GymEnvWrapper(ScriptedEnv(info_fn, reset_info={"seed_used": 7}), info_example=None)
    fields = env.env_info_cls._fields
    assert fields == ("seed_used", "lives", "episode_r", "flag", "vec", "timeout", "traj_done")
    env = GymEnvWrapper(
        ScriptedEnv(info_fn, reset_info={"seed_used": 7}),
        info_example={"episode": {"r": 0.0, "l": 0}},
    )
    assert env.env_info_cls._fields[0] == "episode"
    steps = _run(env, 3)
    for step in steps:
        assert step.env_info._fields == env.env_info_cls._fields
        assert is_namedarraytuple(step.env_info.episode)
    info1, info3 = steps[0].env_info, steps[2].env_info
    assert info1.episode.r == 0.0 and info1.episode.l == 0  # absent -> zeros
    assert info3.episode.r == 3.0 and info3.episode.l == 3
    assert info1.seed_used == 0  # only in reset info -> zeros at steps
    assert info3.lives == 2 and info3.lives.dtype == np.int64
    assert info3.flag.dtype == np.bool_ and not info3.flag
    npt.assert_array_equal(info3.vec, np.ones(3))
    assert info1.episode_r == 0.5


def test_new_key_warns_once_and_is_dropped():
    env = GymEnvWrapper(ScriptedEnv(lambda t: {"a": 1.0} if t < 3 else {"a": 1.0, "late": t}))
    env.reset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = [env.step(np.array(0)) for _ in range(6)]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "'late'" in messages[0]
    assert all(s.env_info._fields == ("a", "timeout", "traj_done") for s in steps)


def test_non_numeric_values():
    fn = lambda t: {"name": "pong", "none": None, "x": 1.0}  # noqa: E731
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = GymEnvWrapper(ScriptedEnv(fn))
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2 and "'name'" in messages[0] and "'none'" in messages[1]
    assert all("non-numeric" in m for m in messages)
    assert env.env_info_cls._fields == ("x", "timeout", "traj_done")
    with pytest.raises(ValueError, match="info_example\\['name'\\]"):
        GymEnvWrapper(ScriptedEnv(lambda t: {}), info_example={"name": "pong"})


def test_value_changing_shape_gets_zeros_with_warning():
    env = GymEnvWrapper(ScriptedEnv(lambda t: {"v": np.ones(2) if t < 3 else np.ones(3)}))
    env.reset()
    with pytest.warns(UserWarning, match="'v' changed shape"):
        steps = [env.step(np.array(0)) for _ in range(3)]
    npt.assert_array_equal(steps[-1].env_info.v, np.zeros(2))


def _roundtrip(env_info):
    return env_info, type(env_info).__name__, env_info._fields


def test_env_info_pickles_across_spawn():
    fn = lambda t: {"episode.r": 1.5, "nested": {"k": t}}  # noqa: E731
    env = GymEnvWrapper(ScriptedEnv(fn))
    env.reset()
    info = env.step(np.array(1)).env_info
    with mp.get_context("spawn").Pool(1) as pool:
        back, name, fields = pool.apply(_roundtrip, (info,))
    assert name == "EnvInfo" and fields == ("episode_r", "nested", "timeout", "traj_done")
    assert back.episode_r == 1.5 and back.nested.k == 1 and back.timeout is False
    assert type(back) is type(info)


@pytest.mark.mujoco
def test_half_cheetah_truncates_at_1000():
    pytest.importorskip("mujoco")
    env = gym_make("HalfCheetah-v5")
    assert env.horizon == 1000
    assert env.observation_space.shape == (17,) and env.observation_space.dtype == np.float32
    assert env.action_space.shape == (6,)
    env.seed(0)
    env.reset()
    for t in range(1, 1001):
        obs, reward, done, info = env.step(env.action_space.sample())
        assert obs.dtype == np.float32 and done == (t == 1000)
    assert info.timeout is True and info.traj_done is True
    assert "x_velocity" in info._fields
    env.close()
