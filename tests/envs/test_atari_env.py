"""Tests for AtariEnv (ale-py) and AtariTrajInfo."""

import numpy as np
import numpy.testing as npt
import pytest

pytest.importorskip("ale_py")
cv2 = pytest.importorskip("cv2")

from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo, EnvInfo  # noqa: E402

pytestmark = pytest.mark.atari


def test_pong_steps_and_resets():
    env = AtariEnv(game="pong")
    obs = env.reset()
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8
    assert env.action_space.n == 6 and env.action_meanings[0] == "NOOP"
    assert env.horizon == 27000
    npt.assert_array_equal(obs[:3], 0)  # fresh stack: only the newest frame is filled
    assert obs[3].max() > 0
    prev = obs
    for _ in range(5):
        step = env.step(env.action_space.sample())
        npt.assert_array_equal(step.observation[:3], prev[1:])  # stack shifts, newest last
        assert isinstance(step.env_info, EnvInfo) and step.env_info.game_score.dtype == np.float32
        prev = step.observation
    assert step.observation is not env.step(0).observation  # returns copies


def test_obs_size_and_stack_depth():
    env = AtariEnv(game="space_invaders", num_img_obs=2, obs_size=(60, 50), frame_skip=1)
    assert env.reset().shape == (2, 60, 50)
    assert env.step(np.array(1)).observation.shape == (2, 60, 50)


def test_life_loss_semantics_breakout():
    env = AtariEnv(game="breakout", fire_on_reset=True, max_start_noops=0)
    env.seed(0)
    env.reset()
    lives0 = env.lives
    steps = 0
    while True:  # NOOP after the serve: the ball is missed and a life lost
        step = env.step(np.array(0))
        steps += 1
        if step.done or steps > 2000:
            break
    assert step.done is True and step.env_info.traj_done is False
    assert step.env_info.timeout is False and env.lives == lives0 - 1
    npt.assert_array_equal(step.observation[:3], 0)  # the new life starts a fresh stack
    frame_number = env.ale.getEpisodeFrameNumber()
    again = env.reset()  # continues the game: no hard reset, same observation
    npt.assert_array_equal(again, step.observation)
    assert env.ale.getEpisodeFrameNumber() == frame_number and env.lives == lives0 - 1
    total = AtariTrajInfo()
    while not step.env_info.traj_done:
        step = env.step(np.array(0))
        total.step(None, 0, step.reward, step.done, None, step.env_info)
    assert env.ale.game_over() and step.done and step.env_info.timeout is False
    env.reset()  # after game over: a new game
    assert env.lives == lives0


def test_no_episodic_lives():
    env = AtariEnv(game="breakout", episodic_lives=False, fire_on_reset=True, horizon=400)
    env.reset()
    dones = [env.step(np.array(0)).done for _ in range(400)]
    assert env.lives < 5 and not any(dones[:-1]) and dones[-1]


def test_horizon_timeout():
    env = AtariEnv(game="pong", horizon=10)
    env.reset()
    steps = [env.step(np.array(0)) for _ in range(10)]
    assert [s.done for s in steps] == [False] * 9 + [True]
    assert steps[-1].env_info.timeout is True and steps[-1].env_info.traj_done is True
    env.reset()
    assert env.step(np.array(0)).done is False  # step counter restarts at reset


def test_reward_clipping_vs_game_score():
    rewards = {}
    for clip in (True, False):
        env = AtariEnv(game="pong", clip_reward=clip, max_start_noops=0)
        env.seed(0)
        env.reset()
        rewards[clip] = [env.step(np.array(0)) for _ in range(80)]
    scores = np.array([s.env_info.game_score for s in rewards[True]])
    assert (scores != 0).any()  # the built-in opponent scores against a still paddle
    npt.assert_array_equal(scores, [s.env_info.game_score for s in rewards[False]])
    npt.assert_array_equal([s.reward for s in rewards[True]], np.sign(scores))
    npt.assert_array_equal([s.reward for s in rewards[False]], scores)


def test_space_invaders_score_clipped():
    env = AtariEnv(game="space_invaders", max_start_noops=0)
    env.seed(3)
    env.reset()
    steps = [env.step(np.array(1)) for _ in range(150)]  # keep firing
    scores = np.array([s.env_info.game_score for s in steps])
    assert scores.max() > 1  # points per invader exceed 1
    npt.assert_array_equal([s.reward for s in steps], np.sign(scores))
    info = AtariTrajInfo(discount=0.5)
    for s in steps:
        info.step(s.observation, 1, s.reward, s.done, None, s.env_info)
    assert info.GameScore == scores.sum() and info.Return == np.sign(scores).sum()
    assert info.Length == 150 and info.NonzeroRewards == (scores != 0).sum()
    assert info.terminate(None) is info


def test_seed_determinism():
    env = AtariEnv(game="breakout", repeat_action_probability=0.25)

    def rollout(seed):
        env.seed(seed)
        obs = [env.reset()]
        actions = np.random.default_rng(0).integers(0, 4, size=40)
        obs += [env.step(a).observation for a in actions]
        return np.stack(obs)

    a, b, c = rollout(1), rollout(1), rollout(2)
    npt.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unknown_game():
    with pytest.raises(ValueError, match="unknown game 'pongg'"):
        AtariEnv(game="pongg")


def test_traj_info_discount():
    info = AtariTrajInfo(discount=0.5)
    for r in (1.0, 1.0, 1.0):
        info.step(None, 0, np.float32(r), False, None, EnvInfo(np.float32(2 * r), False, False))
    assert info.DiscountedReturn == 1.75 and info.GameScore == 6.0 and info.Return == 3.0
    assert info.copy() == info and type(info.copy()) is AtariTrajInfo


@pytest.mark.parametrize(
    "game, frame_skip, obs_size",
    [("pong", 4, (84, 84)), ("breakout", 3, (84, 84)), ("space_invaders", 1, (60, 50))],
)
def test_observation_matches_reference_preprocessing(game, frame_skip, obs_size):
    """Pins the preprocessing exactly, so faster implementations cannot change the outputs:
    the newest frame is ``cv2.INTER_AREA`` of the elementwise max of the grayscale screens of
    a step's last two frames (the single frame when ``frame_skip=1``), older frames shift."""
    env = AtariEnv(game=game, frame_skip=frame_skip, obs_size=obs_size, max_start_noops=0)
    env.seed(0)
    prev = env.reset()
    ale = env.ale
    minimal = ale.getMinimalActionSet()  # actions index the minimal action set
    rng = np.random.default_rng(0)
    for _ in range(40):
        a = int(rng.integers(len(minimal)))
        state = ale.cloneState()
        screens = []
        for _ in range(frame_skip):  # replay the step on the emulator, keeping every screen
            ale.act(minimal[a])
            screens.append(ale.getScreenGrayscale())
        pooled = np.maximum(screens[-2], screens[-1]) if frame_skip > 1 else screens[-1]
        expected = cv2.resize(pooled, obs_size[::-1], interpolation=cv2.INTER_AREA)
        ale.restoreState(state)
        step = env.step(np.array(a))
        assert not step.done  # no life lost in these first steps: no stack restart
        npt.assert_array_equal(step.observation[-1], expected)
        npt.assert_array_equal(step.observation[:-1], prev[1:])
        prev = step.observation
