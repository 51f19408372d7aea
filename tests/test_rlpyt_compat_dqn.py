"""An Atari DQN training script written the way rlpyt (v0.1.2) users wrote them runs unchanged.

SerialSampler with AtariEnv and AtariTrajInfo, AtariDqnAgent with its default model, DQN with
default arguments but for the learning start, MinibatchRlEval with offline evaluation, all inside
`logger_context` with the "last" snapshot mode: rlpyt's first example, with a tiny budget.
"""

import csv

import pytest
import torch

from rlpyt.agents.dqn.atari.atari_dqn_agent import AtariDqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context

pytestmark = pytest.mark.atari


def build_and_train(log_dir, game="pong", run_ID=0, cuda_idx=None):
    sampler = SerialSampler(
        EnvCls=AtariEnv,
        TrajInfoCls=AtariTrajInfo,
        env_kwargs=dict(game=game),
        eval_env_kwargs=dict(game=game),
        batch_T=4,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=2,
        eval_max_steps=100,
        eval_max_trajectories=2,
    )
    algo = DQN(min_steps_learn=1e2)
    agent = AtariDqnAgent()
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=200,
        log_interval_steps=1e2,
        affinity=dict(cuda_idx=cuda_idx),
    )
    config = dict(game=game)
    name = "dqn_" + game
    with logger_context(log_dir, run_ID, name, config, snapshot_mode="last"):
        runner.train()


@pytest.mark.timeout(240)
def test_rlpyt_style_atari_dqn_script_runs_unchanged(tmp_path):
    pytest.importorskip("ale_py")
    threads = torch.get_num_threads()
    try:
        with logger.preserved_state():
            logger.disable()
            build_and_train(str(tmp_path))
    finally:
        torch.set_num_threads(threads)
    run_dir = tmp_path / "run_0"
    with open(run_dir / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [0, 100, 200]  # eval at 0 too
    assert int(rows[-1]["Diagnostics/CumUpdates"]) > 0
    for column in ("lossAverage", "gradNormAverage", "tdAbsErrAverage", "Diagnostics/Iteration"):
        assert column in rows[-1]
    snapshot = logger.load_snapshot(str(run_dir))
    assert snapshot["itr"] == 49
    assert "conv.conv.0.weight" in snapshot["agent_state_dict"]["model"]
    assert "optimizer" in snapshot["optimizer_state_dict"]
    assert (run_dir / "params.json").exists()
