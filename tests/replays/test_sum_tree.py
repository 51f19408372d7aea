"""SumTree: exact parent sums, vectorised search against a cumulative-sum reference, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from rlpyt.replays.sum_tree import SumTree


def _assert_consistent(tree: SumTree) -> None:
    """Every parent is exactly the sum of its children; padding nodes are zero."""
    for level in range(tree.depth):
        children = tree.levels[level + 1].reshape(-1, tree.K)
        parents = tree.levels[level]
        np.testing.assert_array_equal(parents[: len(children)], children.sum(axis=1))
        assert np.all(parents[len(children) :] == 0)
    assert np.all(tree.leaves[tree.n_leaves :] == 0)


@pytest.mark.parametrize("K", [2, 3, 16])
@pytest.mark.parametrize("T, B", [(1, 1), (5, 3), (8, 4), (33, 7)])
def test_set_get_total_and_parent_sums(T, B, K):
    rng = np.random.default_rng(0)
    tree = SumTree(T, B, branching=K)
    ref = np.zeros((T, B))
    for _ in range(50):
        n = int(rng.integers(1, 2 * T * B))
        t, b = rng.integers(0, T, n), rng.integers(0, B, n)
        v = rng.random(n) * 10
        tree.set(t, b, v)
        ref[t, b] = v  # repeats: the last value wins, as in the tree
        _assert_consistent(tree)
    np.testing.assert_array_equal(tree.values, ref)
    np.testing.assert_array_equal(tree.get(np.arange(T), np.zeros(T, int)), ref[:, 0])
    assert tree.total == pytest.approx(ref.sum(), rel=1e-12)


@pytest.mark.parametrize("K", [2, 16])
def test_set_rows_wraps_and_broadcasts(K):
    tree = SumTree(6, 2, branching=K)
    tree.set_rows(4, 8, np.arange(8.0).reshape(4, 2) + 1)  # rows 4, 5, 0, 1
    expected = np.zeros((6, 2))
    expected[[4, 5, 0, 1]] = np.arange(8.0).reshape(4, 2) + 1
    np.testing.assert_array_equal(tree.values, expected)
    tree.set_rows(-1, 1, 0.5)  # rows 5 and 0, a scalar
    expected[[5, 0]] = 0.5
    np.testing.assert_array_equal(tree.values, expected)
    tree.set_rows(3, 3, 9.0)  # empty range: no-op
    np.testing.assert_array_equal(tree.values, expected)
    _assert_consistent(tree)
    with pytest.raises(ValueError):
        tree.set_rows(0, 7, 1.0)


def test_rejects_negative_or_nonfinite():
    tree = SumTree(4, 1)
    with pytest.raises(ValueError):
        tree.set(np.array([0]), np.array([0]), np.array([-1.0]))
    with pytest.raises(ValueError):
        tree.set_rows(0, 1, np.nan)


@pytest.mark.parametrize("K", [2, 4, 16])
def test_find_matches_cumulative_sum_search(K):
    rng = np.random.default_rng(1)
    tree = SumTree(37, 3, branching=K)
    values = rng.random((37, 3)) * (rng.random((37, 3)) > 0.3)  # some zeros
    tree.set_rows(0, 37, values)
    flat = values.reshape(-1)
    targets = rng.random(5000) * tree.total
    expected = np.searchsorted(np.cumsum(flat), targets, side="right")
    found = tree.find(targets)
    # Away from leaf edges (where the two summation orders may round apart) they agree.
    edges = np.cumsum(flat)
    near = np.min(np.abs(targets[:, None] - edges[None, :]), axis=1) < 1e-9
    np.testing.assert_array_equal(found[~near], expected[~near])
    assert np.all(flat[found] > 0)


def test_sample_frequencies_proportional_and_zeros_never_drawn():
    np.random.seed(0)
    tree = SumTree(10, 2)
    values = np.zeros((10, 2))
    values[1, 0], values[4, 1], values[9, 1], values[0, 0] = 1.0, 2.0, 5.0, 0.25
    tree.set_rows(0, 10, values)
    counts = np.zeros((10, 2))
    for _ in range(200):
        t, b, v = tree.sample(64)
        np.testing.assert_array_equal(v, values[t, b])
        np.add.at(counts, (t, b), 1)
    assert np.all(counts[values == 0] == 0)
    expected = values / values.sum() * counts.sum()
    nz = values > 0
    chi2 = ((counts[nz] - expected[nz]) ** 2 / expected[nz]).sum()
    assert chi2 < 20  # 3 degrees of freedom; stratified draws only lower the spread


def test_sample_is_stratified():
    """With equal values, n stratified draws over n leaves hit every leaf exactly once."""
    np.random.seed(1)
    tree = SumTree(16, 4)
    tree.set_rows(0, 16, 1.0)
    t, b, _ = tree.sample(64)
    assert len(set(zip(t.tolist(), b.tolist()))) == 64


def test_unique_and_errors():
    np.random.seed(2)
    tree = SumTree(8, 1)
    with pytest.raises(ValueError, match="zero"):
        tree.sample(1)
    tree.set(np.array([0, 3, 5]), np.array([0, 0, 0]), np.array([100.0, 1.0, 1.0]))
    for _ in range(20):
        t, _, _ = tree.sample(3, unique=True)
        assert sorted(t.tolist()) == [0, 3, 5]
    with pytest.raises(ValueError, match="fewer than"):
        tree.sample(4, unique=True)


def test_tiny_priorities_survive_float64_sums():
    tree = SumTree(1000, 1000)  # a million leaves
    tree.set_rows(0, 1000, 1e6)
    tree.set(np.array([123]), np.array([456]), np.array([1e-6]))
    tree.set(np.array([123]), np.array([456]), np.array([2e-6]))
    assert tree.get(np.array([123]), np.array([456]))[0] == 2e-6
    leaf = 123 * 1000 + 456
    below = tree.values.reshape(-1)[:leaf].sum()
    assert tree.find(np.array([below + 1e-6]))[0] == leaf


def test_shared_memory_tree_is_shared_array():
    from rlpyt.utils.buffer import is_shared

    tree = SumTree(4, 2, share_memory=True)
    assert is_shared(tree.tree) and all(is_shared(level) for level in tree.levels)
    assert not is_shared(SumTree(4, 2).tree)


def test_depth_is_logarithmic_in_the_branching():
    assert SumTree(1000, 1000).depth == 5  # 16**5 >= 1e6
    assert SumTree(1000, 1000, branching=2).depth == 20
    assert SumTree(1, 1).depth == 1
    assert SumTree(1000, 1000).tree.nbytes < 8.6e6  # ~K / (K - 1) nodes per leaf


@pytest.mark.parametrize("n", [1, 2, 17, 255, 257, 4097])
def test_padding_is_small_and_never_drawn(n):
    np.random.seed(5)
    tree = SumTree(n, 1)
    assert tree.tree.size <= 1.07 * n + 16 * (tree.depth + 1)
    values = np.zeros(n)
    values[-1] = 1.0  # only the last real leaf: rounding at the right edge must not escape
    values[0] = 1e-300
    tree.set_rows(0, n, values[:, None])
    _assert_consistent(tree)
    for _ in range(20):
        t, b, v = tree.sample(8)
        assert np.all(v > 0) and np.all(t < n) and np.all(b == 0)
    edge = tree.find(np.array([np.nextafter(tree.total, 0)]))
    assert edge[0] == n - 1 or tree.leaves[edge[0]] == 0  # a zero leaf would be redrawn
