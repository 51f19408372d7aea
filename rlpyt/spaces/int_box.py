"""`IntBox`: integer arrays in ``[low, high)``, e.g. discrete actions or uint8 images."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.spaces.base import Space, broadcast_bounds


class IntBox(Space):
    """A box of integers ``low <= x < high`` (``high`` exclusive, as in rlpyt).

    A scalar ``IntBox(0, n)`` is a discrete action space with ``n`` choices (categorical agents
    read ``space.n``); ``IntBox(0, 256, shape=(4, 84, 84), dtype="uint8")`` describes stacked
    Atari frames. Bounds may be scalars or arrays broadcastable to ``shape``.

    Args:
        low: inclusive lower bound(s).
        high: exclusive upper bound(s).
        shape: element shape; inferred from the bounds when ``None`` (``()`` for scalars).
        dtype: NumPy integer (or bool) dtype of elements.
        null_value: value of :meth:`null_value`; ``None`` means 0 clipped into ``[low, high)``.
    """

    def __init__(
        self,
        low: Any,
        high: Any,
        shape: tuple[int, ...] | int | None = None,
        dtype: Any = "int64",
        null_value: Any = None,
    ) -> None:
        super().__init__()
        self._dtype = np.dtype(dtype)
        if self._dtype.kind not in "iub":
            raise TypeError(f"IntBox dtype must be an integer or bool dtype, got {self._dtype}")
        self.low, self.high, self._shape = broadcast_bounds(low, high, shape, np.int64)
        if np.any(self.high <= self.low):
            raise ValueError(f"IntBox needs low < high everywhere, got low={low}, high={high}")
        if null_value is None:
            null_value = np.clip(0, self.low, self.high - 1)
        self._null_value = null_value

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def n(self) -> int | np.ndarray:
        """Number of values per dimension, ``high - low``.

        An int when every dimension has the same range (always true for scalar boxes),
        otherwise an int64 array of shape ``shape``.
        """
        n = self.high - self.low
        return int(n.flat[0]) if n.size and np.all(n == n.flat[0]) else n

    def sample(self) -> np.ndarray:
        """Return a uniformly random element: array of shape ``shape`` and dtype ``dtype``."""
        return self._rng.integers(self.low, self.high, size=self._shape, dtype=self._dtype)

    def null_value(self) -> np.ndarray:
        """Return an array of shape ``shape`` filled with the null value."""
        null = np.empty(self._shape, dtype=self._dtype)
        null[...] = self._null_value
        return null

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        if x.shape != self._shape or x.dtype.kind not in "iub":
            return False
        return bool(np.all(x >= self.low) and np.all(x < self.high))

    def __repr__(self) -> str:
        lo, hi = self.low, self.high
        if lo.size and np.all(lo == lo.flat[0]) and np.all(hi == hi.flat[0]):
            lo, hi = lo.flat[0], hi.flat[0]
        return f"IntBox(low={lo}, high={hi}, shape={self._shape}, dtype={self._dtype})"
