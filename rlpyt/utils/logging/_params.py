"""JSON encoding of run parameters (``params.json``) for the logger."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` recursively into JSON-serialisable python values.

    numpy/torch scalars become numbers, arrays and tensors nested lists, classes and functions
    ``"module.qualname"`` strings, namedtuples and dataclasses dicts, sets sorted lists, enums
    ``"Class.NAME"``, torch dtypes and devices their ``str``; anything else its ``repr``.

    Args:
        obj: any value.

    Returns:
        A value ``json.dumps`` accepts.
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__name__}.{obj.name}"
    if isinstance(obj, (np.generic, np.ndarray)):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (torch.dtype, torch.device)):
        return str(obj)
    if isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, type) or inspect.isroutine(obj):
        return f"{getattr(obj, '__module__', None) or '?'}.{obj.__qualname__}"
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return {str(k): to_jsonable(v) for k, v in obj._asdict().items()}
    if dataclasses.is_dataclass(obj):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {_json_key(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (set, frozenset)):
        items = [to_jsonable(v) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return repr(obj)


def _json_key(key: Any) -> str | int | float | bool | None:
    return key if key is None or isinstance(key, (str, int, float, bool)) else str(key)


def save_params(log_dir: str, params: Mapping[str, Any], file_name: str = "params.json") -> str:
    """Write ``params`` as indented JSON to ``{log_dir}/{file_name}`` (viskit reads it).

    Args:
        log_dir: run directory; created if missing.
        params: configuration to record; odd values are converted by ``to_jsonable``.
        file_name: name of the file inside ``log_dir``.

    Returns:
        The path written.
    """
    os.makedirs(log_dir, exist_ok=True)
    path = os.path.join(log_dir, file_name)
    write_json(path, params)
    return path


def write_json(path: str, obj: Any) -> None:
    """Write ``to_jsonable(obj)`` to ``path`` atomically, creating parent directories.

    Args:
        path: destination file.
        obj: value to encode.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp_path = f"{path}.tmp{os.getpid()}"
    with open(tmp_path, "w") as f:
        json.dump(to_jsonable(obj), f, indent=2)
        f.write("\n")
    os.replace(tmp_path, path)


def log_parameters_lite(log_file: str, args: Any) -> None:
    """Write the attributes of ``args`` (argparse namespace or mapping) as JSON to ``log_file``.

    Args:
        log_file: destination path, e.g. ``{run_dir}/params.json``.
        args: an ``argparse.Namespace``, any object with ``__dict__``, or a mapping.
    """
    write_json(log_file, dict(args) if isinstance(args, Mapping) else dict(vars(args)))
