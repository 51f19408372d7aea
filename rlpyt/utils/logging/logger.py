"""Process-wide rllab/viskit-compatible logger: text log, tabular rows, TensorBoard, snapshots."""

from __future__ import annotations

import datetime
import numbers
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from rlpyt.utils.logging._console import colorize, format_table
from rlpyt.utils.logging._csv_output import CsvOutput
from rlpyt.utils.logging._params import log_parameters_lite, save_params
from rlpyt.utils.logging._snapshots import (
    SNAPSHOT_MODES,
    get_snapshot_dir,
    get_snapshot_gap,
    get_snapshot_mode,
    load_snapshot,
    save_itr_params,
    set_snapshot_dir,
    set_snapshot_gap,
    set_snapshot_mode,
)
from rlpyt.utils.logging._state import LOCK, STATE, preserved_state
from rlpyt.utils.logging._state import reset_state as reset

__all__ = [
    "add_tabular_output", "add_text_output", "disable", "disable_tabular", "dump_tabular",
    "enable", "enable_tabular", "get_disable_prefix", "get_log_tabular_only", "get_snapshot_dir",
    "get_snapshot_gap", "get_snapshot_mode", "get_table_dict", "get_tabular_output_files",
    "get_text_output_files", "get_tf_summary_writer", "load_snapshot", "log",
    "log_parameters_lite", "pop_prefix", "pop_tabular_prefix", "prefix", "preserved_state",
    "push_prefix", "push_tabular_prefix", "record_tabular", "record_tabular_misc_stat", "reset",
    "remove_tabular_output", "remove_text_output", "save_itr_params", "save_params",
    "set_disable_prefix", "set_iteration", "set_log_tabular_only", "set_snapshot_dir",
    "set_snapshot_gap", "set_snapshot_mode", "set_tf_summary_writer", "tabular_prefix",
    "SNAPSHOT_MODES", "CUM_STEPS_KEY",
]  # fmt: skip

CUM_STEPS_KEY = "Diagnostics/CumSteps"


# ---------------------------------------------------------------------------------------------
# Text log.


def _write_stdout(text: str) -> None:
    # The logger is the single place in rlpyt that writes to stdout.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def log(
    s: Any, with_prefix: bool = True, with_timestamp: bool = True, color: str | None = None
) -> None:
    """Write a line to stdout and to every text output (e.g. ``debug.log``).

    Nothing is written while the logger is disabled (``disable()``) or in tabular-only mode.

    Args:
        s: message; converted with ``str``.
        with_prefix: prepend the pushed prefixes (unless ``set_disable_prefix(True)``).
        with_timestamp: prepend the local date and time.
        color: ANSI colour for stdout only (see ``_console.colorize``); files stay plain.
    """
    st = STATE
    if st.disabled or st.log_tabular_only:
        return
    out = str(s)
    if with_prefix and not st.disable_prefix:
        out = "".join(st.prefixes) + out
    if with_timestamp:
        stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        out = f"{stamp} | {out}"
    with LOCK:
        _write_stdout(colorize(out, color) if color else out)
        for f in st.text_outputs.values():
            f.write(out + "\n")
            f.flush()


def add_text_output(file_name: str) -> None:
    """Append future ``log`` lines to ``file_name`` (parent directories are created).

    Args:
        file_name: path of the text file; adding the same path twice is a no-op.
    """
    path = os.path.abspath(file_name)
    with LOCK:
        if path not in STATE.text_outputs:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            STATE.text_outputs[path] = open(path, "a")


def remove_text_output(file_name: str) -> None:
    """Stop logging to ``file_name`` and close it (no-op if it was not added).

    Args:
        file_name: path given to ``add_text_output``.
    """
    with LOCK:
        f = STATE.text_outputs.pop(os.path.abspath(file_name), None)
        if f is not None:
            f.close()


def get_text_output_files() -> list[str]:
    """Return the absolute paths of the current text outputs."""
    return list(STATE.text_outputs)


def push_prefix(prefix_: str) -> None:
    """Push a text prefix; prefixes are concatenated in push order before each log line.

    Args:
        prefix_: text to prepend, e.g. ``"ppo_0 "``.
    """
    STATE.prefixes.append(prefix_)


def pop_prefix() -> None:
    """Remove the most recently pushed text prefix."""
    if not STATE.prefixes:
        raise IndexError("pop_prefix() called with no prefix pushed.")
    STATE.prefixes.pop()


@contextmanager
def prefix(prefix_: str) -> Iterator[None]:
    """Context manager that pushes ``prefix_`` on entry and pops it on exit.

    Args:
        prefix_: text prefix.
    """
    push_prefix(prefix_)
    try:
        yield
    finally:
        pop_prefix()


def set_disable_prefix(disable_prefix: bool) -> None:
    """Choose whether ``log`` ignores the pushed text prefixes.

    Args:
        disable_prefix: if True, prefixes are not written.
    """
    STATE.disable_prefix = bool(disable_prefix)


def get_disable_prefix() -> bool:
    """Return whether ``log`` ignores the text prefixes."""
    return STATE.disable_prefix


def set_log_tabular_only(log_tabular_only: bool) -> None:
    """Choose tabular-only mode, in which ``log`` is silent and only tables reach stdout.

    Args:
        log_tabular_only: enable the mode.
    """
    STATE.log_tabular_only = bool(log_tabular_only)


def get_log_tabular_only() -> bool:
    """Return whether tabular-only mode is on."""
    return STATE.log_tabular_only


def disable() -> None:
    """Silence ``log`` and console tables entirely (e.g. in worker processes)."""
    STATE.disabled = True


def enable() -> None:
    """Undo ``disable()``."""
    STATE.disabled = False


def disable_tabular() -> None:
    """Make ``record_tabular`` and ``dump_tabular`` no-ops."""
    STATE.tabular_disabled = True


def enable_tabular() -> None:
    """Undo ``disable_tabular()``."""
    STATE.tabular_disabled = False


# ---------------------------------------------------------------------------------------------
# Tabular rows.


def _to_scalar(key: str, val: Any) -> Any:
    if isinstance(val, (torch.Tensor, np.ndarray)):
        size = val.numel() if isinstance(val, torch.Tensor) else val.size
        if size == 1:
            return val.item()
        raise ValueError(
            f"record_tabular({key!r}) got an array of shape {tuple(val.shape)}; "
            "use record_tabular_misc_stat for arrays."
        )
    return val


def record_tabular(key: str, val: Any, *args: Any, **kwargs: Any) -> None:
    """Set column ``key`` (after the tabular prefixes) of the current row.

    Args:
        key: column name, e.g. ``"Diagnostics/CumSteps"``.
        val: python, numpy or torch scalar (one-element tensors and arrays are unwrapped).
        *args: ignored (accepted for compatibility).
        **kwargs: ignored (accepted for compatibility).
    """
    if STATE.tabular_disabled:
        return
    full_key = "".join(STATE.tabular_prefixes) + str(key)
    STATE.tabular[full_key] = _to_scalar(full_key, val)


def _as_float_array(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu", torch.float64).numpy().ravel()
    if isinstance(values, (list, tuple)):
        values = [v.item() if isinstance(v, torch.Tensor) else v for v in values]
    return np.asarray(values, dtype=np.float64).ravel()


def record_tabular_misc_stat(key: str, values: Any, placement: str = "back") -> None:
    """Record Average, Std, Median, Min and Max of ``values``.

    With ``placement="back"`` the columns are ``{key}Average``, ... (e.g. ``ReturnAverage``);
    with ``"front"`` they are ``Average{key}``, .... Empty input records NaN in all five columns,
    so the CSV layout does not depend on whether e.g. an episode finished.

    Args:
        key: base name, e.g. ``"Return"``.
        values: list, numpy array or tensor of numbers (flattened).
        placement: ``"back"`` or ``"front"``.
    """
    if placement not in ("back", "front"):
        raise ValueError(f"placement must be 'back' or 'front', got {placement!r}.")
    arr = _as_float_array(values)
    stats = {"Average": np.mean, "Std": np.std, "Median": np.median, "Min": np.min, "Max": np.max}
    for name, fn in stats.items():
        column = key + name if placement == "back" else name + key
        record_tabular(column, float(fn(arr)) if arr.size else float("nan"))


def push_tabular_prefix(key: str) -> None:
    """Push a prefix for tabular keys; prefixes are concatenated in push order.

    Args:
        key: prefix text, e.g. ``"Eval/"``.
    """
    STATE.tabular_prefixes.append(key)


def pop_tabular_prefix() -> None:
    """Remove the most recently pushed tabular prefix."""
    if not STATE.tabular_prefixes:
        raise IndexError("pop_tabular_prefix() called with no tabular prefix pushed.")
    STATE.tabular_prefixes.pop()


@contextmanager
def tabular_prefix(key: str) -> Iterator[None]:
    """Context manager that pushes a tabular prefix on entry and pops it on exit.

    Args:
        key: prefix text.
    """
    push_tabular_prefix(key)
    try:
        yield
    finally:
        pop_tabular_prefix()


def get_table_dict() -> dict[str, Any]:
    """Return a copy of the current (not yet dumped) row."""
    return dict(STATE.tabular)


def add_tabular_output(file_name: str, relative_to_snapshot_dir: bool = False) -> None:
    """Write future rows to the CSV file ``file_name`` (its header grows with new keys).

    Args:
        file_name: path of the CSV file, e.g. ``progress.csv``.
        relative_to_snapshot_dir: interpret ``file_name`` relative to the snapshot dir.
    """
    if relative_to_snapshot_dir:
        file_name = os.path.join(STATE.snapshot_dir or ".", file_name)
    path = os.path.abspath(file_name)
    with LOCK:
        if path not in STATE.tabular_outputs:
            STATE.tabular_outputs[path] = CsvOutput(path)


def remove_tabular_output(file_name: str, relative_to_snapshot_dir: bool = False) -> None:
    """Stop writing rows to ``file_name`` (no-op if it was not added).

    Args:
        file_name: path given to ``add_tabular_output``.
        relative_to_snapshot_dir: interpret ``file_name`` relative to the snapshot dir.
    """
    if relative_to_snapshot_dir:
        file_name = os.path.join(STATE.snapshot_dir or ".", file_name)
    with LOCK:
        STATE.tabular_outputs.pop(os.path.abspath(file_name), None)


def get_tabular_output_files() -> list[str]:
    """Return the absolute paths of the current tabular (CSV) outputs."""
    return list(STATE.tabular_outputs)


def set_tf_summary_writer(writer: Any) -> None:
    """Also send every dumped row to a TensorBoard ``SummaryWriter`` (``None`` to stop).

    Args:
        writer: a ``torch.utils.tensorboard.SummaryWriter``-like object with ``add_scalar``.
    """
    STATE.summary_writer = writer
    STATE.summary_rows = 0


def get_tf_summary_writer() -> Any:
    """Return the current summary writer, or ``None``."""
    return STATE.summary_writer


def set_iteration(itr: int | None) -> None:
    """Set the TensorBoard step used for rows that carry neither CumSteps nor Iteration.

    Args:
        itr: iteration number, or ``None`` to count dumped rows instead.
    """
    STATE.iteration = itr


def _summary_step(row: Mapping[str, Any]) -> int:
    for key in (CUM_STEPS_KEY, "Iteration"):
        if isinstance(row.get(key), numbers.Real):
            return int(row[key])
    return STATE.iteration if STATE.iteration is not None else STATE.summary_rows


def _write_summary(row: Mapping[str, Any]) -> None:
    writer = STATE.summary_writer
    if writer is None:
        return
    step = _summary_step(row)
    for key, val in row.items():
        if isinstance(val, numbers.Real):
            writer.add_scalar(key, float(val), step)
    writer.flush()
    STATE.summary_rows += 1


def dump_tabular(*args: Any, **kwargs: Any) -> None:
    """Emit the current row everywhere, then clear it.

    The row is shown as an aligned key/value table (through ``log``, so it also lands in
    ``debug.log``; straight to stdout in tabular-only mode), appended to every CSV output
    (flushed) and, if a summary writer is set, added as scalars at step ``Diagnostics/CumSteps``,
    else ``Iteration``, else ``set_iteration``'s value, else the number of rows dumped so far.

    Args:
        *args: passed to ``log`` for each table line.
        **kwargs: passed to ``log`` for each table line.
    """
    with LOCK:
        row = dict(STATE.tabular)
        STATE.tabular.clear()
        if STATE.tabular_disabled or not row:
            return
        table = format_table(row.items())
        if STATE.log_tabular_only:
            if not STATE.disabled:
                _write_stdout(table)
        else:
            for line in table.splitlines():
                log(line, *args, **kwargs)
        for output in STATE.tabular_outputs.values():
            output.write_row(row)
        _write_summary(row)
