"""A training script written the way rlpyt (v0.1.2) users wrote them runs unchanged.

It defines its own model with rlpyt's model conventions (leading-dim helpers, `(pi, v)` from
`forward(observation, prev_action, prev_reward)`), passes it as `ModelCls`, and runs
SerialSampler + CategoricalPgAgent + PPO + MinibatchRl inside `logger_context`.
"""

import os

import torch
import torch.nn.functional as F

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import make as gym_make
from rlpyt.models.mlp import MlpModel
from rlpyt.runners.minibatch_rl import MinibatchRl
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


def build_and_train(log_dir, env_id="CartPole-v1", run_ID=0, cuda_idx=None):
    sampler = SerialSampler(
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


def test_rlpyt_style_script_runs_unchanged(tmp_path):
    with logger.preserved_state():
        logger.disable()
        build_and_train(str(tmp_path))
    run_dir = tmp_path / "run_0"
    assert (run_dir / "progress.csv").read_text().count("\n") == 3  # header + 2 rows
    snapshot = logger.load_snapshot(str(run_dir))
    assert snapshot["itr"] == 7 and "pi.model.0.weight" in snapshot["agent_state_dict"]
    assert os.path.exists(run_dir / "params.json")
