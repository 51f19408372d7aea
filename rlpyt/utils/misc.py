"""Minibatch index iteration, NumPy-or-torch allocation, ring-buffer sequence gathering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from rlpyt.utils.collections import is_namedtuple

__all__ = ["iterate_mb_idxs", "zeros", "empty", "extract_sequences"]


def iterate_mb_idxs(
    data_length: int, minibatch_size: int, shuffle: bool = False
) -> Iterator[slice | np.ndarray]:
    """Yield the indexes of successive minibatches over ``range(data_length)``.

    Only full minibatches are yielded: the last ``data_length % minibatch_size`` items are left
    out (with ``shuffle=True`` a different random subset is left out each pass), so every
    minibatch has the same size. Shuffling uses NumPy's global RNG (seeded by ``set_seed``).

    Args:
        data_length: number of items, e.g. ``T * B`` samples.
        minibatch_size: items per minibatch.
        shuffle: draw a random permutation once and cut it into minibatches.

    Returns:
        An iterator of ``slice`` objects (``shuffle=False``) or ``[minibatch_size]`` int arrays
        (``shuffle=True``); ``data_length // minibatch_size`` of them.
    """
    if minibatch_size <= 0:
        raise ValueError(f"minibatch_size must be positive; got {minibatch_size}.")
    order = np.random.permutation(data_length) if shuffle else None
    for start in range(0, data_length - minibatch_size + 1, minibatch_size):
        batch = slice(start, start + minibatch_size)
        yield batch if order is None else order[batch]


def zeros(shape: Any, dtype: Any) -> np.ndarray | torch.Tensor:
    """Zero-filled ``torch.Tensor`` if ``dtype`` is a ``torch.dtype``, else a NumPy array.

    Args:
        shape: int or tuple of ints.
        dtype: a ``torch.dtype`` (gives a CPU tensor) or anything ``np.dtype`` accepts
            (``np.float32``, ``"int64"``, ``bool``).

    Returns:
        Array or tensor of ``shape``.
    """
    if isinstance(dtype, torch.dtype):
        return torch.zeros(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


def empty(shape: Any, dtype: Any) -> np.ndarray | torch.Tensor:
    """Uninitialised ``torch.Tensor`` if ``dtype`` is a ``torch.dtype``, else a NumPy array.

    Args:
        shape: int or tuple of ints.
        dtype: a ``torch.dtype`` or anything ``np.dtype`` accepts.

    Returns:
        Array or tensor of ``shape`` (contents arbitrary).
    """
    if isinstance(dtype, torch.dtype):
        return torch.empty(shape, dtype=dtype)
    return np.empty(shape, dtype=dtype)


def _extract_leaf(leaf: Any, T_idxs: Any, B_idxs: Any, T: int) -> Any:
    if leaf is None:
        return None
    if isinstance(leaf, torch.Tensor):
        t0 = torch.as_tensor(T_idxs, dtype=torch.long, device=leaf.device).reshape(-1)
        b = torch.as_tensor(B_idxs, dtype=torch.long, device=leaf.device).reshape(1, -1)
        t = (t0.unsqueeze(0) + torch.arange(T, device=leaf.device).unsqueeze(1)) % leaf.shape[0]
        return leaf[t, b]
    leaf = np.asarray(leaf)
    t0 = np.asarray(T_idxs, dtype=np.intp).reshape(-1)
    b = np.asarray(B_idxs, dtype=np.intp).reshape(1, -1)
    t = (t0[None, :] + np.arange(T)[:, None]) % leaf.shape[0]
    return leaf[t, b]


def extract_sequences(array_or_tensor: Any, T_idxs: Any, B_idxs: Any, T: int) -> Any:
    """Gather ``T``-step sequences from a time-major ``[T_buf, B_buf, ...]`` ring buffer.

    Sequence ``j`` holds ``source[(T_idxs[j] + t) % T_buf, B_idxs[j]]`` for ``t`` in
    ``range(T)``: time indexes wrap around the leading dim, as in a replay ring buffer. One
    advanced-indexing gather per leaf (no Python loop over sequences); the result is a copy.

    Args:
        array_or_tensor: NumPy array, torch tensor, or (nested) namedtuple/namedarraytuple of
            them with ``None`` leaves passed through; each leaf ``[T_buf, B_buf, ...]``.
        T_idxs: start time of each sequence, ``[N]`` ints (array, tensor or list).
        B_idxs: environment index of each sequence, ``[N]`` ints.
        T: sequence length.

    Returns:
        The same structure with each leaf ``[T, N, ...]`` (tensors stay on their device).
    """
    if is_namedtuple(array_or_tensor):
        return type(array_or_tensor)._make(
            extract_sequences(field, T_idxs, B_idxs, T) for field in array_or_tensor
        )
    return _extract_leaf(array_or_tensor, T_idxs, B_idxs, T)
