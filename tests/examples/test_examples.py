"""Smoke tests: every script in examples/ trains for a tiny budget and writes its logs."""

import csv
import importlib.util
import json
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
def quiet_logger():
    threads = torch.get_num_threads()  # runners may set it (master_torch_threads)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


def assert_logged(run_dir):
    with open(os.path.join(run_dir, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    assert rows and int(rows[-1]["Diagnostics/CumSteps"]) > 0


def test_every_example_has_a_smoke_test():
    # A script counts as tested when a smoke-test module here loads it by name.
    scripts = {p.stem for p in EXAMPLES.glob("example_*.py")}
    test_sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    untested = {s for s in scripts if f'load("{s}")' not in test_sources}
    assert len(scripts) >= 9 and not untested, f"examples without a smoke test: {untested}"


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


@pytest.mark.timeout(120)
@pytest.mark.parametrize("first, then", [("cpu", "gpu"), ("gpu", "serial"), ("alternating", "cpu")])
def test_ppo_cartpole_parallel_samplers_and_resume_with_another(tmp_path, first, then):
    example = load("example_ppo_cartpole")
    kw = dict(n_steps=256, seed=0, log_dir=str(tmp_path), log_interval_steps=256, n_workers=2)
    run_dir = example.build_and_train(progress_bar=False, sampler_name=first, **kw)
    assert_logged(run_dir)
    kw["n_steps"] = 512
    example.build_and_train(progress_bar=False, sampler_name=then, resume=run_dir, **kw)
    with open(os.path.join(run_dir, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["Diagnostics/Iteration"]) for r in rows] == [0, 1]
    assert int(rows[-1]["Diagnostics/CumSteps"]) == 512


def test_ppo_cartpole_command_line_sampler_flags(tmp_path, monkeypatch, capsys):
    example = load("example_ppo_cartpole")
    argv = ["example_ppo_cartpole.py", "--sampler", "cpu", "--n-workers", "2", "--seed", "0",
            "--n_steps", "256", "--log_interval_steps", "256",
            "--log_dir", str(tmp_path)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    example.main()
    run_dir = tmp_path / "run_0"
    assert_logged(run_dir)
    with open(run_dir / "params.json") as f:
        assert json.load(f)["sampler"] == "cpu"
    assert str(run_dir) in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["example_ppo_cartpole.py", "--sampler", "nope"])
    with pytest.raises(SystemExit):
        example.main()


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


@pytest.mark.atari
@pytest.mark.timeout(120)
@pytest.mark.parametrize("sampler_name", ["cpu", "gpu"])
def test_a2c_atari_parallel_sampler(tmp_path, sampler_name):
    pytest.importorskip("ale_py")
    # One master thread (restored by quiet_logger): on small machines the master's idle
    # OpenMP threads would spin-wait on the cores the workers need.
    torch.set_num_threads(1)
    example = load("example_a2c_atari")
    run_dir = example.build_and_train(
        n_steps=160,
        batch_B=2,
        log_dir=str(tmp_path),
        log_interval_steps=80,
        progress_bar=False,
        sampler_name=sampler_name,
        n_workers=2,
    )
    assert_logged(run_dir)
