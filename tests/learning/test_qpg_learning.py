"""Learning tests of DDPG, TD3 and SAC (marked `learning`).

Pendulum-v1: each algorithm must reach an average evaluation return of -250 (10 episodes of
the deterministic policy, evaluated every 2500 steps) within 15k env steps; the run stops at
the first evaluation that does, to keep CI short. Settings: one env, one gradient update per
env step, 64x64 networks (the benchmark's 256x256 learn as well, at ~4x the CPU time), batch
128, learning from 1000 steps on. SAC on MuJoCo's InvertedPendulum-v5 must balance for the
whole episode (return 1000). Seeds are fixed and runs single-threaded; thresholds are the
tasks' usual ones, not tuned to a lucky seed (other seeds reach them at similar step counts).
"""

import numpy as np
import pytest
import torch

from rlpyt.agents.qpg.ddpg_agent import DdpgAgent
from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.agents.qpg.td3_agent import Td3Agent
from rlpyt.algos.qpg.ddpg import DDPG
from rlpyt.algos.qpg.sac import SAC
from rlpyt.algos.qpg.td3 import TD3
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

pytestmark = pytest.mark.learning

NETS = dict(model_kwargs=dict(hidden_sizes=[64, 64]), q_model_kwargs=dict(hidden_sizes=[64, 64]))
COMMON = dict(batch_size=128, replay_ratio=128, min_steps_learn=1000, target_update_tau=0.005)


@pytest.fixture(autouse=True)
def one_thread_quiet_logger():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


class Reached(Exception):
    """Raised from the runner's logging once an evaluation reaches the threshold."""


def train_until(agent, algo, env_id, n_steps, threshold, log_interval_steps, eval_episodes, seed):
    """Train with evaluations every ``log_interval_steps``; stop at the first evaluation
    whose average return is ``>= threshold``. Returns ``(reached, [(step, return), ...])``."""
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        eval_env_kwargs=dict(id=env_id),
        batch_T=1,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=1,
        eval_max_steps=1000 * eval_episodes + 1,
        eval_max_trajectories=eval_episodes,
    )
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        log_interval_steps=log_interval_steps,
        progress_bar=False,
    )
    evaluations = []
    log_diagnostics = runner.log_diagnostics

    def log_and_check(itr, eval_traj_infos=None, eval_time=0.0, **kwargs):
        log_diagnostics(itr, eval_traj_infos, eval_time, **kwargs)
        returns = [info["Return"] for info in eval_traj_infos or []]
        assert len(returns) == eval_episodes, "evaluation did not finish its episodes"
        step = (itr + 1) if evaluations else 0  # the first evaluation is before training
        evaluations.append((step, float(np.mean(returns))))
        if step and evaluations[-1][1] >= threshold:
            raise Reached

    runner.log_diagnostics = log_and_check
    try:
        runner.train()
    except Reached:
        return True, evaluations
    return False, evaluations


def pendulum(agent, algo, seed=0):
    return train_until(agent, algo, "Pendulum-v1", 15_000, -250, 2500, 10, seed)


def test_sac_reaches_minus_250_on_pendulum_within_15k_steps():
    reached, evaluations = pendulum(SacAgent(**NETS), SAC(learning_rate=1e-3, **COMMON))
    assert reached, evaluations


def test_td3_reaches_minus_250_on_pendulum_within_15k_steps():
    agent = Td3Agent(action_std=0.1, **NETS)
    algo = TD3(mu_learning_rate=1e-3, q_learning_rate=1e-3, **COMMON)
    reached, evaluations = pendulum(agent, algo)
    assert reached, evaluations


def test_ddpg_reaches_minus_250_on_pendulum_within_15k_steps():
    agent = DdpgAgent(action_std=0.1, **NETS)
    algo = DDPG(learning_rate=1e-3, q_learning_rate=1e-3, **COMMON)
    reached, evaluations = pendulum(agent, algo)
    assert reached, evaluations


@pytest.mark.mujoco
@pytest.mark.slow
def test_sac_balances_inverted_pendulum():
    pytest.importorskip("mujoco")
    reached, evaluations = train_until(
        SacAgent(**NETS), SAC(learning_rate=1e-3, **COMMON), "InvertedPendulum-v5",
        n_steps=30_000, threshold=1000, log_interval_steps=3000, eval_episodes=5, seed=0,
    )  # fmt: skip
    assert reached, evaluations
