"""Tests for rlpyt.utils.logging.logger: text log, tabular rows, CSV growth, snapshots, params."""

import collections
import csv
import dataclasses
import enum
import json
import math
import os
import pickle

import numpy as np
import pytest
import torch

from rlpyt.utils.logging import logger


@pytest.fixture(autouse=True)
def _fresh_logger():
    logger.reset()
    yield
    logger.reset()


def read_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


# ---------------------------------------------------------------------------------------------
# Text log and prefixes.


def test_log_writes_stdout_and_text_file_with_prefixes(tmp_path, capsys):
    path = tmp_path / "nested" / "debug.log"  # parent does not exist yet
    logger.add_text_output(str(path))
    logger.push_prefix("exp_0 ")
    with logger.prefix("[eval] "):
        logger.log("hello", with_timestamp=False)
    logger.log("plain", with_prefix=False, with_timestamp=False)
    logger.pop_prefix()
    logger.log("stamped")
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["exp_0 [eval] hello", "plain"]
    assert out[2].endswith(" | stamped") and out[2][:4].isdigit()
    assert path.read_text().splitlines()[:2] == ["exp_0 [eval] hello", "plain"]
    assert logger.get_text_output_files() == [str(path)]
    logger.remove_text_output(str(path))
    logger.log("after removal", with_timestamp=False)
    assert "after removal" not in path.read_text()


def test_color_only_on_stdout(tmp_path, capsys):
    path = tmp_path / "debug.log"
    logger.add_text_output(str(path))
    logger.log("warn", with_timestamp=False, color="red")
    assert capsys.readouterr().out == "\x1b[31mwarn\x1b[0m\n"
    assert path.read_text() == "warn\n"


def test_disable_prefix_tabular_only_and_disable(capsys):
    logger.push_prefix("p ")
    logger.set_disable_prefix(True)
    assert logger.get_disable_prefix()
    logger.log("a", with_timestamp=False)
    logger.set_disable_prefix(False)
    logger.set_log_tabular_only(True)
    assert logger.get_log_tabular_only()
    logger.log("hidden", with_timestamp=False)
    logger.set_log_tabular_only(False)
    logger.disable()
    logger.log("also hidden", with_timestamp=False)
    logger.enable()
    logger.log("b", with_timestamp=False)
    assert capsys.readouterr().out == "a\np b\n"


def test_pop_without_push_raises():
    with pytest.raises(IndexError):
        logger.pop_prefix()
    with pytest.raises(IndexError):
        logger.pop_tabular_prefix()


# ---------------------------------------------------------------------------------------------
# Tabular rows.


def test_record_tabular_converts_scalars_and_prefixes():
    logger.record_tabular("Iteration", 3)
    logger.record_tabular("Loss", torch.tensor(0.5))
    logger.record_tabular("Arr", np.array([2.0]))
    with logger.tabular_prefix("Eval/"):
        logger.push_tabular_prefix("Sub")
        logger.record_tabular("Return", np.float32(1.5))
        logger.pop_tabular_prefix()
    row = logger.get_table_dict()
    assert list(row) == ["Iteration", "Loss", "Arr", "Eval/SubReturn"]
    assert row["Loss"] == 0.5 and type(row["Loss"]) is float
    assert row["Arr"] == 2.0 and row["Eval/SubReturn"] == 1.5
    with pytest.raises(ValueError, match="record_tabular_misc_stat"):
        logger.record_tabular("Bad", torch.zeros(3))


@pytest.mark.parametrize(
    "placement, names",
    [
        ("back", ["ReturnAverage", "ReturnStd", "ReturnMedian", "ReturnMin", "ReturnMax"]),
        ("front", ["AverageReturn", "StdReturn", "MedianReturn", "MinReturn", "MaxReturn"]),
    ],
)
def test_record_tabular_misc_stat(placement, names):
    values = [1.0, 2.0, 3.0, 10.0]
    logger.record_tabular_misc_stat("Return", values, placement=placement)
    row = logger.get_table_dict()
    assert list(row) == names
    expected = [np.mean(values), np.std(values), 2.5, 1.0, 10.0]
    np.testing.assert_allclose([row[n] for n in names], expected)


def test_record_tabular_misc_stat_tensor_and_empty():
    logger.record_tabular_misc_stat("Len", torch.tensor([[1, 3], [5, 7]]))
    logger.record_tabular_misc_stat("Ret", [torch.tensor(2.0), torch.tensor(4.0)])
    logger.record_tabular_misc_stat("Empty", [])
    row = logger.get_table_dict()
    assert row["LenAverage"] == 4.0 and row["LenMax"] == 7.0
    assert row["RetMedian"] == 3.0
    empty = [row[f"Empty{s}"] for s in ("Average", "Std", "Median", "Min", "Max")]
    assert all(math.isnan(v) for v in empty)
    with pytest.raises(ValueError):
        logger.record_tabular_misc_stat("X", [1.0], placement="middle")


def test_dump_tabular_console_table_and_clears_row(capsys, tmp_path):
    logger.add_text_output(str(tmp_path / "debug.log"))
    logger.record_tabular("Iteration", 7)
    logger.record_tabular("Diagnostics/CumSteps", 1400)
    logger.record_tabular("ReturnAverage", 1 / 3)
    logger.dump_tabular(with_prefix=False, with_timestamp=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == lines[-1] and set(lines[0]) == {"-"}
    body = [[c.strip() for c in line.split(" | ")] for line in lines[1:-1]]
    assert body == [
        ["Iteration", "7"],
        ["Diagnostics/CumSteps", "1400"],
        ["ReturnAverage", "0.333333"],
    ]
    assert len({line.index(" | ") for line in lines[1:-1]}) == 1  # aligned separator
    assert len({len(line) for line in lines}) == 1
    assert "ReturnAverage" in (tmp_path / "debug.log").read_text()
    assert logger.get_table_dict() == {}
    logger.dump_tabular()  # empty row: nothing printed
    assert capsys.readouterr().out == ""


def test_tabular_only_prints_table_but_not_log_lines(capsys):
    logger.set_log_tabular_only(True)
    logger.log("hidden")
    logger.record_tabular("A", 1)
    logger.dump_tabular()
    out = capsys.readouterr().out
    assert "hidden" not in out and "A | 1" in out


def test_disable_tabular(tmp_path):
    logger.add_tabular_output(str(tmp_path / "progress.csv"))
    logger.disable_tabular()
    logger.record_tabular("A", 1)
    logger.dump_tabular()
    assert logger.get_table_dict() == {}
    assert not (tmp_path / "progress.csv").exists()
    logger.enable_tabular()
    logger.record_tabular("A", 1)
    logger.dump_tabular()
    assert read_csv(tmp_path / "progress.csv")[1] == [{"A": "1"}]


def test_csv_header_grows_and_missing_keys_are_empty(tmp_path, capsys):
    path = tmp_path / "sub" / "progress.csv"
    logger.add_tabular_output(str(path))
    assert logger.get_tabular_output_files() == [str(path)]
    for itr in range(2):
        logger.record_tabular("Iteration", itr)
        logger.record_tabular("Loss", 0.5 * itr)
        logger.dump_tabular()
    assert read_csv(path)[0] == ["Iteration", "Loss"]
    # A new key appears (e.g. the first finished episode): the header is extended.
    logger.record_tabular("Iteration", 2)
    logger.record_tabular("ReturnAverage", 9.5)
    logger.dump_tabular()
    logger.record_tabular("Iteration", 3)
    logger.record_tabular("Loss", 1.5)
    logger.dump_tabular()
    header, rows = read_csv(path)
    assert header == ["Iteration", "Loss", "ReturnAverage"]
    assert rows == [
        {"Iteration": "0", "Loss": "0.0", "ReturnAverage": ""},
        {"Iteration": "1", "Loss": "0.5", "ReturnAverage": ""},
        {"Iteration": "2", "Loss": "", "ReturnAverage": "9.5"},
        {"Iteration": "3", "Loss": "1.5", "ReturnAverage": ""},
    ]
    assert not [p for p in os.listdir(path.parent) if p != "progress.csv"]  # no temp files
    logger.remove_tabular_output(str(path))
    logger.record_tabular("Iteration", 4)
    logger.dump_tabular()
    assert len(read_csv(path)[1]) == 4


def test_csv_appends_to_existing_file(tmp_path):
    path = tmp_path / "progress.csv"
    path.write_text("Iteration,Loss\n0,1.0\n")
    logger.add_tabular_output(str(path))
    logger.record_tabular("Loss", 2.0)
    logger.record_tabular("Iteration", 1)
    logger.dump_tabular()
    header, rows = read_csv(path)
    assert header == ["Iteration", "Loss"]
    assert rows[1] == {"Iteration": "1", "Loss": "2.0"}


class _FakeWriter:
    def __init__(self):
        self.scalars = []
        self.flushes = 0

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def flush(self):
        self.flushes += 1


def test_summary_writer_step_from_cum_steps_or_row_count():
    writer = _FakeWriter()
    logger.set_tf_summary_writer(writer)
    assert logger.get_tf_summary_writer() is writer
    logger.record_tabular("Diagnostics/CumSteps", 500)
    logger.record_tabular("Name", "text is skipped")
    logger.record_tabular("Loss", np.float32(0.25))
    logger.dump_tabular()
    logger.record_tabular("Loss", 0.5)
    logger.dump_tabular()
    logger.set_iteration(42)
    logger.record_tabular("Loss", 0.75)
    logger.dump_tabular()
    assert writer.scalars == [
        ("Diagnostics/CumSteps", 500.0, 500),
        ("Loss", 0.25, 500),
        ("Loss", 0.5, 1),
        ("Loss", 0.75, 42),
    ]
    assert writer.flushes == 3


# ---------------------------------------------------------------------------------------------
# Snapshots.


def _itr_files(path):
    return sorted(os.listdir(path))


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("none", []),
        ("last", ["params.pkl"]),
        ("all", [f"itr_{i}.pkl" for i in range(6)]),
        ("gap", ["itr_0.pkl", "itr_2.pkl", "itr_4.pkl"]),
        ("last+gap", ["itr_0.pkl", "itr_2.pkl", "itr_4.pkl", "params.pkl"]),
    ],
)
def test_snapshot_modes(tmp_path, mode, expected):
    snap_dir = tmp_path / "run"
    logger.set_snapshot_dir(str(snap_dir))
    logger.set_snapshot_mode(mode)
    logger.set_snapshot_gap(2)
    assert (logger.get_snapshot_dir(), logger.get_snapshot_mode()) == (str(snap_dir), mode)
    assert logger.get_snapshot_gap() == 2
    for itr in range(6):
        logger.save_itr_params(itr, {"itr": itr, "w": torch.full((2,), float(itr))})
    assert (_itr_files(snap_dir) if snap_dir.exists() else []) == expected
    if "params.pkl" in expected:
        last = logger.load_snapshot(str(snap_dir))
        assert last["itr"] == 5
        torch.testing.assert_close(last["w"], torch.full((2,), 5.0))


def test_snapshot_settings_validated_and_no_dir_is_noop():
    with pytest.raises(ValueError):
        logger.set_snapshot_mode("sometimes")
    with pytest.raises(ValueError):
        logger.set_snapshot_gap(0)
    assert logger.save_itr_params(0, {"itr": 0}) == []


def test_last_snapshot_write_is_atomic(tmp_path, monkeypatch):
    logger.set_snapshot_dir(str(tmp_path))
    logger.set_snapshot_mode("last")
    logger.save_itr_params(0, {"itr": 0})

    def crash(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        logger.save_itr_params(1, {"itr": 1})
    monkeypatch.undo()
    assert _itr_files(tmp_path) == ["params.pkl"]  # temp file cleaned up
    assert logger.load_snapshot(str(tmp_path / "params.pkl"))["itr"] == 0


def test_load_snapshot_picks_newest_itr_and_numpy_state(tmp_path):
    logger.set_snapshot_dir(str(tmp_path))
    logger.set_snapshot_mode("all")
    for itr in (2, 10, 9):
        params = {"itr": itr, "np_rng": np.random.get_state(), "x": np.float32(itr)}
        logger.save_itr_params(itr, params)
    loaded = logger.load_snapshot(str(tmp_path), map_location="cpu")
    assert loaded["itr"] == 10 and loaded["x"] == np.float32(10)
    np.testing.assert_array_equal(loaded["np_rng"][1], np.random.get_state()[1])
    with pytest.raises(FileNotFoundError):
        logger.load_snapshot(str(tmp_path / "missing"))


class Opaque:
    """An arbitrary class: weights_only loading must refuse it."""

    def __init__(self, value):
        self.value = value


def test_load_snapshot_weights_only_refuses_arbitrary_objects(tmp_path):
    logger.set_snapshot_dir(str(tmp_path))
    logger.set_snapshot_mode("last")
    logger.save_itr_params(0, {"obj": Opaque(3)})
    with pytest.raises(pickle.UnpicklingError):
        logger.load_snapshot(str(tmp_path))
    assert logger.load_snapshot(str(tmp_path), weights_only=False)["obj"].value == 3


# ---------------------------------------------------------------------------------------------
# params.json encoding.


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Sub:
    lr: float = 1e-3


Pair = collections.namedtuple("Pair", ["a", "b"])


def test_save_params_encodes_odd_values(tmp_path):
    params = {
        "np_int": np.int64(4),
        "np_float": np.float32(0.5),
        "array": np.arange(3),
        "tensor": torch.tensor([1.5, 2.5]),
        "tensor0": torch.tensor(7),
        "cls": torch.optim.Adam,
        "fn": np.mean,
        "pair": Pair(1, np.float64(2.0)),
        "set": {3, 1, 2},
        "color": Color.RED,
        "sub": Sub(),
        "dtype": torch.float32,
        "int_keys": {1: "x", (2, 3): "y"},
        "other": object(),
    }
    path = logger.save_params(str(tmp_path / "new"), params)
    assert path == str(tmp_path / "new" / "params.json")
    with open(path) as f:
        loaded = json.load(f)
    assert loaded["np_int"] == 4 and loaded["np_float"] == 0.5
    assert loaded["array"] == [0, 1, 2] and loaded["tensor"] == [1.5, 2.5]
    assert loaded["tensor0"] == 7
    assert loaded["cls"] == "torch.optim.adam.Adam"
    assert loaded["fn"] == "numpy.mean"
    assert loaded["pair"] == {"a": 1, "b": 2.0}
    assert loaded["set"] == [1, 2, 3]
    assert loaded["color"] == "Color.RED"
    assert loaded["sub"] == {"lr": 1e-3}
    assert loaded["dtype"] == "torch.float32"
    assert loaded["int_keys"] == {"1": "x", "(2, 3)": "y"}
    assert loaded["other"].startswith("<object object")


def test_log_parameters_lite_namespace(tmp_path):
    import argparse

    args = argparse.Namespace(lr=0.1, env="CartPole-v1", seed=np.int32(3))
    logger.log_parameters_lite(str(tmp_path / "params.json"), args)
    with open(tmp_path / "params.json") as f:
        assert json.load(f) == {"lr": 0.1, "env": "CartPole-v1", "seed": 3}


def test_preserved_state_restores_everything(tmp_path):
    keep = tmp_path / "keep.log"
    logger.add_text_output(str(keep))
    logger.push_prefix("outer ")
    logger.record_tabular("Pending", 1)
    with pytest.raises(RuntimeError), logger.preserved_state():
        logger.push_prefix("inner ")
        logger.remove_text_output(str(keep))
        logger.add_text_output(str(tmp_path / "inner.log"))
        logger.set_snapshot_mode("last")
        logger.record_tabular("Inner", 2)
        raise RuntimeError
    assert logger.get_text_output_files() == [str(keep)]
    assert logger.get_snapshot_mode() == "all"
    assert logger.get_table_dict() == {"Pending": 1}
    logger.log("back", with_timestamp=False)
    assert keep.read_text() == "outer back\n"
