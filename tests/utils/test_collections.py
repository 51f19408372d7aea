"""Tests for namedarraytuple, namedarraytuple_like, the type checks and AttrDict."""

import multiprocessing as mp
import pickle
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils._pytree as pytree
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from rlpyt.utils.collections import (
    AttrDict,
    is_namedarraytuple,
    is_namedarraytuple_class,
    is_namedtuple,
    is_namedtuple_class,
    namedarraytuple,
    namedarraytuple_like,
)

Point = namedarraytuple("Point", ["x", "y"])
Outer = namedarraytuple("Outer", ["a", "p", "empty"])


def make_outer(n=5):
    return Outer(
        a=np.arange(n, dtype=np.float32),
        p=Point(x=np.arange(2 * n).reshape(n, 2), y=torch.arange(n)),
        empty=None,
    )


class TestIndexing:
    def test_int_index_applies_to_every_field_recursively(self):
        o = make_outer()
        r = o[3]
        assert type(r) is Outer and type(r.p) is Point
        assert r.a == 3.0
        assert_array_equal(r.p.x, [6, 7])
        assert int(r.p.y) == 3
        assert r.empty is None

    def test_slice_and_fancy_index_and_mask(self):
        o = make_outer()
        assert_array_equal(o[1:4].a, [1, 2, 3])
        idx = np.array([4, 0])
        assert_array_equal(o[idx].p.x, [[8, 9], [0, 1]])
        mask = np.array([True, False, True, False, False])
        assert_array_equal(o[mask].a, [0, 2])
        torch.testing.assert_close(o[torch.tensor([1, 2])].p.y, torch.tensor([1, 2]))

    def test_slices_are_views(self):
        o = make_outer()
        o[2:4].a[:] = -1
        assert_array_equal(o.a, [0, 1, -1, -1, 4])

    def test_assign_same_structure_writes_field_by_field(self):
        o = make_outer()
        o[1] = Outer(a=10.0, p=Point(x=np.array([7, 8]), y=None), empty=None)
        assert o.a[1] == 10.0
        assert_array_equal(o.p.x[1], [7, 8])
        assert int(o.p.y[1]) == 1  # None in the value leaves the field untouched

    def test_assign_scalar_broadcasts(self):
        o = make_outer()
        o[:2] = 0
        assert_array_equal(o.a[:2], [0, 0])
        assert_array_equal(o.p.x[:2], 0)
        assert o.p.y[:2].sum() == 0

    def test_errors_name_the_field(self):
        o = Point(x=np.zeros(3), y=np.zeros(5))
        with pytest.raises(IndexError, match="field 'x'.*index 4"):
            o[4]
        with pytest.raises(ValueError, match="writing field 'y'"):
            o[0] = Point(x=1.0, y=np.zeros(3))

    def test_tuple_behaviour_kept(self):
        p = Point(x=1, y=2)
        assert p.get(0) == 1 and p.get(1) == 2
        assert list(p.items()) == [("x", 1), ("y", 2)]
        assert "x" in p and 1 not in p
        assert p._replace(y=3) == Point(1, 3)
        assert p._asdict() == {"x": 1, "y": 2}
        x, y = p
        assert (x, y) == (1, 2)


class TestClasses:
    def test_same_name_same_module_same_fields_is_same_class(self):
        assert namedarraytuple("Point", ["x", "y"]) is Point
        assert namedarraytuple("Point", "x, y") is Point

    def test_same_name_different_fields_do_not_clash(self):
        other = namedarraytuple("Point", ["x", "y", "z"])
        assert other is not Point
        assert other._fields == ("x", "y", "z") and Point._fields == ("x", "y")

    def test_bad_field_names_are_rejected(self):
        with pytest.raises(ValueError, match="'1a'"):
            namedarraytuple("Bad", ["1a"])
        with pytest.raises(ValueError, match="reserved"):
            namedarraytuple("Bad", ["items"])

    def test_return_namedtuple_cls_and_suffix(self):
        nt, nat = namedarraytuple("Pair", ["u", "v"], return_namedtuple_cls=True)
        assert not is_namedarraytuple_class(nt) and is_namedtuple_class(nt)
        assert is_namedarraytuple_class(nat)
        _, nat2 = namedarraytuple("Pair", ["u"], return_namedtuple_cls=True, classname_suffix=True)
        assert nat2.__name__ == "Pair_nat"

    def test_like(self):
        NT = namedtuple("NT", ["q", "r"])
        cls = namedarraytuple_like(NT(1, 2))
        assert is_namedarraytuple_class(cls) and cls._fields == ("q", "r")
        assert namedarraytuple_like(NT) is cls
        assert namedarraytuple_like(Point) is Point
        with pytest.raises(TypeError, match="namedtuple"):
            namedarraytuple_like((1, 2))

    def test_checks(self):
        NT = namedtuple("NT", ["q"])
        assert is_namedtuple(NT(1)) and not is_namedarraytuple(NT(1))
        assert is_namedtuple(Point(1, 2)) and is_namedarraytuple(Point(1, 2))
        assert not is_namedtuple((1, 2)) and not is_namedarraytuple(Point)


def _made_in_worker(fields):
    # A class made at run time inside a worker, as an env_info type discovered from a dict.
    Info = namedarraytuple("Info", fields)
    return Info(*[np.full(2, i) for i in range(len(fields))])


def _child_roundtrip(payload):
    return payload, namedarraytuple("Info", ["lives", "score"])


class TestPickling:
    def test_instances_and_classes_pickle(self):
        o = make_outer()
        o2 = pickle.loads(pickle.dumps(o))
        assert type(o2) is Outer
        assert_array_equal(o2.p.x, o.p.x)
        assert pickle.loads(pickle.dumps(Outer)) is Outer

    def test_dynamic_class_pickles_by_reference(self):
        Dyn = namedarraytuple("Dyn", ["k"])
        assert pickle.loads(pickle.dumps(Dyn)) is Dyn

    @pytest.mark.parametrize("method", ["spawn", "forkserver"])
    def test_dynamic_classes_cross_fresh_processes(self, method):
        ctx = mp.get_context(method)
        with ctx.Pool(1) as pool:
            # Made in the child, sent back: the parent rebuilds the class from its name.
            info = pool.apply(_made_in_worker, (["lives", "score"],))
            assert type(info).__name__ == "Info" and info._fields == ("lives", "score")
            assert_array_equal(info.score, [1, 1])
            assert is_namedarraytuple(info[0])
            # Same name, other fields, from the same place: a different class, no clash.
            other = pool.apply(_made_in_worker, (["lives"],))
            assert type(other) is not type(info)
            # Made here, sent there and back.
            Info = namedarraytuple("Info", ["lives", "score"])
            payload, cls_from_child = pool.apply(_child_roundtrip, (Info(1, 2),))
            assert type(payload) is Info and payload.score == 2
            assert cls_from_child is Info  # same module, name and fields: the same class


class TestPytree:
    def test_tree_map_keeps_classes(self):
        o = Point(x=torch.ones(2), y=Point(x=torch.zeros(1), y=torch.ones(3)))
        r = pytree.tree_map(lambda t: t + 1, o)
        assert type(r) is Point and type(r.y) is Point
        torch.testing.assert_close(r.y.y, torch.full((3,), 2.0))
        leaves, spec = pytree.tree_flatten(o)
        assert len(leaves) == 3
        assert type(pytree.tree_unflatten(leaves, spec)) is Point

    def test_torch_compile_sees_through(self):
        @torch.compile(backend="eager", fullgraph=True)
        def f(p):
            return Point(x=p.x * 2, y=p.y.sum())

        r = f(Point(x=torch.ones(2), y=torch.arange(3.0)))
        assert type(r) is Point
        torch.testing.assert_close(r.x, torch.full((2,), 2.0))
        assert float(r.y) == 3.0


class TestAttrDict:
    def test_attribute_access(self):
        d = AttrDict(a=1)
        d.b = 2
        assert d["b"] == 2 and d.a == 1
        del d.a
        assert "a" not in d
        with pytest.raises(AttributeError, match="'zz'"):
            _ = d.zz
        c = d.copy()
        assert type(c) is AttrDict and c == d and c is not d

    def test_pickles(self):
        d = AttrDict(x=[1, 2])
        d2 = pickle.loads(pickle.dumps(d))
        assert type(d2) is AttrDict and d2.x == [1, 2]


# -- property-based: indexing a namedarraytuple equals indexing each field -----------------------

shapes = st.integers(1, 6)


@given(
    n=shapes,
    m=shapes,
    start=st.integers(-6, 6),
    stop=st.integers(-6, 6),
    step=st.integers(1, 3),
    idx=st.lists(st.integers(0, 5), max_size=8),
)
def test_indexing_matches_fields(n, m, start, stop, step, idx):
    a = np.random.default_rng(0).normal(size=(n, m))
    b = np.arange(n * 3).reshape(n, 3)
    p = Point(x=a, y=Point(x=b, y=None))
    s = slice(start, stop, step)
    assert_array_equal(p[s].x, a[s])
    assert_array_equal(p[s].y.x, b[s])
    fancy = np.array([i % n for i in idx], dtype=np.int64)
    assert_array_equal(p[fancy].x, a[fancy])
    assert_array_equal(p[fancy].y.x, b[fancy])
    assert p[fancy].y.y is None


@given(n=shapes, loc=st.integers(0, 5), value=st.floats(-1e3, 1e3))
def test_broadcast_write_matches_fields(n, loc, value):
    loc = loc % n
    p = Point(x=np.zeros((n, 2)), y=np.zeros(n))
    p[loc] = value
    expect_x = np.zeros((n, 2))
    expect_x[loc] = value
    expect_y = np.zeros(n)
    expect_y[loc] = value
    assert_array_equal(p.x, expect_x)
    assert_array_equal(p.y, expect_y)
