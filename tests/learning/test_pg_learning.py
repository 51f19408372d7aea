"""Learning tests for the policy-gradient family on CartPole (marked `learning`).

Each run is seeded and single-threaded, so its outcome is reproducible on a given software
stack; thresholds are the task's usual ones, not tuned to a lucky seed. The parallel samplers
reach the serial sampler's thresholds with the same budgets (their stochastic agents draw
other random numbers, so their runs are not the serial runs).
"""

import numpy as np
import pytest
import torch

from rlpyt.agents.pg.categorical import CategoricalPgAgent, RecurrentCategoricalPgAgent
from rlpyt.algos.pg.a2c import A2C
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.envs.pomdp import masked_gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

pytestmark = pytest.mark.learning


@pytest.fixture(autouse=True)
def one_thread_quiet_logger():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


# Parallel samplers here run 2 unpinned worker processes (one torch thread each); the agent
# of GpuSampler acts on the CPU, in the master process.
PARALLEL_AFFINITY = dict(workers_cpus=[None, None])


def train(sampler, agent, algo, n_steps, seed):
    """Train and return the average return of the last 100 completed training episodes."""
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        affinity=None if isinstance(sampler, SerialSampler) else PARALLEL_AFFINITY,
        log_interval_steps=n_steps,
        progress_bar=False,
    )
    runner.train()
    returns = [info["Return"] for info in runner._traj_infos]
    assert len(returns) >= 20, "too few completed episodes to judge"
    return float(np.mean(returns))


def cartpole_sampler(batch_T, batch_B, SamplerCls=SerialSampler, **env_kwargs):
    EnvCls = masked_gym_make if "keep_indices" in env_kwargs else gym_make
    return SamplerCls(
        EnvCls=EnvCls,
        env_kwargs=dict(id="CartPole-v1", **env_kwargs),
        batch_T=batch_T,
        batch_B=batch_B,
        max_decorrelation_steps=0,
    )


def ppo_cartpole(seed, n_steps=1e5, SamplerCls=SerialSampler):
    # Hyperparameters of the common CartPole PPO recipe (also examples/example_ppo_cartpole.py).
    algo = PPO(
        discount=0.98,
        gae_lambda=0.8,
        learning_rate=1e-3,
        epochs=20,
        minibatches=1,
        ratio_clip=0.2,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.0,
        clip_grad_norm=0.5,
    )
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[64, 64]))
    return train(cartpole_sampler(32, 8, SamplerCls), agent, algo, n_steps, seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ppo_solves_cartpole_within_100k_steps(seed):
    assert ppo_cartpole(seed) >= 475


@pytest.mark.parametrize("SamplerCls", [CpuSampler, GpuSampler])
def test_ppo_solves_cartpole_within_100k_steps_with_parallel_sampler(SamplerCls):
    assert ppo_cartpole(1, SamplerCls=SamplerCls) >= 475


def a2c_cartpole(SamplerCls=SerialSampler):
    algo = A2C(
        discount=0.99,
        gae_lambda=0.95,
        learning_rate=5e-4,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.0,
        normalize_advantage=True,
        clip_grad_norm=0.5,
    )
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[64, 64]))
    return train(cartpole_sampler(16, 8, SamplerCls), agent, algo, 2e5, seed=1)


def test_a2c_learns_cartpole():
    # A random policy averages ~22; 150 needs a clearly learned balance.
    assert a2c_cartpole() >= 150


def test_a2c_learns_cartpole_with_cpu_sampler():
    assert a2c_cartpole(CpuSampler) >= 150


def masked_ppo(agent, n_steps=2e5):
    algo = PPO(
        discount=0.95,
        gae_lambda=0.95,
        learning_rate=1e-3,
        epochs=8,
        minibatches=2,
        ratio_clip=0.2,
        value_loss_coeff=0.2,
        entropy_loss_coeff=0.0,
        clip_grad_norm=10.0,
        normalize_advantage=True,
    )
    return train(cartpole_sampler(16, 16, keep_indices=[0, 2]), agent, algo, n_steps, seed=1)


@pytest.mark.slow
def test_recurrent_ppo_beats_feedforward_when_velocities_are_hidden():
    # Cart position and pole angle only: velocities must be inferred from the history.
    lstm = masked_ppo(RecurrentCategoricalPgAgent())
    ff = masked_ppo(CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[64, 64])))
    assert lstm >= 200, (lstm, ff)
    assert lstm >= 2 * ff, (lstm, ff)
