"""Smoke tests of the Q-function policy-gradient examples: each trains for a tiny budget (past
the start of learning), writes its logs and a snapshot, and its command line works."""

import csv
import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

from rlpyt.utils.logging import logger

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def quiet_logger_one_thread():
    # One torch thread: on small, busy machines idle OpenMP threads spin-wait on the cores
    # the run needs (tiny networks gain nothing from more threads).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


def rows(run_dir):
    with open(os.path.join(run_dir, "progress.csv")) as f:
        return list(csv.DictReader(f))


TINY = dict(min_steps_learn=64, batch_size=32, hidden_sizes=(16, 16), progress_bar=False)


def test_td3_pendulum(tmp_path):
    example = load("example_td3_pendulum")
    run_dir = example.build_and_train(
        n_steps=128, seed=0, log_dir=str(tmp_path), log_interval_steps=64, eval_max_steps=200,
        **TINY,
    )  # fmt: skip
    logged = rows(run_dir)
    assert int(logged[-1]["Diagnostics/CumSteps"]) == 128
    assert int(logged[-1]["Diagnostics/CumUpdates"]) == 64  # one per step after learning starts
    assert float(logged[-1]["qLossAverage"]) > 0  # TD3's diagnostics are logged
    assert os.path.exists(os.path.join(run_dir, "params.pkl"))


@pytest.mark.timeout(120)
def test_td3_pendulum_cpu_sampler(tmp_path):
    example = load("example_td3_pendulum")
    run_dir = example.build_and_train(
        n_steps=128, seed=0, log_dir=str(tmp_path), log_interval_steps=128, eval_max_steps=200,
        sampler_name="cpu", batch_T=4, **TINY,
    )  # fmt: skip
    assert int(rows(run_dir)[-1]["Diagnostics/CumUpdates"]) == 64


def test_td3_pendulum_command_line(tmp_path, monkeypatch, capsys):
    example = load("example_td3_pendulum")
    calls = {}
    monkeypatch.setattr(example, "build_and_train", lambda **kw: calls.update(kw) or "run_dir")
    argv = ["example_td3_pendulum.py", "--n_steps", "500", "--seed", "3", "--sampler", "cpu",
            "--log_dir", str(tmp_path)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    example.main()
    assert calls["n_steps"] == 500 and calls["seed"] == 3 and calls["sampler_name"] == "cpu"
    assert "run_dir" in capsys.readouterr().out


@pytest.mark.mujoco
def test_sac_mujoco_and_resume(tmp_path):
    pytest.importorskip("mujoco")
    example = load("example_sac_mujoco")
    kw = dict(env_id="InvertedPendulum-v5", seed=0, log_dir=str(tmp_path), eval_n_envs=1,
              eval_max_steps=100, log_interval_steps=64, **TINY)  # fmt: skip
    run_dir = example.build_and_train(n_steps=128, **kw)
    logged = rows(run_dir)
    assert int(logged[-1]["Diagnostics/CumSteps"]) == 128
    assert float(logged[-1]["alphaAverage"]) > 0  # SAC's diagnostics are logged
    example.build_and_train(n_steps=256, resume=run_dir, **kw)
    logged = rows(run_dir)
    assert [int(r["Diagnostics/CumSteps"]) for r in logged[1:]] == [64, 128, 192, 256]


def test_sac_mujoco_command_line(monkeypatch, capsys):
    example = load("example_sac_mujoco")
    calls = {}
    monkeypatch.setattr(example, "build_and_train", lambda **kw: calls.update(kw) or "run_dir")
    argv = ["example_sac_mujoco.py", "--env_id", "Hopper-v5", "--n_steps", "1e4",
            "--cuda_idx", "0"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    example.main()
    assert calls["env_id"] == "Hopper-v5" and calls["n_steps"] == 1e4 and calls["cuda_idx"] == 0
    assert "run_dir" in capsys.readouterr().out
