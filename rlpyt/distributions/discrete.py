"""`DiscreteMixin`: dimension, dtypes and one-hot conversion for distributions over categories."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rlpyt.utils.tensor import from_onehot


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
        self._identities: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}

    @property
    def dim(self) -> int:
        """Number of categories."""
        return self._dim

    def to_onehot(self, indexes: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Integer ``indexes`` of shape ``S`` -> one-hot codes ``[*S, dim]`` (``onehot_dtype``).

        Rows of a cached ``dim x dim`` identity, looked up in one ``embedding`` op: agents
        call this every sampling step, where it is several times cheaper than zeros + scatter.

        Raises:
            IndexError: for indexes outside ``[0, dim)``.
        """
        dtype = dtype or self.onehot_dtype
        key = (dtype, indexes.device)
        identity = self._identities.get(key)
        if identity is None:
            with torch.inference_mode(False):  # a normal tensor even if made while acting
                identity = torch.eye(self._dim, dtype=dtype, device=indexes.device)
            self._identities[key] = identity
        if indexes.dtype not in (torch.long, torch.int):
            indexes = indexes.long()
        return F.embedding(indexes, identity)

    def from_onehot(self, onehot: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """One-hot (or score) codes ``[*S, dim]`` -> indexes ``S`` of the largest entry."""
        return from_onehot(onehot, dtype=dtype or self.dtype)
