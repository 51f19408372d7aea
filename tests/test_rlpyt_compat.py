"""A training script written the way rlpyt (v0.1.2) users wrote them runs unchanged.

It defines its own model with rlpyt's model conventions (leading-dim helpers, `(pi, v)` from
`forward(observation, prev_action, prev_reward)`), passes it as `ModelCls`, and runs
SerialSampler + CategoricalPgAgent + PPO + MinibatchRl inside `logger_context`. Swapping the
sampler class for rlpyt's parallel ones (CpuSampler, GpuSampler, AlternatingSampler), with the
same constructor arguments, is all it takes to sample in worker processes.
"""

import os

import pytest
import torch
import torch.nn.functional as F

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import make as gym_make
from rlpyt.models.mlp import MlpModel
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims


class CartPoleModel(torch.nn.Module):
    def __init__(self, observation_shape, action_size, hidden_sizes=None):
        super().__init__()
        self.pi = MlpModel(observation_shape[0], hidden_sizes or [32], action_size)
        self.v = MlpModel(observation_shape[0], hidden_sizes or [32], 1)

    def forward(self, observation, prev_action, prev_reward):
        lead_dim, T, B, _ = infer_leading_dims(observation, 1)
        obs = observation.view(T * B, -1)
        pi = F.softmax(self.pi(obs), dim=-1)
        v = self.v(obs).squeeze(-1)
        pi, v = restore_leading_dims((pi, v), lead_dim, T, B)
        return pi, v


def build_and_train(log_dir, env_id="CartPole-v1", run_ID=0, cuda_idx=None, Sampler=SerialSampler):
    sampler = Sampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        batch_T=32,
        batch_B=4,
        max_decorrelation_steps=10,
    )
    algo = PPO()
    agent = CategoricalPgAgent(
        ModelCls=CartPoleModel, model_kwargs=dict(observation_shape=(4,), action_size=2)
    )
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=1024,
        log_interval_steps=512,
        affinity=dict(cuda_idx=cuda_idx),
    )
    config = dict(env_id=env_id)
    name = "ppo_" + env_id
    with logger_context(log_dir, run_ID, name, config, snapshot_mode="last"):
        runner.train()


@pytest.fixture
def one_torch_thread():
    # Parallel samplers: on small machines the master's idle OpenMP threads spin-wait on the
    # cores the workers need (10-30x slower on 2 cores); the script itself is unchanged.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("Sampler", [SerialSampler, CpuSampler, GpuSampler, AlternatingSampler])
def test_rlpyt_style_script_runs_unchanged(tmp_path, Sampler):
    with logger.preserved_state():
        logger.disable()
        build_and_train(str(tmp_path), Sampler=Sampler)
    run_dir = tmp_path / "run_0"
    assert (run_dir / "progress.csv").read_text().count("\n") == 3  # header + 2 rows
    snapshot = logger.load_snapshot(str(run_dir))
    assert snapshot["itr"] == 7 and "pi.model.0.weight" in snapshot["agent_state_dict"]
    assert os.path.exists(run_dir / "params.json")
    assert len(snapshot["sampler_state"]["traj_infos"]) == 4  # one per env, whatever sampler
