"""``save__init__args``: store a constructor's arguments as attributes (kept for users' code)."""

from __future__ import annotations

import inspect
import sys
from types import CodeType
from typing import Any

__all__ = ["save__init__args"]


def _arg_names(code: CodeType) -> list[str]:
    """Named parameters (positional and keyword-only, not ``*args``/``**kwargs``) of ``code``."""
    return list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])


def save__init__args(
    values: dict[str, Any],
    underscore: bool = False,
    overwrite: bool = False,
    subclass_only: bool = False,
) -> None:
    """Assign the arguments of the calling ``__init__`` as attributes of ``self``.

    Call it as the first statement of an ``__init__``: ``save__init__args(locals())``. Only
    names that are parameters (not ``*args``/``**kwargs`` and not ``self``) are saved, and only
    if present in ``values``. Which parameters count:

    * ``subclass_only=False``: those of the calling function plus those of every ``__init__``
      defined along ``type(self).__mro__``, so a subclass that takes its parent's arguments
      (and forwards them through ``super().__init__``) saves them in one call.
    * ``subclass_only=True``: only those of the calling function (the ``__init__`` of the class
      that makes the call, even when reached through a ``super()`` chain).

    Args:
        values: the caller's ``locals()``; must contain ``self``.
        underscore: store ``arg`` as ``self._arg``.
        overwrite: replace attributes that already exist (by default an attribute set earlier,
            e.g. by a subclass before calling ``super().__init__``, is kept).
        subclass_only: see above.
    """
    if "self" not in values:
        raise ValueError(
            "save__init__args(locals()) must be called in a method whose first "
            "argument is named 'self'."
        )
    obj = values["self"]
    names = [n for n in _arg_names(sys._getframe(1).f_code) if n != "self"]
    if not subclass_only:
        for cls in type(obj).__mro__:
            init = vars(cls).get("__init__")
            if inspect.isfunction(init):
                names.extend(_arg_names(init.__code__)[1:])
    prefix = "_" if underscore else ""
    for name in dict.fromkeys(names):  # Ordered de-duplication.
        if name not in values:
            continue
        attr = prefix + name
        if overwrite or not hasattr(obj, attr):
            setattr(obj, attr, values[name])
