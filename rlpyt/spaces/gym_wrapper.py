"""`GymSpaceWrapper`: Gymnasium spaces as rlpyt spaces, with value conversion both ways."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces as gym_spaces

from rlpyt.spaces.base import Space
from rlpyt.spaces.composite import Composite
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.collections import namedarraytuple

# Names that namedarraytuple reserves for its own methods.
_RESERVED = frozenset({"get", "items"})
_NOT_IDENT_CHAR = re.compile(r"\W", flags=re.ASCII)

_SUPPORTED = "Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple"


def sanitize_field_name(key: Any) -> str:
    """Turn a dict key into a valid namedarraytuple field name.

    Rule: ``str(key)``; every character other than ASCII letters, digits and ``_`` becomes
    ``_``; a name that is empty or starts with a digit or ``_`` gets an ``f`` prefix; Python
    keywords and the reserved names ``get``/``items`` get a ``_`` suffix. Examples:
    ``"episode.r" -> "episode_r"``, ``"TimeLimit.truncated" -> "TimeLimit_truncated"``,
    ``0 -> "f0"``, ``"_x" -> "f_x"``, ``"lambda" -> "lambda_"``.
    """
    name = _NOT_IDENT_CHAR.sub("_", str(key))
    if not name or name[0].isdigit() or name[0] == "_":
        name = "f" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name


def sanitize_field_names(keys: Iterable[Any], taken: Iterable[str] = ()) -> list[str]:
    """Sanitize each key (:func:`sanitize_field_name`) and make the results unique.

    A name that collides with an earlier one or with ``taken`` gets ``_2``, ``_3``, ... appended.
    """
    used = set(taken)
    names = []
    for key in keys:
        base = name = sanitize_field_name(key)
        i = 2
        while name in used:
            name = f"{base}_{i}"
            i += 1
        used.add(name)
        names.append(name)
    return names


class GymSpaceWrapper(Space):
    """An rlpyt space built from a Gymnasium space, converting values between the two.

    ``GymEnvWrapper`` makes one for the observation space and one for the action space: it calls
    :meth:`convert` on every observation the Gymnasium env returns and :meth:`revert` on every
    action the agent sends. Attributes of the rlpyt space (``shape``, ``n``, ``low``, ...) are
    readable directly on the wrapper; ``.space`` is the rlpyt space itself.

    Mapping (Gymnasium -> rlpyt; values convert the same way):

    - ``Box`` with a float dtype -> ``FloatBox`` (float64 cast to float32 if ``force_float32``).
    - ``Box`` with an integer/bool dtype -> ``IntBox(low, high + 1)`` (rlpyt's ``high`` is
      exclusive), same dtype.
    - ``Discrete(n, start=s)`` -> scalar ``IntBox(0, n)``; values are shifted by ``-s`` on
      :meth:`convert` and ``+s`` on :meth:`revert` (which returns a NumPy scalar of the
      Gymnasium space's dtype).
    - ``MultiDiscrete(nvec, start=s)`` -> ``IntBox(0, nvec)``, shifted like ``Discrete``.
    - ``MultiBinary(n)`` -> ``IntBox(0, 2, shape, dtype=int8)``.
    - ``Dict`` -> ``Composite`` whose element class is a namedarraytuple named after ``name``,
      with one field per key (keys sanitized by :func:`sanitize_field_name`, in the Dict's
      order); values convert ``dict -> namedarraytuple`` and revert to ``dict``.
    - ``Tuple`` -> ``Composite`` with fields ``f0, f1, ...``; reverts to ``tuple``.

    Args:
        space: the Gymnasium space.
        null_value: null value of the leaf spaces (a mapping by key is accepted for ``Dict``).
        name: type name of namedarraytuple classes made for ``Dict``/``Tuple`` (nested ones
            are named ``{name}_{field}``).
        force_float32: cast float64 ``Box`` spaces (and their values) to float32.

    Raises:
        TypeError: for any other space type (``Text``, ``Graph``, ``Sequence``, ...).
    """

    def __init__(
        self, space: Any, null_value: Any = 0, name: str = "obs", force_float32: bool = True
    ) -> None:
        self.gym_space = space
        self.name = name
        self.force_float32 = force_float32
        self._children: tuple[GymSpaceWrapper, ...] = ()
        self._keys: tuple[Any, ...] = ()
        self._offset: Any = 0
        self._gym_dtype = getattr(space, "dtype", None)
        if isinstance(space, gym_spaces.Box):
            self._kind = "box"
            self.space = self._from_box(space, null_value)
        elif isinstance(space, gym_spaces.Discrete):
            self._kind = "discrete"
            self._offset = int(space.start)
            self.space = IntBox(0, int(space.n), dtype=space.dtype, null_value=null_value)
        elif isinstance(space, gym_spaces.MultiDiscrete):
            self._kind = "multi_discrete"
            self._offset = np.asarray(space.start, dtype=space.dtype)
            self.space = IntBox(0, space.nvec, space.shape, space.dtype, null_value)
        elif isinstance(space, gym_spaces.MultiBinary):
            self._kind = "multi_binary"
            self.space = IntBox(0, 2, space.shape, space.dtype, null_value)
        elif isinstance(space, (gym_spaces.Dict, gym_spaces.Tuple)):
            self._kind = "dict" if isinstance(space, gym_spaces.Dict) else "tuple"
            self.space = self._from_structure(space, null_value)
        else:
            raise TypeError(
                f"GymSpaceWrapper({name!r}): unsupported space {space!r} of type "
                f"{type(space).__name__}; expected a Gymnasium space of type {_SUPPORTED}"
            )
        self._dtype = getattr(self.space, "dtype", None)  # rlpyt dtype, read on every convert
        super().__init__()

    def _from_box(self, space: gym_spaces.Box, null_value: Any) -> Space:
        dtype = np.dtype(space.dtype)
        if dtype.kind == "f":
            if self.force_float32 and dtype == np.float64:
                dtype = np.dtype(np.float32)
            return FloatBox(space.low, space.high, space.shape, null_value, dtype)
        if dtype.kind in "iub":
            low = np.asarray(space.low).astype(np.int64)
            high = np.asarray(space.high).astype(np.int64) + 1
            return IntBox(low, high, space.shape, dtype, null_value)
        raise TypeError(
            f"GymSpaceWrapper({self.name!r}): Box dtype {dtype} is not supported; expected a "
            f"float, integer or bool dtype"
        )

    def _from_structure(self, space: Any, null_value: Any) -> Composite:
        if isinstance(space, gym_spaces.Dict):
            self._keys = tuple(space.spaces.keys())
            subspaces = tuple(space.spaces.values())
            fields = sanitize_field_names(self._keys)
        else:
            self._keys = tuple(range(len(space.spaces)))
            subspaces = tuple(space.spaces)
            fields = [f"f{i}" for i in self._keys]
        typename = sanitize_field_name(self.name)
        children = []
        for key, field, sub in zip(self._keys, fields, subspaces):
            null = null_value.get(key, 0) if isinstance(null_value, Mapping) else null_value
            children.append(GymSpaceWrapper(sub, null, f"{typename}_{field}", self.force_float32))
        self._children = tuple(children)
        NamedTupleCls = namedarraytuple(typename, fields)
        return Composite([c.space for c in children], NamedTupleCls)

    # --- Space interface, delegated to the rlpyt space -------------------------------------

    def sample(self) -> Any:
        return self.space.sample()

    def null_value(self) -> Any:
        return self.space.null_value()

    def contains(self, x: Any) -> bool:
        return self.space.contains(x)

    def seed(self, seed: int | None = None) -> None:
        self.space.seed(seed)

    @property
    def shape(self) -> Any:
        return self.space.shape

    @property
    def dtype(self) -> Any:
        return self.space.dtype

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not found normally: expose the rlpyt space's (n, low...).
        if name.startswith("_") or name == "space":
            raise AttributeError(name)
        return getattr(self.space, name)

    # --- Value conversion ------------------------------------------------------------------

    def convert(self, value: Any) -> Any:
        """Gymnasium value -> rlpyt value (arrays of this space's dtype; dict -> namedtuple)."""
        kind = self._kind
        if kind in ("box", "multi_binary"):
            dtype = self._dtype
            if type(value) is np.ndarray and value.dtype == dtype:  # no conversion needed
                return value
            return np.asarray(value, dtype=dtype)
        if kind in ("discrete", "multi_discrete"):
            return np.asarray(np.asarray(value) - self._offset, dtype=self.space.dtype)
        if kind == "dict" and isinstance(value, Mapping):
            parts = [value[k] for k in self._keys]
        else:  # a tuple, or a namedtuple already in rlpyt form
            parts = list(value)
        converted = (c.convert(v) for c, v in zip(self._children, parts))
        return self.space.NamedTupleCls(*converted)

    def revert(self, value: Any) -> Any:
        """rlpyt value -> Gymnasium value (e.g. an agent's action before ``env.step``).

        ``Discrete`` values become a NumPy scalar of the Gymnasium dtype, shifted back by
        ``start`` (``Discrete.contains``, which Gymnasium envs call on every step, checks a NumPy
        integer faster than an ``int``); arrays take the Gymnasium space's dtype; namedtuples
        become ``dict`` (``Dict``) or ``tuple`` (``Tuple``).
        """
        kind = self._kind
        if kind == "discrete":
            scalar_type = self._gym_dtype.type
            if type(value) is scalar_type and not self._offset:  # the usual case: as is
                return value
            if not isinstance(value, (int, np.integer)):  # a one-element array or tensor
                value = np.asarray(value).item()
            return scalar_type(value + self._offset)
        if kind == "multi_discrete":
            return np.asarray(np.asarray(value) + self._offset, dtype=self._gym_dtype)
        if kind in ("box", "multi_binary"):
            return np.asarray(value, dtype=self._gym_dtype)
        if isinstance(value, Mapping):
            parts = [value[k] for k in self._keys]
        else:
            parts = list(value)
        reverted = (c.revert(v) for c, v in zip(self._children, parts))
        if kind == "dict":
            return dict(zip(self._keys, reverted))
        return tuple(reverted)

    def __repr__(self) -> str:
        return f"GymSpaceWrapper({self.gym_space!r} -> {self.space!r})"
