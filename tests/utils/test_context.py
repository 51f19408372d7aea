"""Tests for rlpyt.utils.logging.context: run directory layout, files, state restoration."""

import csv
import datetime
import json
import os

import pytest
import torch

from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import add_exp_param, get_log_dir, get_run_dir, logger_context


@pytest.fixture(autouse=True)
def _fresh_logger(monkeypatch, tmp_path):
    monkeypatch.setenv("RLPYT_DATA_DIR", str(tmp_path / "data"))
    logger.reset()
    yield
    logger.reset()


def _today():
    return datetime.datetime.now().strftime("%Y%m%d")


def test_run_dir_rules(tmp_path, monkeypatch):
    data = tmp_path / "data"
    assert get_log_dir("exp") == str(data / "local" / _today() / "exp")
    assert get_log_dir("exp", root_log_dir="/r", date=False) == "/r/local/exp"
    assert get_run_dir("exp/a2c", 3) == str(data / "local" / _today() / "exp" / "a2c" / "run_3")
    assert get_run_dir(str(tmp_path / "abs"), 0) == str(tmp_path / "abs" / "run_0")
    monkeypatch.chdir(tmp_path)
    assert get_run_dir("rel", 1, override_prefix=True) == str(tmp_path / "rel" / "run_1")
    monkeypatch.delenv("RLPYT_DATA_DIR")
    assert get_log_dir("exp", date=False) == str(tmp_path / "data" / "local" / "exp")


def test_logger_context_layout_and_files(tmp_path, capsys):
    params = {"algo": {"lr": 1e-3}, "OptimCls": torch.optim.Adam}
    with logger_context("exp", 2, "ppo", log_params=params, snapshot_mode="last") as run_dir:
        assert run_dir == str(tmp_path / "data" / "local" / _today() / "exp" / "run_2")
        assert logger.get_snapshot_dir() == run_dir
        assert logger.get_snapshot_mode() == "last"
        logger.log("inside", with_timestamp=False)
        for itr in range(3):
            logger.record_tabular("Iteration", itr)
            logger.record_tabular("Diagnostics/CumSteps", 10 * (itr + 1))
            logger.dump_tabular()
            logger.save_itr_params(itr, {"itr": itr})
    assert sorted(os.listdir(run_dir)) == ["debug.log", "params.json", "params.pkl", "progress.csv"]
    with open(os.path.join(run_dir, "params.json")) as f:
        saved = json.load(f)
    assert saved == {
        "algo": {"lr": 1e-3},
        "OptimCls": "torch.optim.adam.Adam",
        "name": "ppo",
        "run_ID": 2,
    }
    assert "name" not in params  # the caller's dict is not modified
    debug = open(os.path.join(run_dir, "debug.log")).read()
    assert "ppo_2 inside\n" in debug and "Diagnostics/CumSteps" in debug
    assert "ppo_2 inside" in capsys.readouterr().out
    with open(os.path.join(run_dir, "progress.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["Diagnostics/CumSteps"] for r in rows] == ["10", "20", "30"]
    assert logger.load_snapshot(run_dir)["itr"] == 2


def _logger_settings():
    return (
        logger.get_snapshot_dir(),
        logger.get_snapshot_mode(),
        logger.get_log_tabular_only(),
        logger.get_text_output_files(),
        logger.get_tabular_output_files(),
        logger.get_tf_summary_writer(),
    )


@pytest.mark.parametrize("exc", [None, RuntimeError, KeyboardInterrupt])
def test_logger_context_restores_state(tmp_path, exc, capsys):
    outer_log = tmp_path / "outer.log"
    logger.add_text_output(str(outer_log))
    logger.set_log_tabular_only(True)
    logger.push_prefix("outer ")
    before = _logger_settings()
    try:
        with logger_context(str(tmp_path / "exp"), 0, "dqn", snapshot_mode="gap") as run_dir:
            assert logger.get_log_tabular_only() is False
            assert len(logger.get_text_output_files()) == 2
            logger.log("in run", with_timestamp=False)
            if exc is not None:
                raise exc
    except (RuntimeError, KeyboardInterrupt) as e:
        assert type(e) is exc
    assert _logger_settings() == before
    logger.set_log_tabular_only(False)
    logger.log("after", with_timestamp=False)
    lines = outer_log.read_text().splitlines()
    assert lines[0].endswith(f"outer dqn_0 Logging to {run_dir}")
    assert lines[1:] == ["outer dqn_0 in run", "outer after"]
    assert "after" not in open(os.path.join(run_dir, "debug.log")).read()


def test_add_exp_param(tmp_path):
    exp = tmp_path / "exp"
    for run_ID in range(2):
        with logger_context(str(exp), run_ID, "a2c", log_params={"seed": run_ID}):
            pass
    changed = add_exp_param("tag", "baseline", exp_dir=str(exp))
    assert len(changed) == 2
    assert add_exp_param("seed", 99, exp_dir=str(exp)) == []
    assert len(add_exp_param("seed", 99, exp_dir=str(exp), overwrite=True)) == 2
    with open(exp / "run_1" / "params.json") as f:
        assert json.load(f) == {"seed": 99, "name": "a2c", "run_ID": 1, "tag": "baseline"}
    with pytest.raises(ValueError):
        add_exp_param("x", 1)


def test_summary_writer_writes_event_file(tmp_path):
    pytest.importorskip("tensorboard")
    with logger_context(str(tmp_path / "tb"), 0, "sac", use_summary_writer=True) as run_dir:
        writer = logger.get_tf_summary_writer()
        assert writer is not None
        logger.record_tabular("Diagnostics/CumSteps", 100)
        logger.record_tabular("LossAverage", 0.5)
        logger.dump_tabular()
    assert logger.get_tf_summary_writer() is None
    events = [f for f in os.listdir(run_dir) if f.startswith("events.out.tfevents")]
    assert len(events) == 1
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(run_dir)
    acc.Reload()
    scalars = acc.Scalars("LossAverage")
    assert [(s.step, s.value) for s in scalars] == [(100, 0.5)]
