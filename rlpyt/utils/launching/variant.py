"""Variants: the grid of config changes a sweep runs, and their ``variant_config.json`` files.

A :class:`VariantLevel` sets some config entries to one of several value tuples; each value tuple
has a directory name. :func:`make_variants` takes the product of the levels. Each variant is a
nested dict of the changed entries only; a train script applies it to its default config with
:func:`update_config`, which fails on a key the config does not have (a typo in a sweep must not
silently run the default).

Examples:
    >>> lr = VariantLevel(keys=[("algo", "learning_rate")], values=[(1e-3,), (3e-4,)],
    ...                   dir_names=["lr_1e-3", "lr_3e-4"])
    >>> envs = VariantLevel([("env", "id"), ("runner", "n_steps")],
    ...                     [("CartPole-v1", 1e5), ("Acrobot-v1", 2e5)], ["cartpole", "acrobot"])
    >>> variants, log_dirs = make_variants(lr, envs)
    >>> log_dirs[1]
    'lr_1e-3/acrobot'
    >>> variants[1]
    {'algo': {'learning_rate': 0.001}, 'env': {'id': 'Acrobot-v1'}, 'runner': {'n_steps': 200000.0}}
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

VARIANT = "variant_config.json"

VariantLevel = namedtuple("VariantLevel", ["keys", "values", "dir_names"])
VariantLevel.__doc__ = """One axis of a sweep.

Args:
    keys: key paths into the config, one per changed entry, e.g. ``[("algo", "lr")]`` (a plain
        string is a top-level key).
    values: one tuple per setting, holding one value per key path.
    dir_names: one directory name per setting (joined across levels into the log dir).
"""


def make_variants(*variant_levels: VariantLevel) -> tuple[list[dict], list[str]]:
    """The product of the levels: every combination of one setting per level.

    Args:
        variant_levels: the axes, outermost first (the first level varies slowest).

    Returns:
        ``(variants, log_dirs)``: nested dicts of the changed entries, and the matching
        relative log directories (``"<dir of level 0>/<dir of level 1>/..."``).

    Raises:
        ValueError: on mismatched lengths, duplicate directories, or key paths that collide.
    """
    variants: list[dict] = [{}]
    log_dirs: list[str] = [""]
    for level in variant_levels:
        keys, values, dir_names = _check_level(level)
        new_variants, new_dirs = [], []
        for variant, log_dir in zip(variants, log_dirs):
            for setting, name in zip(values, dir_names):
                new_variant = copy.deepcopy(variant)
                for path, value in zip(keys, setting):
                    _set_path(new_variant, path, value)
                new_variants.append(new_variant)
                new_dirs.append(os.path.join(log_dir, name) if log_dir else name)
        variants, log_dirs = new_variants, new_dirs
    if len(set(log_dirs)) != len(log_dirs):
        dup = next(d for d in log_dirs if log_dirs.count(d) > 1)
        raise ValueError(f"make_variants: log dir {dup!r} repeats; dir_names must be unique")
    return variants, log_dirs


def _check_level(level: Any) -> tuple[list[tuple], list[Sequence], list[str]]:
    keys, values, dir_names = level
    keys = [(k,) if isinstance(k, str) else tuple(k) for k in keys]
    if not keys or any(not path for path in keys):
        raise ValueError(f"VariantLevel needs non-empty key paths, got {level.keys!r}")
    if len(values) != len(dir_names):
        raise ValueError(
            f"VariantLevel {keys}: {len(values)} value tuples but {len(dir_names)} dir_names"
        )
    for setting in values:
        if not isinstance(setting, (tuple, list)) or len(setting) != len(keys):
            raise ValueError(
                f"VariantLevel {keys}: each entry of values must be a tuple of {len(keys)} "
                f"value(s), one per key path; got {setting!r}"
            )
    for name in dir_names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"VariantLevel {keys}: dir_names must be non-empty strings")
    return keys, list(values), list(dir_names)


def _set_path(variant: dict, path: tuple, value: Any) -> None:
    node = variant
    for i, key in enumerate(path[:-1]):
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(
                f"make_variants: key path {path} runs through {path[: i + 1]}, which another "
                f"key path set to a value"
            )
    if isinstance(node.get(path[-1]), dict):
        raise ValueError(f"make_variants: key path {path} would replace a nested variant")
    node[path[-1]] = value


def update_config(default: Mapping, variant: Mapping) -> dict:
    """A copy of ``default`` with the entries of ``variant`` changed, recursively.

    Nested dicts of ``default`` are copied, leaves are shared; neither argument is modified.

    Raises:
        KeyError: if ``variant`` has a key that ``default`` lacks (the message names its path).
        TypeError: if ``variant`` has a dict where ``default`` has a non-dict, or the reverse.
    """
    return _update(default, variant, ())


def _update(default: Mapping, variant: Mapping, path: tuple) -> dict:
    new = copy.copy(default)
    for key, value in default.items():
        if isinstance(value, Mapping):
            new[key] = _update(value, {}, (*path, key))
    for key, value in variant.items():
        where = ".".join(map(str, (*path, key)))
        if key not in default:
            raise KeyError(f"variant key {where!r} is not in the default config")
        if isinstance(value, Mapping) != isinstance(default[key], Mapping):
            raise TypeError(
                f"variant key {where!r}: variant has {type(value).__name__}, default config "
                f"has {type(default[key]).__name__} (dicts update only dicts)"
            )
        new[key] = (
            _update(default[key], value, (*path, key)) if isinstance(value, Mapping) else value
        )
    return new


def save_variant(variant: Mapping, log_dir: str) -> str:
    """Write ``variant`` to ``<log_dir>/variant_config.json`` (atomically); return the path.

    Raises:
        TypeError: if a value is not JSON-serialisable (a variant must load back unchanged).
    """
    os.makedirs(log_dir, exist_ok=True)
    path = os.path.join(log_dir, VARIANT)
    text = json.dumps(variant, indent=2, sort_keys=True)
    # Runs of one setting read this file while the launcher rewrites it for the next run_ID.
    fd, tmp = tempfile.mkstemp(dir=log_dir, prefix=".variant_", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_variant(log_dir: str) -> dict:
    """Read ``<log_dir>/variant_config.json`` (tuples come back as lists)."""
    with open(os.path.join(log_dir, VARIANT)) as f:
        return json.load(f)
