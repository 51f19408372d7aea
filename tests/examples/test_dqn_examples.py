"""Smoke tests of the DQN-family examples: each trains for a tiny budget and writes its logs."""

import csv
import importlib.util
import json
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
def quiet_logger():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


def rows(run_dir):
    with open(Path(run_dir) / "progress.csv") as f:
        return list(csv.DictReader(f))


def assert_trained(run_dir, min_updates=1):
    logged = rows(run_dir)
    assert logged and int(logged[-1]["Diagnostics/CumSteps"]) > 0
    assert int(logged[-1]["Diagnostics/CumUpdates"]) >= min_updates
    assert (Path(run_dir) / "params.pkl").exists()  # snapshot_mode="last"


def test_dqn_cartpole(tmp_path):
    example = load("example_dqn_cartpole")
    run_dir = example.build_and_train(
        n_steps=1024,
        seed=0,
        log_interval_steps=512,
        log_dir=str(tmp_path),
        progress_bar=False,
        min_steps_learn=256,
        replay_ratio=1,
    )
    assert_trained(run_dir)
    logged = rows(run_dir)
    assert [int(r["Diagnostics/CumSteps"]) for r in logged] == [0, 512, 1024]  # eval at 0 too
    with open(Path(run_dir) / "params.json") as f:
        assert json.load(f)["replay_ratio"] == 1


def test_dqn_cartpole_command_line(tmp_path, monkeypatch, capsys):
    example = load("example_dqn_cartpole")
    argv = ["example_dqn_cartpole.py", "--n_steps", "256", "--log_interval_steps", "256",
            "--seed", "1", "--log_dir", str(tmp_path)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    example.main()
    assert str(tmp_path / "run_0") in capsys.readouterr().out
    assert rows(tmp_path / "run_0")


def test_r2d1_masked_cartpole(tmp_path):
    example = load("example_r2d1")
    run_dir = example.build_and_train(
        n_steps=768,
        seed=0,
        log_interval_steps=384,
        log_dir=str(tmp_path),
        progress_bar=False,
        min_steps_learn=256,
    )
    assert_trained(run_dir)
    assert "priorityAverage" in rows(run_dir)[-1]  # R2D1's own diagnostics


@pytest.mark.atari
@pytest.mark.timeout(240)
def test_dqn_atari(tmp_path):
    pytest.importorskip("ale_py")
    example = load("example_dqn_atari")
    run_dir = example.build_and_train(
        n_steps=320,
        min_steps_learn=160,
        replay_size=1000,
        double_dqn=True,
        dueling=True,
        prioritized_replay=True,
        n_step_return=3,
        eval_max_steps=200,
        log_interval_steps=160,
        log_dir=str(tmp_path),
        progress_bar=False,
    )
    assert_trained(run_dir)
    with open(Path(run_dir) / "params.json") as f:
        assert json.load(f)["n_step_return"] == 3


@pytest.mark.atari
@pytest.mark.timeout(240)
def test_r2d1_atari(tmp_path):
    pytest.importorskip("ale_py")
    example = load("example_r2d1")
    run_dir = example.build_and_train(
        game="pong",
        n_steps=640,
        log_interval_steps=320,
        log_dir=str(tmp_path),
        progress_bar=False,
        eval_max_steps=200,
        min_steps_learn=320,
        replay_size=2000,
        batch_B=2,
        batch_T=8,
        warmup_T=4,
        store_rnn_state_interval=4,
    )
    assert_trained(run_dir)
