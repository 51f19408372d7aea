"""Learning tests for the DQN family on CartPole (marked `learning`), and Atari smoke runs of
every Atari agent with its algorithm (marked `atari`).

Runs are seeded and single-threaded. CartPole runs are judged on the greedy agent's offline
evaluation (4 full episodes, `MinibatchRlEval`) near the end of the budget: the best of the last
three evaluations, i.e. over the last ~10k steps. DQN's greedy policy on CartPole oscillates
(a policy at 500 can drop for an evaluation or two after a burst of updates and recover), so a
single final evaluation would judge the phase of that oscillation rather than whether the task
was learned, while a best over the whole run would reward an early lucky policy; the last
three evaluations must show the solved policy late in training.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlpyt.agents.dqn.atari.atari_catdqn_agent import AtariCatDqnAgent
from rlpyt.agents.dqn.atari.atari_dqn_agent import AtariDqnAgent
from rlpyt.agents.dqn.atari.atari_r2d1_agent import AtariR2d1Agent
from rlpyt.agents.dqn.catdqn_agent import CatDqnAgent
from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.agents.dqn.r2d1_agent import R2d1Agent
from rlpyt.algos.dqn.cat_dqn import CategoricalDQN
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.algos.dqn.r2d1 import R2D1
from rlpyt.envs.gym import gym_make
from rlpyt.envs.pomdp import masked_gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl, MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger


@pytest.fixture(autouse=True)
def one_thread_quiet_logger():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


class RecordingEval(MinibatchRlEval):
    """``MinibatchRlEval`` that keeps the average return of every evaluation."""

    def evaluate_agent(self, itr):
        traj_infos, eval_time = super().evaluate_agent(itr)
        returns = [info["Return"] for info in traj_infos]
        self.eval_returns.append(float(np.mean(returns)) if returns else math.nan)
        return traj_infos, eval_time


def train_eval(agent, algo, n_steps, seed, masked=False, batch_T=64, batch_B=4):
    """Train on CartPole-v1 (velocities hidden with ``masked``), evaluating every ~5k steps;
    return the list of evaluation returns (the first one before training)."""
    env_kwargs = dict(id="CartPole-v1")
    if masked:
        env_kwargs["keep_indices"] = [0, 2]  # cart position and pole angle only
    sampler = SerialSampler(
        EnvCls=masked_gym_make if masked else gym_make,
        env_kwargs=env_kwargs,
        batch_T=batch_T,
        batch_B=batch_B,
        max_decorrelation_steps=0,
        eval_n_envs=4,
        eval_max_steps=4 * 500,
        eval_max_trajectories=4,
    )
    runner = RecordingEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        log_interval_steps=5000,
        progress_bar=False,
    )
    runner.eval_returns = []
    runner.train()
    return runner.eval_returns


def late_best(eval_returns, k=3):
    return max(eval_returns[-k:])


# The tuned CartPole DQN of rl-baselines3-zoo (which the lead measured at [256, 256] and replay
# ratio 32, ~5 min here) with a [128, 128] network and half the updates (~12k): ~1-2 min.
DQN_CARTPOLE = dict(
    discount=0.99,
    batch_size=64,
    min_steps_learn=1000,
    replay_size=int(1e5),
    replay_ratio=16,
    target_update_interval=128,
    learning_rate=2.3e-3,
    eps_steps=8000,
    double_dqn=True,
    n_step_return=3,
    delta_clip=1.0,
    clip_grad_norm=10.0,
)


def dqn_cartpole(seed, masked=False, n_steps=5e4):
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=[128, 128], dueling=True), eps_final=0.04)
    return train_eval(agent, DQN(**DQN_CARTPOLE), n_steps, seed, masked=masked)


def plain_dqn_cartpole(seed, n_steps=5e4):
    """Double DQN on a [64, 64] plain MLP with batch 32 (half the updates' samples of the
    config above): small enough for the NumPy acting and update paths of
    ``rlpyt.models.plain_mlp``. Late best on an AMD EPYC, seeds 1-9: 500 for all but seed 8
    (290); a replay ratio of 16 learned faster but collapsed late for seeds 1 and 3."""
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=[64, 64]), eps_final=0.04)
    algo = DQN(**{**DQN_CARTPOLE, "batch_size": 32, "replay_ratio": 8})
    returns = train_eval(agent, algo, n_steps, seed)
    return returns, agent, algo


@pytest.mark.learning
@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_double_dueling_dqn_solves_cartpole_within_50k_steps(seed):
    returns = dqn_cartpole(seed)
    assert late_best(returns) >= 400, returns


@pytest.mark.learning
@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_double_dqn_plain_mlp_solves_cartpole_within_50k_steps(seed):
    returns, agent, algo = plain_dqn_cartpole(seed)
    batch = algo.replay_buffer.sample_batch(algo.batch_size)
    assert agent.explicit_q(batch.agent_inputs.observation.numpy()) is not None  # NumPy path
    assert late_best(returns) >= 400, returns


@pytest.mark.learning
@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_categorical_dqn_solves_cartpole_within_50k_steps(seed):
    # Returns are at most sum(0.99**t) = 100: atoms on [0, 100], 2 apart.
    agent = CatDqnAgent(
        n_atoms=51, model_kwargs=dict(hidden_sizes=[128, 128], dueling=True), eps_final=0.04
    )
    # Half DQN's updates suffice (the distributional loss learns faster here): ~6.6k.
    algo = CategoricalDQN(V_min=0, V_max=100, **{**DQN_CARTPOLE, "replay_ratio": 8})
    returns = train_eval(agent, algo, 5e4, seed)
    # 400 (of 500): the task's usual "solved" region, well above a partly learned balance.
    assert late_best(returns) >= 400, returns


# R2D1 on masked CartPole: velocities follow from two consecutive observations, so short
# sequences (4 burn-in + 16 trained steps, a state stored every 4 steps) suffice.
R2D1_MASKED = dict(
    discount=0.99,
    batch_T=16,
    batch_B=32,
    warmup_T=4,
    store_rnn_state_interval=4,
    min_steps_learn=2000,
    replay_size=50000,
    replay_ratio=16,
    target_update_interval=25,
    n_step_return=3,
    learning_rate=5e-4,  # 1e-3 reached 186 / 416 / 450 (seeds 1-3) on an AMD EPYC; 5e-4 all > 200
    optim_kwargs=dict(eps=1e-6),
    clip_grad_norm=10.0,
    eps_steps=10000,
)


@pytest.mark.learning
def test_r2d1_beats_feedforward_dqn_when_velocities_are_hidden():
    n_steps = 6e4
    agent = R2d1Agent(eps_final=0.02)
    r2d1 = train_eval(agent, R2D1(**R2D1_MASKED), n_steps, 1, masked=True, batch_T=16, batch_B=8)
    ff = dqn_cartpole(1, masked=True, n_steps=n_steps)
    # Feed-forward DQN (the settings that solve full CartPole) stays near 40 here; R2D1 ends
    # at 223-494 (best of the last 3 evaluations, seeds 1-3; 494 for seed 1).
    assert late_best(r2d1) >= 200, (r2d1, ff)
    assert late_best(r2d1) >= 3 * late_best(ff), (r2d1, ff)


# --- Atari smoke runs --------------------------------------------------------------------------


def atari_run(agent, algo, n_steps=256, batch_T=16, batch_B=2):
    from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo

    sampler = SerialSampler(
        EnvCls=AtariEnv,
        TrajInfoCls=AtariTrajInfo,
        env_kwargs=dict(game="pong"),
        batch_T=batch_T,
        batch_B=batch_B,
        max_decorrelation_steps=0,
    )
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=0,
        log_interval_steps=n_steps,
        progress_bar=False,
    )
    runner.train()
    return algo


def _assert_trained(algo, updates, replay_name):
    assert algo.update_counter == updates
    assert type(algo.replay_buffer).__name__ == replay_name
    assert algo.replay_buffer.n_frames == 4  # one frame per step in the replay
    for p in algo.agent.parameters():
        assert torch.isfinite(p).all()


@pytest.mark.atari
@pytest.mark.timeout(240)
def test_atari_dqn_smoke():
    pytest.importorskip("ale_py")
    algo = DQN(
        min_steps_learn=128,
        replay_size=512,
        batch_size=8,
        replay_ratio=1,
        double_dqn=True,
        n_step_return=3,
        prioritized_replay=True,
    )
    atari_run(AtariDqnAgent(model_kwargs=dict(dueling=True)), algo)
    # 32 steps per itr, 4 updates per itr from itr 4 (128 steps) to 7.
    _assert_trained(algo, 4 * 4, "_ComposedReplayBuffer")


@pytest.mark.atari
@pytest.mark.timeout(240)
def test_atari_rainbow_smoke():
    pytest.importorskip("ale_py")
    algo = CategoricalDQN(
        min_steps_learn=128,
        replay_size=512,
        batch_size=8,
        replay_ratio=1,
        double_dqn=True,
        n_step_return=3,
        prioritized_replay=True,
    )
    agent = AtariCatDqnAgent(model_kwargs=dict(dueling=True, noisy=True), eps_init=0, eps_final=0)
    atari_run(agent, algo)
    _assert_trained(algo, 4 * 4, "_ComposedReplayBuffer")


@pytest.mark.atari
@pytest.mark.timeout(240)
def test_atari_r2d1_smoke():
    pytest.importorskip("ale_py")
    algo = R2D1(
        batch_T=8,
        batch_B=2,
        warmup_T=4,
        store_rnn_state_interval=4,
        min_steps_learn=128,
        replay_size=512,
        replay_ratio=1,
    )
    atari_run(AtariR2d1Agent(), algo)
    # 32 steps per itr, 32 / 16 = 2 updates per itr from itr 4 to 7.
    _assert_trained(algo, 2 * 4, "PrioritizedSequenceReplayFrameBuffer")
