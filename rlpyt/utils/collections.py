"""Structures of arrays: `namedarraytuple` and friends, the data kernel every component trades.

A namedarraytuple is a namedtuple whose fields are arrays (NumPy or torch) or nested
namedarraytuples, and which indexes like one array: ``samples[t]`` applies ``[t]`` to every
field, ``samples[t] = step`` writes field by field. This lets samplers, replay buffers and
algorithms move whole structures of data around without loops over field names.

Classes made by :func:`namedarraytuple` pickle by reference under every multiprocessing start
method, even when they were created at run time (e.g. an ``env_info`` type discovered from an
info dict inside a worker): each class is registered in this module under a name that encodes
where it was made, its type name and its fields, and the module rebuilds it on demand in a fresh
process. Two classes with the same type name but different fields or different defining
modules are different classes and never clash.

torch's pytree utilities (``torch.utils._pytree``, ``torch.compile``) treat every namedtuple
subclass as a pytree node, so namedarraytuples flatten to their fields and rebuild as the same
class. Note that torch counts a ``None`` field as a leaf.
"""

from __future__ import annotations

import sys
from collections import namedtuple
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "AttrDict",
    "NamedArrayTupleMixin",
    "is_namedarraytuple",
    "is_namedarraytuple_class",
    "is_namedtuple",
    "is_namedtuple_class",
    "namedarraytuple",
    "namedarraytuple_like",
]

# Registry of every namedarraytuple class made in this process, by its encoded qualified name.
# Pickle finds classes through `getattr(module, qualname)`; the module-level `__getattr__` below
# rebuilds a class from its encoded name when a fresh (spawned) process first meets it.
_CLASSES: dict[str, type] = {}
_KEY_PREFIX = "_NAT_"


class NamedArrayTupleMixin:
    """Array-like indexing for namedtuple classes; the behaviour behind every namedarraytuple.

    Not used directly: :func:`namedarraytuple` puts it in front of a namedtuple base.
    """

    __slots__ = ()
    _fields: tuple[str, ...]

    def __getitem__(self, loc: Any) -> Any:
        """Apply ``loc`` to every field (recursively); ``None`` fields stay ``None``."""
        try:
            return tuple.__new__(type(self), [None if s is None else s[loc] for s in self])
        except (IndexError, TypeError, KeyError) as e:
            for name, s in zip(self._fields, self):
                try:
                    if s is not None:
                        s[loc]
                except (IndexError, TypeError, KeyError):
                    raise _field_error(e, self, name, s, loc, "reading") from e
            raise

    def __setitem__(self, loc: Any, value: Any) -> None:
        """Write ``value`` at ``loc`` in every field.

        ``value`` is either a tuple with the same fields (written field by field; ``None``
        entries on either side are skipped) or anything else, which is broadcast to every
        non-``None`` field (e.g. a scalar ``0``).
        """
        if type(value) is not type(self) and not (
            isinstance(value, tuple) and getattr(value, "_fields", None) == self._fields
        ):
            value = (value,) * len(self)
        try:  # one try around the loop: cheaper than one per field on this hot path
            for s, v in zip(self, value):
                if s is not None and v is not None:
                    s[loc] = v
        except (IndexError, TypeError, ValueError, RuntimeError) as e:
            for name, s, v in zip(self._fields, self, value):
                try:
                    if s is not None and v is not None:
                        s[loc] = v
                except (IndexError, TypeError, ValueError, RuntimeError):
                    raise _field_error(e, self, name, s, loc, "writing") from e
            raise

    def __contains__(self, key: object) -> bool:
        """True if ``key`` is a field name (not a value search, unlike plain tuples)."""
        return key in self._fields

    def get(self, index: int) -> Any:
        """Return field number ``index``, as plain tuple indexing would."""
        return tuple.__getitem__(self, index)

    def items(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(field_name, value)`` pairs, like ``dict.items``."""
        return zip(self._fields, self)


def _field_error(e: Exception, nat: Any, name: str, field: Any, loc: Any, what: str):
    shape = getattr(field, "shape", None)
    shape = tuple(shape) if shape is not None else type(field).__name__
    return type(e)(
        f"{type(nat).__name__}: {what} field '{name}' (shape {shape}) at index {loc!r} failed: {e}"
    )


def _caller_module(depth: int = 2) -> str:
    try:
        return sys._getframe(depth).f_globals.get("__name__", "__main__")
    except (AttributeError, ValueError):
        return "__main__"


def _encode_key(module: str, typename: str, fields: tuple[str, ...]) -> str:
    # Pickle resolves qualnames by splitting on '.', so dots in module names are swapped for
    # '/'. Field names and type names are identifiers and need no escaping.
    return f"{_KEY_PREFIX}{typename}:{module.replace('.', '/')}:{','.join(fields)}"


def _decode_key(key: str) -> tuple[str, str, tuple[str, ...]]:
    typename, module, fields = key[len(_KEY_PREFIX) :].split(":")
    return module.replace("/", "."), typename, tuple(fields.split(",")) if fields else ()


def _make_class(module: str, typename: str, fields: tuple[str, ...]) -> type:
    key = _encode_key(module, typename, fields)
    cls = _CLASSES.get(key)
    if cls is not None:
        return cls
    base = namedtuple(typename, fields)
    namespace = {
        "__slots__": (),
        "__doc__": f"{typename}({', '.join(fields)}): a namedarraytuple made in {module}.",
        "__module__": __name__,
        "__qualname__": key,
        "_rlpyt_origin": module,
    }
    cls = type(typename, (NamedArrayTupleMixin, base), namespace)
    _CLASSES[key] = cls
    return cls


def __getattr__(name: str) -> type:
    # PEP 562 hook: pickle looks classes up as attributes of this module; rebuild unknown ones.
    if name.startswith(_KEY_PREFIX):
        return _make_class(*_decode_key(name))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def namedarraytuple(
    typename: str,
    field_names: str | Iterable[str],
    return_namedtuple_cls: bool = False,
    classname_suffix: bool = False,
) -> type | tuple[type, type]:
    """Make a namedtuple class whose instances index and assign like one array.

    Indexing (int, slice, fancy index, boolean mask, tuple of these) applies to every field,
    recursively through nested namedarraytuples; ``None`` fields stay ``None``. Assigning a
    tuple with the same fields writes field by field; assigning anything else broadcasts it.

    Calling twice with the same type name and fields from the same module returns the same
    class. Classes pickle by reference under ``fork``, ``forkserver`` and ``spawn``, also when
    made dynamically, and are torch pytree nodes (as every namedtuple is).

    Args:
        typename: class name.
        field_names: a sequence of identifiers, or one string separated by spaces or commas.
        return_namedtuple_cls: also return a plain namedtuple class with the same fields.
        classname_suffix: append ``"_nat"`` to the class name (and ``"_nt"`` to the plain one).

    Returns:
        The namedarraytuple class, or ``(namedtuple_cls, namedarraytuple_cls)`` when
        ``return_namedtuple_cls`` is true (rlpyt's order).

    Examples:
        >>> import numpy as np
        >>> Point = namedarraytuple("Point", ["x", "y"])
        >>> p = Point(x=np.zeros((3, 2)), y=np.arange(3))
        >>> p[1:].y
        array([1, 2])
        >>> p[0] = Point(x=1.0, y=7)
        >>> p.x[0], p.y[0]
        (array([1., 1.]), np.int64(7))
    """
    if isinstance(field_names, str):
        field_names = field_names.replace(",", " ").split()
    fields = tuple(field_names)
    for f in fields:
        if not isinstance(f, str) or not f.isidentifier() or f.startswith("_"):
            raise ValueError(
                f"namedarraytuple {typename!r}: field name {f!r} must be an identifier not "
                f"starting with '_'"
            )
    for reserved in ("get", "items"):
        if reserved in fields:
            raise ValueError(
                f"namedarraytuple {typename!r}: field name {reserved!r} is reserved (it is a "
                f"method of every namedarraytuple)"
            )
    nat_name = typename + "_nat" if classname_suffix else typename
    module = _caller_module()
    cls = _make_class(module, nat_name, fields)
    if return_namedtuple_cls:
        nt_name = typename + "_nt" if classname_suffix else typename
        nt_cls = namedtuple(nt_name, fields, module=module)
        return nt_cls, cls
    return cls


def namedarraytuple_like(namedtuple_or_class: Any, classname_suffix: bool = False) -> type:
    """Return a namedarraytuple class with the name and fields of a namedtuple (instance or class).

    A namedarraytuple (instance or class) is returned as its own class.
    """
    cls = (
        namedtuple_or_class if isinstance(namedtuple_or_class, type) else type(namedtuple_or_class)
    )
    if issubclass(cls, NamedArrayTupleMixin):
        return cls
    if not is_namedtuple_class(cls):
        raise TypeError(f"namedarraytuple_like expects a namedtuple instance or class, got {cls!r}")
    name = cls.__name__ + "_nat" if classname_suffix else cls.__name__
    return _make_class(getattr(cls, "__module__", "__main__") or "__main__", name, cls._fields)


def is_namedtuple_class(obj: Any) -> bool:
    """True for namedtuple classes (including namedarraytuple classes)."""
    return isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields")


def is_namedarraytuple_class(obj: Any) -> bool:
    """True for classes made by :func:`namedarraytuple`."""
    return isinstance(obj, type) and issubclass(obj, NamedArrayTupleMixin)


def is_namedtuple(obj: Any) -> bool:
    """True for namedtuple instances (including namedarraytuples)."""
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def is_namedarraytuple(obj: Any) -> bool:
    """True for instances of classes made by :func:`namedarraytuple`."""
    return isinstance(obj, NamedArrayTupleMixin)


class AttrDict(dict):
    """A dict whose keys are also attributes: ``d.lr`` is ``d["lr"]``.

    Used for configs and trajectory statistics. Copies keep the type.

    Examples:
        >>> d = AttrDict(lr=1e-3)
        >>> d.batch = 32
        >>> d["batch"], d.lr
        (32, 0.001)
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no key {name!r}") from None

    def copy(self) -> AttrDict:
        """Shallow copy of the same type."""
        return type(self)(self)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)
