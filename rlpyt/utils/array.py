"""NumPy twins of the torch helpers in :mod:`rlpyt.utils.tensor` (same semantics)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "infer_leading_dims",
    "select_at_indexes",
    "to_onehot",
    "from_onehot",
    "valid_mean",
]


def infer_leading_dims(array: np.ndarray, dim: int) -> tuple[int, int, int, tuple[int, ...]]:
    """Work out how many leading dims (``[]``, ``[B]`` or ``[T, B]``) precede ``dim`` data dims.

    Args:
        array: shape ``[...]``, ``[B, ...]`` or ``[T, B, ...]`` where ``...`` has ``dim`` entries.
        dim: the number of data (non-leading) dims.

    Returns:
        ``(lead_dim, T, B, shape)`` with ``T``/``B`` equal to 1 where absent and ``shape`` the
        tuple of data dims.

    Raises:
        ValueError: if ``array`` has fewer than ``dim`` or more than ``dim + 2`` dims.
    """
    lead_dim = np.ndim(array) - dim
    shape = np.shape(array)
    if lead_dim not in (0, 1, 2):
        raise ValueError(
            f"Expected an array with {dim} data dims and 0, 1 or 2 leading dims "
            f"(so {dim} to {dim + 2} dims in all); got shape {shape}."
        )
    T = shape[0] if lead_dim == 2 else 1
    B = 1 if lead_dim == 0 else shape[lead_dim - 1]
    return lead_dim, T, B, tuple(shape[lead_dim:])


def select_at_indexes(indexes: np.ndarray, array: np.ndarray) -> np.ndarray:
    """Pick ``array[i][indexes[i]]`` for every multi-index ``i`` of ``indexes``.

    Args:
        indexes: integer array, shape ``I``; values in ``[0, N)``.
        array: shape ``I + [N, ...]``.

    Returns:
        Array of shape ``I + [...]``.

    Raises:
        ValueError: if the leading dims of ``array`` do not equal ``indexes.shape``.
    """
    indexes = np.asarray(indexes)
    array = np.asarray(array)
    dim = indexes.ndim
    if array.ndim <= dim or array.shape[:dim] != indexes.shape:
        raise ValueError(
            f"array shape {array.shape} must start with the index shape {indexes.shape} "
            "and have one more dim to select along."
        )
    idx = indexes.astype(np.intp, copy=False).reshape(indexes.shape + (1,) * (array.ndim - dim))
    return np.take_along_axis(array, idx, axis=dim).squeeze(axis=dim)


def to_onehot(indexes: np.ndarray, num: int, dtype: Any = None) -> np.ndarray:
    """One-hot encode integer ``indexes`` into a new trailing dim of size ``num``.

    Args:
        indexes: integer array, any shape ``S``; values in ``[0, num)``.
        num: the number of classes.
        dtype: output dtype; defaults to ``indexes.dtype``.

    Returns:
        Array ``[*S, num]`` with a 1 at each index and 0 elsewhere.
    """
    indexes = np.asarray(indexes)
    dtype = indexes.dtype if dtype is None else dtype
    onehot = np.zeros(indexes.shape + (num,), dtype=dtype)
    np.put_along_axis(onehot, indexes[..., None].astype(np.intp, copy=False), 1, axis=-1)
    return onehot


def from_onehot(onehot: np.ndarray, dim: int = -1, dtype: Any = None) -> np.ndarray:
    """Decode one-hot (or score) vectors along ``dim`` to the index of the largest entry.

    Args:
        onehot: array whose dim ``dim`` holds the codes.
        dim: the code dim.
        dtype: output dtype; defaults to argmax's (``np.intp``).

    Returns:
        Integer array with ``dim`` removed.
    """
    indexes = np.argmax(onehot, axis=dim)
    if dtype is not None:
        indexes = indexes.astype(dtype)
    return indexes


def valid_mean(
    array: np.ndarray,
    valid: np.ndarray | None = None,
    dim: int | tuple[int, ...] | None = None,
) -> np.ndarray:
    """Mean of ``array`` over its valid entries; 0 where nothing is valid.

    A bool ``valid`` excludes entries (NaN or inf there does not leak into the result); a float
    ``valid`` acts as weights, ``sum(array * valid) / sum(valid)``. Where the count is 0 the
    count is replaced by 1, so the result is 0 rather than NaN.

    Args:
        array: values, e.g. ``[T, B]``.
        valid: bool or float mask of ``array``'s shape (or broadcastable to it); ``None``
            means all valid.
        dim: axis or axes to reduce; ``None`` reduces everything.

    Returns:
        Array (or NumPy scalar) with the ``dim`` axes reduced.
    """
    array = np.asarray(array)
    if valid is None:
        return array.mean(axis=dim)
    valid = np.broadcast_to(valid, array.shape)
    if valid.dtype == np.bool_:
        total = np.where(valid, array, 0).sum(axis=dim)
    else:
        total = (array * valid).sum(axis=dim)
    count = valid.astype(np.result_type(total), copy=False).sum(axis=dim)
    return total / np.where(count == 0, 1, count)
