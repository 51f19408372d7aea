"""Tests for rlpyt.utils.quick_args.save__init__args."""

import pytest

from rlpyt.utils.quick_args import save__init__args


class Base:
    def __init__(self, a, b=2, *args, c=3, **kwargs):
        local_only = "not an argument"  # noqa: F841  (must not be saved)
        save__init__args(locals())


def test_saves_arguments_only():
    obj = Base(1, c=5, extra=9)
    assert (obj.a, obj.b, obj.c) == (1, 2, 5)
    assert not hasattr(obj, "local_only")
    assert not hasattr(obj, "args") and not hasattr(obj, "kwargs")
    assert not hasattr(obj, "extra")
    assert not hasattr(obj, "self")


def test_underscore_prefix():
    class Under:
        def __init__(self, x, y=1):
            save__init__args(locals(), underscore=True)

    obj = Under(4)
    assert obj._x == 4 and obj._y == 1
    assert not hasattr(obj, "x")


def test_overwrite_flag():
    class Keep:
        x = "class attribute"

        def __init__(self, x, overwrite):
            save__init__args(locals(), overwrite=overwrite)

    assert Keep(1, overwrite=False).x == "class attribute"
    assert Keep(1, overwrite=True).x == 1


class Parent:
    def __init__(self, p, shared=0):
        save__init__args(locals())


class Child(Parent):
    def __init__(self, q, p=10, shared=1, helper=None):
        helper = "computed"  # a local rebinding of an argument is what gets saved
        save__init__args(locals())
        super().__init__(p=p * 2, shared=shared + 1)


def test_super_chain_does_not_overwrite_child_values():
    obj = Child(5)
    assert obj.q == 5
    assert obj.p == 10  # Set by Child first; Parent's call keeps it.
    assert obj.shared == 1
    assert obj.helper == "computed"


class ParentMRO:
    def __init__(self, p, shared=0):
        pass


class ChildSavesParentArgs(ParentMRO):
    def __init__(self, q, **kwargs):
        p = kwargs["p"]  # noqa: F841  (name of a parent argument: saved)
        shared = kwargs.get("shared", 0)  # noqa: F841
        unrelated = 3  # noqa: F841  (not an argument anywhere: not saved)
        save__init__args(locals())
        super().__init__(**kwargs)


class ChildSubclassOnly(ParentMRO):
    def __init__(self, q, **kwargs):
        p = kwargs["p"]  # noqa: F841  (a parent argument, but subclass_only skips it)
        save__init__args(locals(), subclass_only=True)
        super().__init__(**kwargs)


def test_mro_arguments_versus_subclass_only():
    obj = ChildSavesParentArgs(1, p=2)
    assert (obj.q, obj.p, obj.shared) == (1, 2, 0)
    assert not hasattr(obj, "unrelated")
    obj = ChildSubclassOnly(1, p=2)
    assert obj.q == 1
    assert not hasattr(obj, "p")


class ParentSubclassOnly:
    def __init__(self, p, q="parent"):
        save__init__args(locals(), subclass_only=True)


class ChildOfSubclassOnly(ParentSubclassOnly):
    def __init__(self, r, p):
        super().__init__(p)


def test_subclass_only_uses_the_calling_init_through_super():
    # The call sits in ParentSubclassOnly.__init__, so its arguments are the ones saved even
    # though type(self) is the child.
    obj = ChildOfSubclassOnly("r", "p")
    assert obj.p == "p" and obj.q == "parent"
    assert not hasattr(obj, "r")


def test_requires_self():
    def not_a_method(x):
        save__init__args(locals())

    with pytest.raises(ValueError):
        not_a_method(1)
