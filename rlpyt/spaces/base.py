"""The `Space` interface: shape, dtype, seeded sampling and a null value."""

from __future__ import annotations

from typing import Any

import numpy as np


class Space:
    """Describes the set of valid observations or actions of an environment.

    Environments expose one space for observations and one for actions
    (``env.spaces -> EnvSpaces(observation, action)``). Samplers call :meth:`null_value` and
    :meth:`sample` to build example steps from which they allocate ``[T, B]`` buffers; agents
    read ``shape`` / ``n`` to size their models and ``null_value()`` for the ``prev_action`` of
    a fresh episode.

    Every space owns a ``np.random.Generator``; :meth:`seed` replaces it so that :meth:`sample`
    becomes reproducible. Spaces pickle (the generator state travels with them).
    """

    def __init__(self) -> None:
        self._rng = np.random.default_rng()

    def sample(self) -> Any:
        """Return a random element of the space, drawn from this space's generator."""
        raise NotImplementedError

    def null_value(self) -> Any:
        """Return the placeholder element (e.g. ``prev_action`` at the start of an episode)."""
        raise NotImplementedError

    def contains(self, x: Any) -> bool:
        """True if ``x`` has this space's shape and lies inside its bounds."""
        raise NotImplementedError

    def seed(self, seed: int | None = None) -> None:
        """Reseed the generator used by :meth:`sample`; ``None`` draws fresh OS entropy."""
        self._rng = np.random.default_rng(seed)

    @property
    def shape(self) -> Any:
        """Shape of one element (a tuple; a namedtuple of shapes for composite spaces)."""
        raise NotImplementedError

    @property
    def dtype(self) -> Any:
        """NumPy dtype of one element (a namedtuple of dtypes for composite spaces)."""
        raise NotImplementedError

    def __contains__(self, x: Any) -> bool:
        return self.contains(x)


def broadcast_bounds(
    low: Any, high: Any, shape: tuple[int, ...] | int | None, bound_dtype: Any
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Broadcast ``low``/``high`` to ``shape`` (inferred from the bounds when ``None``).

    Returns:
        ``(low, high, shape)``; ``low`` and ``high`` are arrays of ``bound_dtype`` with the
        final shape (0-d for scalar spaces).
    """
    low = np.asarray(low, dtype=bound_dtype)
    high = np.asarray(high, dtype=bound_dtype)
    if shape is None:
        shape = np.broadcast_shapes(low.shape, high.shape)
    elif isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    try:
        low = np.broadcast_to(low, shape).copy()
        high = np.broadcast_to(high, shape).copy()
    except ValueError:
        raise ValueError(
            f"bounds of shapes {low.shape} and {high.shape} do not broadcast to shape {shape}"
        ) from None
    return low, high, shape
