"""Parallel samplers under the real runner: PPO on CartPole trains, logs and snapshots."""

import csv
import os

import pytest
import torch

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.utils.logging.context import logger_context
from tests.samplers.proc_utils import our_children


@pytest.mark.timeout(120)
@pytest.mark.parametrize("SamplerCls", [CpuSampler, GpuSampler, AlternatingSampler])
def test_minibatch_rl_eval_with_parallel_sampler(tmp_path, SamplerCls):
    sampler = SamplerCls(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=32,
        batch_B=4,
        max_decorrelation_steps=10,
        eval_n_envs=2,
        eval_max_steps=200,
    )
    runner = MinibatchRlEval(
        algo=PPO(),
        agent=CategoricalPgAgent(),
        sampler=sampler,
        n_steps=512,
        log_interval_steps=256,
        affinity=dict(workers_cpus=[0, 0], master_torch_threads=1),
        seed=3,
    )
    with logger_context(str(tmp_path), 0, "parallel", snapshot_mode="last") as run_dir:
        runner.train()
    with open(os.path.join(run_dir, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 2 and float(rows[-1]["Diagnostics/CumSteps"]) == 512
    snapshot = torch.load(os.path.join(run_dir, "params.pkl"), weights_only=True)
    assert len(snapshot["sampler_state"]["traj_infos"]) == 4
    assert not our_children()
