"""An SAC training script written the way rlpyt (v0.1.2) users wrote them runs unchanged.

`build_and_train` below is such a script: SerialSampler with `gym_make` (one env, one step per
iteration, evaluation envs), `SacAgent()` and `SAC()` with rlpyt's keyword arguments,
`MinibatchRlEval` with a `cuda_idx` affinity, inside `logger_context`. The test runs it on a
small budget and checks the run directory: rlpyt's progress columns (SAC's `q1Loss`,
`alpha`, ...), and a snapshot holding the agent's networks under rlpyt's keys and every
optimizer's state. The sampler class can be swapped for rlpyt's CpuSampler unchanged.
"""

import csv

import pytest
import torch

from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.algos.qpg.sac import SAC
from rlpyt.envs.gym import make as gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context


def build_and_train(log_dir, env_id="Pendulum-v1", run_ID=0, cuda_idx=None, Sampler=SerialSampler):
    sampler = Sampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        eval_env_kwargs=dict(id=env_id),
        batch_T=1,  # One time-step per sampler iteration.
        batch_B=1,  # One environment (i.e. sampler Batch dimension).
        max_decorrelation_steps=0,
        eval_n_envs=2,
        eval_max_steps=int(1e3),
        eval_max_trajectories=4,
    )
    algo = SAC(min_steps_learn=200, batch_size=32, replay_ratio=32)
    agent = SacAgent(model_kwargs=dict(hidden_sizes=[32, 32]),
                     q_model_kwargs=dict(hidden_sizes=[32, 32]))  # fmt: skip
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=400,
        log_interval_steps=200,
        affinity=dict(cuda_idx=cuda_idx),
    )
    config = dict(env_id=env_id)
    name = "sac_" + env_id
    with logger_context(log_dir, run_ID, name, config, snapshot_mode="last"):
        runner.train()


@pytest.fixture
def one_torch_thread():
    # Small machines: idle OpenMP threads of the master would spin on the cores the run (and
    # a parallel sampler's workers) need; the script itself is unchanged.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("Sampler", [SerialSampler, CpuSampler])
def test_rlpyt_style_sac_script_runs_unchanged(tmp_path, Sampler):
    with logger.preserved_state():
        logger.disable()
        build_and_train(str(tmp_path), Sampler=Sampler)
    run_dir = tmp_path / "run_0"
    with open(run_dir / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [0, 200, 400]
    for column in ("q1LossAverage", "q2GradNormAverage", "piLossAverage", "alphaAverage",
                   "ReturnAverage", "Diagnostics/CumUpdates"):  # fmt: skip
        assert column in rows[-1], column
    assert int(rows[-1]["Diagnostics/CumUpdates"]) == 200  # one per step after 200 steps
    assert 0 < float(rows[-1]["alphaAverage"]) < 1  # tuned down from 1 over 200 updates
    assert float(rows[-1]["ReturnAverage"]) < 0  # Pendulum's returns, from evaluation
    snapshot = logger.load_snapshot(str(run_dir))
    agent_state = snapshot["agent_state_dict"]
    assert set(agent_state) == {"model", "q1_model", "q2_model", "target_q1_model",
                                "target_q2_model"}  # fmt: skip
    assert "mlp.model.0.weight" in agent_state["q1_model"]  # rlpyt's QofMuMlpModel layout
    optim = snapshot["optimizer_state_dict"]
    assert {"pi_optimizer", "q_optimizer", "alpha_optimizer", "log_alpha"} <= set(optim)
    assert optim["update_counter"] == 200
