"""Torch helpers: leading dims ``[T, B]``, index selection, one-hot codes, masked means."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = [
    "infer_leading_dims",
    "restore_leading_dims",
    "select_at_indexes",
    "to_onehot",
    "from_onehot",
    "valid_mean",
]


def infer_leading_dims(tensor: torch.Tensor, dim: int) -> tuple[int, int, int, torch.Size]:
    """Work out how many leading dims ``tensor`` has in front of its ``dim`` data dims.

    Models call this on their input so that one model accepts ``[...]`` (a single step),
    ``[B, ...]`` (a batch of environments, as in sampling) and ``[T, B, ...]`` (a batch of
    trajectories, as in training); they then flatten to ``[T * B, ...]``.

    Args:
        tensor: input with shape ``[...]``, ``[B, ...]`` or ``[T, B, ...]`` where ``...`` has
            ``dim`` entries.
        dim: the number of data (non-leading) dims, e.g. 3 for an image ``[C, H, W]``.

    Returns:
        ``(lead_dim, T, B, shape)``: ``lead_dim`` in ``{0, 1, 2}``; ``T`` and ``B`` are 1 where
        the dim is absent; ``shape`` is the ``torch.Size`` of the data dims.

    Raises:
        ValueError: if ``tensor`` has fewer than ``dim`` or more than ``dim + 2`` dims.

    Examples:
        >>> infer_leading_dims(torch.zeros(5, 4, 3), dim=1)
        (2, 5, 4, torch.Size([3]))
        >>> infer_leading_dims(torch.zeros(3), dim=1)
        (0, 1, 1, torch.Size([3]))
    """
    lead_dim = tensor.dim() - dim
    if lead_dim not in (0, 1, 2):
        raise ValueError(
            f"Expected a tensor with {dim} data dims and 0, 1 or 2 leading dims "
            f"(so {dim} to {dim + 2} dims in all); got shape {tuple(tensor.shape)}."
        )
    T = tensor.shape[0] if lead_dim == 2 else 1
    B = 1 if lead_dim == 0 else tensor.shape[lead_dim - 1]
    return lead_dim, T, B, tensor.shape[lead_dim:]


def _restore_one(tensor: torch.Tensor | None, lead_dim: int, T: int, B: int):
    if tensor is None:
        return None
    if lead_dim == 2:
        return tensor.reshape((T, B) + tuple(tensor.shape[1:]))
    if lead_dim == 1:
        return tensor
    if lead_dim == 0:
        if tensor.shape[0] != 1:
            raise ValueError(
                f"lead_dim=0 needs a leading dim of size 1 to remove; got shape "
                f"{tuple(tensor.shape)}."
            )
        return tensor.reshape(tuple(tensor.shape[1:]))
    raise ValueError(f"lead_dim must be 0, 1 or 2; got {lead_dim}.")


def restore_leading_dims(
    tensors: torch.Tensor | Sequence[torch.Tensor | None] | None,
    lead_dim: int,
    T: int = 1,
    B: int = 1,
):
    """Undo the flattening of leading dims: ``[T * B, ...]`` back to ``[]``, ``[B]`` or ``[T, B]``.

    The inverse of flattening after :func:`infer_leading_dims`, applied to a model's outputs.

    Args:
        tensors: one tensor or a tuple/list of tensors, each ``[T * B, ...]``; ``None`` entries
            are passed through.
        lead_dim: as returned by :func:`infer_leading_dims`.
        T: time dim (used when ``lead_dim == 2``).
        B: batch dim (used when ``lead_dim == 2``).

    Returns:
        The same kind as ``tensors`` (tensor, tuple or list), each entry ``[...]`` (lead_dim 0,
        its size-1 leading dim removed), ``[B, ...]`` (lead_dim 1, unchanged) or
        ``[T, B, ...]`` (lead_dim 2).

    Raises:
        ValueError: for ``lead_dim`` not in ``{0, 1, 2}``, or a leading dim other than 1 with
            ``lead_dim == 0``.
    """
    if isinstance(tensors, (tuple, list)):
        restored = [_restore_one(t, lead_dim, T, B) for t in tensors]
        return restored if isinstance(tensors, list) else tuple(restored)
    return _restore_one(tensors, lead_dim, T, B)


def select_at_indexes(indexes: torch.Tensor, tensor: torch.Tensor) -> torch.Tensor:
    """Pick one entry per index along the first dim after the index dims.

    For ``indexes`` with shape ``I`` and ``tensor`` with shape ``I + [N, ...]``, returns ``out``
    with ``out[i] = tensor[i][indexes[i]]`` for every multi-index ``i``, e.g. the Q-value of the
    taken action: ``select_at_indexes(action [T, B], q [T, B, A]) -> [T, B]``. Differentiable
    with respect to ``tensor``.

    Args:
        indexes: integer tensor, shape ``I``; values in ``[0, N)``.
        tensor: shape ``I + [N, ...]``.

    Returns:
        Tensor of shape ``I + [...]``.

    Raises:
        ValueError: if the leading dims of ``tensor`` do not equal ``indexes.shape``.
    """
    dim = indexes.dim()
    if tensor.dim() <= dim or tuple(tensor.shape[:dim]) != tuple(indexes.shape):
        raise ValueError(
            f"tensor shape {tuple(tensor.shape)} must start with the index shape "
            f"{tuple(indexes.shape)} and have one more dim to select along."
        )
    idx = indexes
    if idx.dtype != torch.long or idx.device != tensor.device:
        idx = idx.to(device=tensor.device, dtype=torch.long)
    if tensor.dim() == dim + 1:  # e.g. probabilities [T, B, A]: no trailing dims to expand over
        return tensor.gather(dim, idx.unsqueeze(dim)).squeeze(dim)
    rest = tuple(tensor.shape[dim + 1 :])
    idx = idx.reshape(tuple(indexes.shape) + (1,) * (1 + len(rest)))
    idx = idx.expand(tuple(indexes.shape) + (1,) + rest)
    return tensor.gather(dim, idx).squeeze(dim)


def to_onehot(indexes: torch.Tensor, num: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """One-hot encode integer ``indexes`` into a new trailing dim of size ``num``.

    Args:
        indexes: integer tensor, any shape ``S``; values in ``[0, num)``.
        num: the number of classes.
        dtype: output dtype; defaults to ``indexes.dtype``.

    Returns:
        Tensor ``[*S, num]`` with a 1 at each index and 0 elsewhere, on ``indexes.device``.
    """
    dtype = indexes.dtype if dtype is None else dtype
    onehot = torch.zeros(tuple(indexes.shape) + (num,), dtype=dtype, device=indexes.device)
    onehot.scatter_(-1, indexes.unsqueeze(-1).to(torch.long), 1)
    return onehot


def from_onehot(
    onehot: torch.Tensor, dim: int = -1, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """Decode one-hot (or score) vectors along ``dim`` to the index of the largest entry.

    Args:
        onehot: tensor whose dim ``dim`` holds the codes.
        dim: the code dim.
        dtype: output dtype; defaults to ``torch.long`` (argmax's).

    Returns:
        Integer tensor with ``dim`` removed.
    """
    indexes = torch.argmax(onehot, dim=dim)
    if dtype is not None:
        indexes = indexes.to(dtype)
    return indexes


def valid_mean(
    tensor: torch.Tensor,
    valid: torch.Tensor | None = None,
    dim: int | tuple[int, ...] | None = None,
) -> torch.Tensor:
    """Mean of ``tensor`` over its valid entries (e.g. steps before an episode ended).

    With a bool ``valid`` the invalid entries are excluded with ``torch.where`` (so a NaN or inf
    there does not leak into the result); a float ``valid`` acts as weights,
    ``sum(tensor * valid) / sum(valid)``. Where no entry is valid (the count is 0) the result is
    0 rather than NaN: the count is replaced by 1 there, and the masked sum is 0.

    Args:
        tensor: values, e.g. ``[T, B]`` per-step losses.
        valid: bool or float mask of ``tensor``'s shape (or broadcastable to it; the count is
            taken after broadcasting); ``None`` means all valid.
        dim: dim(s) to reduce; ``None`` reduces all dims to a scalar.

    Returns:
        Tensor with the ``dim`` dims reduced.
    """
    if valid is None:  # the common case: one op, without building a dims tuple
        return tensor.mean() if dim is None else tensor.mean(dim=dim)
    if dim is None:
        dim = tuple(range(tensor.dim()))
    valid = torch.broadcast_to(valid, tensor.shape)
    if valid.dtype == torch.bool:
        total = torch.where(valid, tensor, 0).sum(dim=dim)
    else:
        total = (tensor * valid).sum(dim=dim)
    count = valid.to(total.dtype).sum(dim=dim)
    return total / torch.where(count == 0, torch.ones_like(count), count)
