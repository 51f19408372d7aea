"""Shared mutable state of the module-level logger (see ``logger.py``), with save/restore."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rlpyt.utils.logging._csv_output import CsvOutput


@dataclasses.dataclass
class _LoggerState:
    """Everything the module-level functions read and write; ``reset_state()`` resets it."""

    prefixes: list[str] = dataclasses.field(default_factory=list)
    tabular_prefixes: list[str] = dataclasses.field(default_factory=list)
    tabular: dict[str, Any] = dataclasses.field(default_factory=dict)
    text_outputs: dict[str, IO[str]] = dataclasses.field(default_factory=dict)
    tabular_outputs: dict[str, CsvOutput] = dataclasses.field(default_factory=dict)
    snapshot_dir: str | None = None
    snapshot_mode: str = "all"
    snapshot_gap: int = 1
    log_tabular_only: bool = False
    disable_prefix: bool = False
    disabled: bool = False
    tabular_disabled: bool = False
    summary_writer: Any = None
    iteration: int | None = None
    summary_rows: int = 0  # rows sent to the current summary writer (its fallback step)


STATE = _LoggerState()
# Runners may log from a helper thread (async mode); serialise writes to files and stdout.
LOCK = threading.RLock()


def reset_state() -> None:
    """Close all outputs and restore every logger setting to its default (used by tests).

    A summary writer set by the caller is dropped but not closed (the caller owns it).
    """
    with LOCK:
        for f in STATE.text_outputs.values():
            f.close()
        fresh = _LoggerState()
        for field in dataclasses.fields(_LoggerState):
            setattr(STATE, field.name, getattr(fresh, field.name))


@contextmanager
def preserved_state() -> Iterator[None]:
    """Context manager restoring all logger settings on exit, also when the body raises.

    Prefixes, tabular prefixes, snapshot settings, flags, summary writer and the pending row
    return to their values at entry; text/tabular outputs added inside are closed and removed,
    and outputs removed inside are re-added (appending). A writer set inside is not closed.
    """
    saved = dataclasses.replace(
        STATE,
        prefixes=list(STATE.prefixes),
        tabular_prefixes=list(STATE.tabular_prefixes),
        tabular=dict(STATE.tabular),
        text_outputs=dict(STATE.text_outputs),
        tabular_outputs=dict(STATE.tabular_outputs),
    )
    try:
        yield
    finally:
        with LOCK:
            for path, f in STATE.text_outputs.items():
                if saved.text_outputs.get(path) is not f:
                    f.close()
            for path, f in saved.text_outputs.items():
                if f.closed:
                    saved.text_outputs[path] = open(path, "a")
            for field in dataclasses.fields(_LoggerState):
                setattr(STATE, field.name, getattr(saved, field.name))
