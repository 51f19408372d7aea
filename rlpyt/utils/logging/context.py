"""``logger_context``: point the logger at a run directory for the duration of a training run."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rlpyt.utils.logging import logger
from rlpyt.utils.logging._params import save_params, write_json

DATA_DIR_ENV = "RLPYT_DATA_DIR"


def get_data_dir() -> str:
    """Return the base data directory: ``$RLPYT_DATA_DIR`` if set, else ``./data`` (absolute)."""
    return os.path.abspath(os.environ.get(DATA_DIR_ENV) or os.path.join(os.getcwd(), "data"))


def get_log_dir(experiment_name: str, root_log_dir: str | None = None, date: bool = True) -> str:
    """Return the directory that holds the runs of an experiment.

    Args:
        experiment_name: name (or relative path) of the experiment.
        root_log_dir: base directory; defaults to ``get_data_dir()``.
        date: insert today's ``yyyymmdd`` (local time) after ``local/``.

    Returns:
        ``{root_log_dir}/local/{yyyymmdd}/{experiment_name}`` (absolute).
    """
    parts = [root_log_dir or get_data_dir(), "local"]
    if date:
        parts.append(datetime.datetime.now().strftime("%Y%m%d"))
    return os.path.abspath(os.path.join(*parts, experiment_name))


def get_run_dir(log_dir: str, run_ID: int | str, override_prefix: bool = False) -> str:
    """Return the run directory that ``logger_context`` uses.

    Args:
        log_dir: an absolute path is used as is; a relative one is placed under
            ``get_log_dir`` (``{data}/local/{yyyymmdd}/{log_dir}``) unless ``override_prefix``.
        run_ID: run number (or label) within the experiment.
        override_prefix: use a relative ``log_dir`` relative to the working directory instead.

    Returns:
        ``{experiment_dir}/run_{run_ID}`` (absolute).
    """
    if os.path.isabs(log_dir) or override_prefix:
        exp_dir = os.path.abspath(log_dir)
    else:
        exp_dir = get_log_dir(log_dir)
    return os.path.join(exp_dir, f"run_{run_ID}")


def _make_summary_writer(run_dir: str) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:  # tensorboard is an optional extra
        raise ImportError(
            "use_summary_writer=True needs tensorboard: pip install 'rlpyt[tensorboard]'."
        ) from e
    return SummaryWriter(log_dir=run_dir)


@contextmanager
def logger_context(
    log_dir: str,
    run_ID: int | str,
    name: str,
    log_params: Mapping[str, Any] | None = None,
    snapshot_mode: str = "none",
    override_prefix: bool = False,
    use_summary_writer: bool = False,
) -> Iterator[str]:
    """Log one run into its own directory; wrap a runner's ``train()`` call with it.

    The run directory (see ``get_run_dir``) receives ``debug.log`` (text log), ``progress.csv``
    (one row per ``dump_tabular``), ``params.json`` (``log_params`` plus ``name`` and
    ``run_ID``), snapshots (``save_itr_params`` with ``snapshot_mode``) and, with
    ``use_summary_writer``, TensorBoard event files. Log lines are prefixed ``"{name}_{run_ID} "``.
    On exit, also through an exception or ``KeyboardInterrupt``, the files and the writer are
    closed and every logger setting is restored to its value at entry.

    Args:
        log_dir: experiment directory: absolute, or relative to ``{data}/local/{yyyymmdd}/``
            where ``{data}`` is ``$RLPYT_DATA_DIR`` or ``./data``.
        run_ID: run number within the experiment; the run directory is ``run_{run_ID}``.
        name: run name, used in the log prefix and ``params.json``.
        log_params: configuration to record in ``params.json`` (not modified).
        snapshot_mode: ``none``, ``last``, ``all``, ``gap`` or ``last+gap``.
        override_prefix: take a relative ``log_dir`` relative to the working directory, without
            the ``{data}/local/{yyyymmdd}/`` prefix.
        use_summary_writer: also write TensorBoard scalars (needs ``tensorboard``).

    Yields:
        The absolute run directory.
    """
    run_dir = get_run_dir(log_dir, run_ID, override_prefix=override_prefix)
    writer = None
    with logger.preserved_state():
        try:
            os.makedirs(run_dir, exist_ok=True)
            logger.set_snapshot_dir(run_dir)
            logger.set_snapshot_mode(snapshot_mode)
            logger.set_log_tabular_only(False)
            logger.add_text_output(os.path.join(run_dir, "debug.log"))
            logger.add_tabular_output(os.path.join(run_dir, "progress.csv"))
            params = dict(log_params or {})
            params.update(name=name, run_ID=run_ID)
            save_params(run_dir, params)
            if use_summary_writer:
                writer = _make_summary_writer(run_dir)
                logger.set_tf_summary_writer(writer)
            logger.push_prefix(f"{name}_{run_ID} ")
            logger.log(f"Logging to {run_dir}")
            yield run_dir
        finally:
            if writer is not None:
                writer.close()


def add_exp_param(
    param_name: str, param_val: Any, exp_dir: str | None = None, overwrite: bool = False
) -> list[str]:
    """Add a parameter to every ``params.json`` under ``exp_dir`` (e.g. to tag finished runs).

    Args:
        param_name: key to add.
        param_val: value (encoded like ``save_params`` does).
        exp_dir: directory searched recursively; defaults to the logger's snapshot dir.
        overwrite: replace the value where the key already exists.

    Returns:
        Paths of the files that were changed.
    """
    exp_dir = exp_dir or logger.get_snapshot_dir()
    if exp_dir is None:
        raise ValueError("add_exp_param needs exp_dir when no snapshot dir is set.")
    changed = []
    for root, _, files in os.walk(exp_dir):
        if "params.json" not in files:
            continue
        path = os.path.join(root, "params.json")
        with open(path) as f:
            params = json.load(f)
        if overwrite or param_name not in params:
            params[param_name] = param_val
            write_json(path, params)
            changed.append(path)
    return changed
