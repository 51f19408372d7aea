"""Snapshot settings, ``save_itr_params`` and ``load_snapshot`` (re-exported by ``logger``)."""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from rlpyt.utils.logging._state import STATE

SNAPSHOT_MODES = ("none", "last", "all", "gap", "last+gap")
_ITR_FILE = re.compile(r"^itr_(\d+)\.pkl$")


def set_snapshot_dir(dir_name: str | None) -> None:
    """Set where ``save_itr_params`` writes.

    Args:
        dir_name: snapshot directory (created on first save), or ``None`` to save nothing.
    """
    STATE.snapshot_dir = dir_name


def get_snapshot_dir() -> str | None:
    """Return the snapshot directory, or ``None``."""
    return STATE.snapshot_dir


def set_snapshot_mode(mode: str) -> None:
    """Set which files ``save_itr_params`` writes.

    Args:
        mode: one of ``none``, ``last``, ``all``, ``gap``, ``last+gap``.
    """
    if mode not in SNAPSHOT_MODES:
        raise ValueError(f"Unknown snapshot mode {mode!r}; expected one of {SNAPSHOT_MODES}.")
    STATE.snapshot_mode = mode


def get_snapshot_mode() -> str:
    """Return the snapshot mode."""
    return STATE.snapshot_mode


def set_snapshot_gap(gap: int) -> None:
    """Set the interval of ``itr_N.pkl`` files in the ``gap`` modes.

    Args:
        gap: save ``itr_N.pkl`` when ``N % gap == 0``; at least 1.
    """
    if int(gap) < 1:
        raise ValueError(f"snapshot gap must be >= 1, got {gap}.")
    STATE.snapshot_gap = int(gap)


def get_snapshot_gap() -> int:
    """Return the snapshot gap."""
    return STATE.snapshot_gap


def save_itr_params(itr: int, params: Mapping[str, Any]) -> list[str]:
    """Save ``params`` with ``torch.save`` according to the snapshot mode.

    ``all``: ``itr_{itr}.pkl`` every call; ``last``: ``params.pkl``, replaced atomically;
    ``gap``: ``itr_{itr}.pkl`` when ``itr % gap == 0``; ``last+gap``: both; ``none``: nothing.
    Nothing is saved while no snapshot dir is set. What goes into ``params`` (agent and
    optimizer state dicts, counters, RNG states) is decided by the runner.

    Args:
        itr: iteration number.
        params: dict to save; prefer tensors, numbers, strings and containers so that
            ``load_snapshot`` can use ``weights_only=True``.

    Returns:
        The paths written.
    """
    st = STATE
    if st.snapshot_dir is None or st.snapshot_mode == "none":
        return []
    paths = []
    if st.snapshot_mode == "all" or (
        st.snapshot_mode in ("gap", "last+gap") and itr % st.snapshot_gap == 0
    ):
        paths.append(os.path.join(st.snapshot_dir, f"itr_{itr}.pkl"))
    if st.snapshot_mode in ("last", "last+gap"):
        paths.append(os.path.join(st.snapshot_dir, "params.pkl"))
    if paths:
        os.makedirs(st.snapshot_dir, exist_ok=True)
    for path in paths:
        atomic_torch_save(params, path)
    return paths


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to a temporary file in the same directory, then ``os.replace`` it.

    A crash mid-write leaves the previous file at ``path`` intact.

    Args:
        obj: object to save.
        path: destination file.
    """
    tmp_path = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp_path, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def find_snapshot(path_or_dir: str) -> str:
    """Resolve a snapshot file: a file as is; in a directory ``params.pkl``, else the newest
    ``itr_N.pkl`` (largest N).

    Args:
        path_or_dir: a snapshot file or a run directory.

    Returns:
        Path of the snapshot file.

    Raises:
        FileNotFoundError: nothing suitable exists.
    """
    if os.path.isfile(path_or_dir):
        return path_or_dir
    if not os.path.isdir(path_or_dir):
        raise FileNotFoundError(f"No snapshot file or directory at {path_or_dir!r}.")
    last = os.path.join(path_or_dir, "params.pkl")
    if os.path.isfile(last):
        return last
    itrs = [
        (int(m.group(1)), name) for name in os.listdir(path_or_dir) if (m := _ITR_FILE.match(name))
    ]
    if not itrs:
        raise FileNotFoundError(f"No params.pkl or itr_N.pkl in {path_or_dir!r}.")
    return os.path.join(path_or_dir, max(itrs)[1])


def _numpy_safe_globals() -> list[Any]:
    """Globals needed to unpickle plain numpy arrays, scalars and dtypes (pure data)."""
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0.0).__reduce__()[0]
    dtypes_mod = getattr(np, "dtypes", None)
    dtype_classes = [
        getattr(dtypes_mod, name)
        for name in dir(dtypes_mod)
        if name.endswith("DType") and isinstance(getattr(dtypes_mod, name), type)
    ]
    return [reconstruct, scalar, np.ndarray, np.dtype, *dtype_classes]


def load_snapshot(
    path_or_dir: str, map_location: Any = None, weights_only: bool = True
) -> dict[str, Any]:
    """Load a snapshot saved by ``save_itr_params``.

    Loading first uses ``torch.load(weights_only=True)`` with numpy arrays, scalars and dtypes
    allowed, which can hold tensors, state dicts, numbers, strings, containers and numpy RNG
    states but cannot run code. Only when the caller passes ``weights_only=False`` and the safe
    load fails does it retry with full unpickling: snapshots from trusted runs may hold arbitrary
    objects (e.g. a pickled env or a custom class), and unpickling those can execute code, so it
    is never the silent default.

    Args:
        path_or_dir: a snapshot file, or a run directory (``params.pkl``, else the newest
            ``itr_N.pkl``).
        map_location: passed to ``torch.load``, e.g. ``"cpu"``.
        weights_only: ``False`` allows the unsafe fallback for trusted files.

    Returns:
        The saved object, normally a dict.
    """
    path = find_snapshot(path_or_dir)
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        if weights_only:
            raise
    return torch.load(path, map_location=map_location, weights_only=False)
