"""`Composite`: a namedtuple of spaces, for multi-part observations or actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlpyt.spaces.base import Space


class Composite(Space):
    """A structure of sub-spaces whose elements are instances of ``NamedTupleCls``.

    Used for multi-modal observations (e.g. ``Obs(image, vector)``) and structured actions;
    :class:`~rlpyt.spaces.gym_wrapper.GymSpaceWrapper` builds one for Gymnasium ``Dict`` and
    ``Tuple`` spaces. ``sample()``, ``null_value()``, ``shape`` and ``dtype`` return
    ``NamedTupleCls`` instances holding the sub-spaces' results, so samplers can allocate
    nested ``[T, B]`` buffers from them. Use a ``namedarraytuple`` class so elements index
    like arrays and pickle across processes.

    Args:
        spaces: one space per field of ``NamedTupleCls``, in field order.
        NamedTupleCls: namedtuple (preferably namedarraytuple) class of elements.
    """

    def __init__(self, spaces: Sequence[Space], NamedTupleCls: type) -> None:
        super().__init__()
        fields = getattr(NamedTupleCls, "_fields", None)
        if fields is None:
            raise TypeError(f"Composite needs a namedtuple class, got {NamedTupleCls!r}")
        if len(spaces) != len(fields):
            raise ValueError(
                f"Composite: {len(spaces)} spaces for the {len(fields)} fields {fields} "
                f"of {NamedTupleCls.__name__}"
            )
        self._spaces = tuple(spaces)
        self._NamedTupleCls = NamedTupleCls

    @property
    def spaces(self) -> tuple[Space, ...]:
        """The sub-spaces, in field order."""
        return self._spaces

    @property
    def names(self) -> tuple[str, ...]:
        """The field names of ``NamedTupleCls``."""
        return self._NamedTupleCls._fields

    @property
    def NamedTupleCls(self) -> type:
        """The class of elements."""
        return self._NamedTupleCls

    @property
    def shape(self) -> Any:
        """``NamedTupleCls`` of the sub-spaces' shapes."""
        return self._NamedTupleCls(*(s.shape for s in self._spaces))

    @property
    def dtype(self) -> Any:
        """``NamedTupleCls`` of the sub-spaces' dtypes."""
        return self._NamedTupleCls(*(s.dtype for s in self._spaces))

    def sample(self) -> Any:
        """Return ``NamedTupleCls`` of one sample per sub-space."""
        return self._NamedTupleCls(*(s.sample() for s in self._spaces))

    def null_value(self) -> Any:
        """Return ``NamedTupleCls`` of the sub-spaces' null values."""
        return self._NamedTupleCls(*(s.null_value() for s in self._spaces))

    def contains(self, x: Any) -> bool:
        if not isinstance(x, tuple) or getattr(x, "_fields", None) != self.names:
            return False
        return all(s.contains(v) for s, v in zip(self._spaces, x))

    def seed(self, seed: int | None = None) -> None:
        """Seed every sub-space with an independent stream derived from ``seed``."""
        super().seed(seed)
        children = np.random.SeedSequence(seed).spawn(len(self._spaces))
        for space, child in zip(self._spaces, children):
            space.seed(int(child.generate_state(1)[0]))

    def __getitem__(self, name_or_index: str | int) -> Space:
        """Sub-space by field name or position."""
        if isinstance(name_or_index, str):
            return self._spaces[self.names.index(name_or_index)]
        return self._spaces[name_or_index]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={s!r}" for n, s in zip(self.names, self._spaces))
        return f"Composite[{self._NamedTupleCls.__name__}]({inner})"
