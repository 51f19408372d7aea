"""Seeding of Python, NumPy and torch RNGs, and capture/restore of their states for exact resume."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

__all__ = [
    "set_seed",
    "get_seed",
    "make_seed",
    "set_envs_seeds",
    "get_rng_states",
    "set_rng_states",
]

# NumPy's legacy global seeder takes seeds in [0, 2**32).
_SEED_MODULUS = 2**32 - 1

_seed: int | None = None


def set_seed(seed: int) -> int:
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU and every CUDA device).

    Args:
        seed: any int; it is reduced modulo ``2**32 - 1`` so NumPy accepts it.

    Returns:
        The seed actually used (also returned by :func:`get_seed` afterwards).
    """
    global _seed
    seed = int(seed) % _SEED_MODULUS
    _seed = seed
    random.seed(seed)
    np.random.seed(seed)
    # torch.manual_seed also seeds all CUDA devices (lazily, without initialising CUDA).
    torch.manual_seed(seed)
    return seed


def get_seed() -> int | None:
    """The seed given to the last :func:`set_seed` call in this process, or ``None``."""
    return _seed


def make_seed() -> int:
    """A fresh seed in ``[0, 2**32 - 1)`` from OS entropy mixed with the clock.

    Distinct across calls and processes (not derived from any seeded RNG, so seeding does not
    make it repeat).
    """
    entropy = int.from_bytes(os.urandom(8), "little")
    return (entropy ^ time.time_ns() ^ (os.getpid() << 20)) % _SEED_MODULUS


def set_envs_seeds(envs: Iterable[Any], seed: int) -> None:
    """Seed environments ``seed, seed + 1, ...`` in order, calling ``env.seed(seed + i)``.

    Environments without a ``seed`` method are skipped (their index still counts, so the
    others get the same seeds whether or not some lack one).

    Args:
        envs: environments, e.g. one collector's ``B`` envs.
        seed: seed of the first environment.
    """
    for i, env in enumerate(envs):
        env_seed = getattr(env, "seed", None)
        if callable(env_seed):
            env_seed(seed + i)


def get_rng_states() -> dict[str, Any]:
    """Capture the states of Python's, NumPy's global and torch's RNGs.

    The result holds only tensors, ints, floats, strings, ``None``, tuples, lists and dicts, so
    it can go into a snapshot written with ``torch.save`` and read back with
    ``torch.load(weights_only=True)``. CUDA generator states are included only if CUDA is
    already initialised in this process (querying them would otherwise initialise CUDA, which
    breaks later ``fork``-started workers).

    Returns:
        Dict with keys ``"python"``, ``"numpy"``, ``"torch"`` and, where CUDA is initialised,
        ``"cuda"`` (a list with one state tensor per device).
    """
    version, internal, gauss_next = random.getstate()
    np_state = np.random.get_state(legacy=False)
    states: dict[str, Any] = {
        "python": (version, tuple(internal), gauss_next),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore RNG states captured by :func:`get_rng_states`; the next draws then repeat exactly.

    Keys that are absent are left alone; ``"cuda"`` is ignored where CUDA is unavailable.

    Args:
        states: as returned by :func:`get_rng_states` (possibly after a ``torch.save`` /
            ``torch.load`` round trip).
    """
    if "python" in states:
        version, internal, gauss_next = states["python"]
        random.setstate((version, tuple(internal), gauss_next))
    if "numpy" in states:
        np_state = states["numpy"]
        key = np.asarray(np_state["key"]).astype(np.uint32)
        np.random.set_state(
            (
                np_state["bit_generator"],
                key,
                np_state["pos"],
                np_state["has_gauss"],
                np_state["gauss"],
            )
        )
    if "torch" in states:
        torch.set_rng_state(states["torch"].cpu())
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
