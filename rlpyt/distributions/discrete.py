"""`DiscreteMixin`: dimension, dtypes and one-hot conversion for distributions over categories."""

from __future__ import annotations

import torch

from rlpyt.utils.tensor import from_onehot, to_onehot


class DiscreteMixin:
    """Settings and one-hot helpers shared by distributions over ``dim`` categories.

    Categorical agents call :meth:`to_onehot` on ``prev_action`` before feeding it to recurrent
    models; DQN-style agents use :meth:`from_onehot`.

    Args:
        dim: number of categories.
        dtype: dtype of sampled indexes.
        onehot_dtype: dtype of one-hot codes made by :meth:`to_onehot`.
    """

    def __init__(
        self,
        dim: int,
        dtype: torch.dtype = torch.long,
        onehot_dtype: torch.dtype = torch.float,
    ) -> None:
        self._dim = int(dim)
        self.dtype = dtype
        self.onehot_dtype = onehot_dtype

    @property
    def dim(self) -> int:
        """Number of categories."""
        return self._dim

    def to_onehot(self, indexes: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Integer ``indexes`` of shape ``S`` -> one-hot codes ``[*S, dim]`` (``onehot_dtype``)."""
        return to_onehot(indexes, self._dim, dtype=dtype or self.onehot_dtype)

    def from_onehot(self, onehot: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """One-hot (or score) codes ``[*S, dim]`` -> indexes ``S`` of the largest entry."""
        return from_onehot(onehot, dtype=dtype or self.dtype)
