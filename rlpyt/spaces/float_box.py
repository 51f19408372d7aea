"""`FloatBox`: real-valued arrays with (possibly infinite) elementwise bounds."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.spaces.base import Space, broadcast_bounds


class FloatBox(Space):
    """A box of floats ``low <= x <= high``; continuous actions and vector observations.

    Gaussian agents read ``shape`` (action dimension) and the bounds; models read the
    observation ``shape``. Bounds may be scalars or arrays broadcastable to ``shape`` and may be
    infinite.

    :meth:`sample` draws uniformly inside finite bounds, from a standard normal on dimensions
    unbounded on both sides, and from ``low + Exp(1)`` / ``high - Exp(1)`` on half-bounded ones.

    Args:
        low: lower bound(s).
        high: upper bound(s).
        shape: element shape; inferred from the bounds when ``None``.
        null_value: value of :meth:`null_value` (broadcast to ``shape``).
        dtype: NumPy floating dtype of elements.
    """

    def __init__(
        self,
        low: Any,
        high: Any,
        shape: tuple[int, ...] | int | None = None,
        null_value: Any = 0.0,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        self._dtype = np.dtype(dtype)
        if self._dtype.kind != "f":
            raise TypeError(f"FloatBox dtype must be a floating dtype, got {self._dtype}")
        self.low, self.high, self._shape = broadcast_bounds(low, high, shape, self._dtype)
        if np.any(self.high < self.low):
            raise ValueError(f"FloatBox needs low <= high everywhere, got low={low}, high={high}")
        self._null_value = null_value
        lo_fin, hi_fin = np.isfinite(self.low), np.isfinite(self.high)
        self._bounded = lo_fin & hi_fin
        self._lower_only = lo_fin & ~hi_fin
        self._upper_only = ~lo_fin & hi_fin

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def sample(self) -> np.ndarray:
        """Return a random element: array of shape ``shape`` and dtype ``dtype``."""
        if self._bounded.all():
            x = self._rng.uniform(self.low, self.high, size=self._shape)
        else:
            x = self._rng.standard_normal(size=self._shape)
            b = self._bounded
            x[b] = self._rng.uniform(self.low[b], self.high[b])
            lo = self._lower_only
            x[lo] = self.low[lo] + self._rng.exponential(size=int(lo.sum()))
            hi = self._upper_only
            x[hi] = self.high[hi] - self._rng.exponential(size=int(hi.sum()))
        return np.asarray(x, dtype=self._dtype)

    def null_value(self) -> np.ndarray:
        """Return an array of shape ``shape`` filled with the null value."""
        null = np.empty(self._shape, dtype=self._dtype)
        null[...] = self._null_value
        return null

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        if x.shape != self._shape or x.dtype.kind not in "iuf":
            return False
        return bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self) -> str:
        return f"FloatBox(shape={self._shape}, dtype={self._dtype})"
