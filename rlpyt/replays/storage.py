"""Ring storage of a replay buffer: writing ``[T, B]`` batches at a cursor, plain observations."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.utils.buffer import buffer_from_example

__all__ = ["PlainObservations", "nbytes", "ring_gather", "ring_write"]


def ring_write(dest: Any, t: int, values: Any, offset: int = 0, n: int | None = None) -> None:
    """Write ``values`` (``[n, ...]``, array or namedarraytuple) into ring ``dest`` at rows
    ``t .. t + n - 1`` (mod ``T``), with at most two slice assignments.

    Args:
        dest: ring buffer whose rows ``offset .. offset + T - 1`` hold the ring.
        t: ring row of the first value, ``0 <= t < T``.
        values: the rows to write; ``n <= T``.
        offset: rows of ``dest`` before the ring (frame buffers keep a copy of the ring's end
            there).
        n: the number of rows of ``values``, if known (saves looking it up).
    """
    n = _leading(values) if n is None else n
    T = _leading(dest) - offset
    first = min(n, T - t)
    dest[offset + t : offset + t + first] = values[:first]
    if first < n:
        dest[offset : offset + n - first] = values[first:]


def ring_gather(buf: Any, steps: np.ndarray, B_idxs: np.ndarray) -> Any:
    """``buf[steps, B_idxs]`` for every leaf of a ``[T, B, ...]`` buffer (a copy).

    ``steps`` and ``B_idxs`` broadcast together. Leaves with trailing dims are gathered by
    ``np.take`` on a flat ``[T * B, ...]`` view: about 3x faster than NumPy's two-index
    fancy indexing for small rows.
    """
    if buf is None:
        return None
    if hasattr(buf, "_fields"):
        return type(buf)(*(ring_gather(leaf, steps, B_idxs) for leaf in buf))
    if buf.ndim > 2 and buf.flags.c_contiguous:
        T, B = buf.shape[:2]
        return np.take(buf.reshape(T * B, *buf.shape[2:]), steps * B + B_idxs, axis=0)
    return buf[steps, B_idxs]


def _leading(buf: Any) -> int:
    if hasattr(buf, "_fields"):
        for field in buf:
            if field is not None:
                return _leading(field)
        raise ValueError("buffer has no array leaves")
    return buf.shape[0]


def nbytes(buf: Any) -> int:
    """Total bytes of the arrays of a buffer (a namedarraytuple, array or ``None``)."""
    if buf is None:
        return 0
    if hasattr(buf, "_fields"):
        return sum(nbytes(field) for field in buf)
    return int(buf.nbytes)


class PlainObservations:
    """Observations stored whole, one per step, in a ``[T, B, ...]`` ring.

    The observation store of every buffer that is not a frame buffer. Any observation
    structure works (arrays or namedarraytuples of them).

    Args:
        example: one observation.
        T: ring length.
        B: number of environments.
        share_memory: allocate in shared memory.
    """

    off_forward = 0  # reads no history

    def __init__(self, example: Any, T: int, B: int, share_memory: bool = False) -> None:
        self.T = T
        self.observation = buffer_from_example(example, (T, B), share_memory)

    def write(self, t: int, observation: Any) -> None:
        """Store ``observation`` (``[n, B, ...]``) at ring rows ``t .. t + n - 1``."""
        ring_write(self.observation, t, observation)

    def extract(self, steps: np.ndarray, B_idxs: np.ndarray, done: np.ndarray) -> Any:
        """Observations at ring rows ``steps`` of envs ``B_idxs`` (broadcast together).

        ``done`` is unused (whole observations need no reset handling).
        """
        return ring_gather(self.observation, steps, B_idxs)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return nbytes(self.observation)
