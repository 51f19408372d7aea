"""Smoke tests: every script in examples/ trains for a tiny budget and writes its logs."""

import csv
import importlib.util
import os
from pathlib import Path

import pytest

from rlpyt.utils.logging import logger

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def quiet_logger():
    with logger.preserved_state():
        logger.disable()
        yield


def assert_logged(run_dir):
    with open(os.path.join(run_dir, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    assert rows and int(rows[-1]["Diagnostics/CumSteps"]) > 0


def test_every_example_has_a_smoke_test():
    scripts = {p.stem for p in EXAMPLES.glob("example_*.py")}
    tested = {"example_ppo_cartpole", "example_a2c_atari", "example_ppo_mujoco",
              "example_ppo_lstm_cartpole"}  # fmt: skip
    assert scripts == tested


def test_ppo_cartpole_and_resume(tmp_path):
    example = load("example_ppo_cartpole")
    kw = dict(n_steps=512, seed=0, log_dir=str(tmp_path), log_interval_steps=256)
    run_dir = example.build_and_train(progress_bar=False, **kw)
    assert_logged(run_dir)
    assert os.path.exists(os.path.join(run_dir, "params.pkl"))
    kw["n_steps"] = 1024
    example.build_and_train(progress_bar=False, resume=run_dir, **kw)
    with open(os.path.join(run_dir, "progress.csv")) as f:
        iterations = [int(r["Diagnostics/Iteration"]) for r in csv.DictReader(f)]
    assert iterations == [0, 1, 2, 3]  # two rows, then two more after resuming


@pytest.mark.atari
def test_a2c_atari(tmp_path):
    pytest.importorskip("ale_py")
    example = load("example_a2c_atari")
    run_dir = example.build_and_train(
        n_steps=160, batch_B=2, log_dir=str(tmp_path), log_interval_steps=80, progress_bar=False
    )
    assert_logged(run_dir)


@pytest.mark.mujoco
def test_ppo_mujoco(tmp_path):
    pytest.importorskip("mujoco")
    example = load("example_ppo_mujoco")
    run_dir = example.build_and_train(
        env_id="InvertedPendulum-v5",
        n_steps=128,
        batch_T=64,
        minibatches=2,
        log_dir=str(tmp_path),
        log_interval_steps=64,
        eval_max_steps=100,
        progress_bar=False,
    )
    assert_logged(run_dir)


def test_ppo_lstm_cartpole(tmp_path):
    example = load("example_ppo_lstm_cartpole")
    run_dir = example.build_and_train(
        n_steps=512, seed=0, log_dir=str(tmp_path), log_interval_steps=256, progress_bar=False
    )
    assert_logged(run_dir)
