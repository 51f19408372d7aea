"""A vectorised float64 sum tree over a ``[T, B]`` grid of priorities (prioritized replay).

Prioritized replay (Schaul et al. 2016, arXiv:1511.05952) samples slot ``i`` with probability
``p_i / sum_j p_j``. A sum tree answers that in ``O(log N)``: every internal node holds the
sum of its children, so a value ``v`` drawn in ``[0, total)`` finds its leaf by walking down,
at each node stepping into the child whose share of the running sum contains ``v``.

Speed in NumPy comes from doing few, wide operations: every operation handles a whole batch
(``sample(n)`` walks all ``n`` queries down together), and the tree is ``K``-ary (``K = 16``
children per node) rather than binary, so a million leaves are 5 levels deep instead of 20:
one NumPy call per level costs the same for 2 or 16 children, and the Python overhead per
level dominates at replay batch sizes.

Exactness: writes recompute each touched parent as the sum of its children (never by adding
deltas), so rounding errors cannot accumulate however many updates are made, and values are
float64, in which small priorities survive next to a large total.
"""

from __future__ import annotations

import numpy as np

from rlpyt.utils.buffer import np_mp_array

__all__ = ["SumTree"]


def _dedupe_sorted(idxs: np.ndarray) -> np.ndarray:
    """Drop repeats from a sorted int array (cheaper than ``np.unique``, which sorts)."""
    if idxs.size < 2:
        return idxs
    keep = np.empty(idxs.size, dtype=bool)
    keep[0] = True
    np.not_equal(idxs[1:], idxs[:-1], out=keep[1:])
    return idxs[keep]


class SumTree:
    """``K``-ary sum tree over ``T * B`` non-negative float64 values, addressed as ``[T, B]``.

    Leaf ``t * B + b`` holds the value of slot ``(t, b)``. Levels are stored root first in one
    flat array; node ``i`` of a level has children ``i*K .. i*K + K - 1`` on the next, and
    each level below the root is padded with zeros to a multiple of ``K`` (so the tree holds
    about ``K / (K - 1)`` nodes per leaf). With
    ``share_memory`` the array lives in OS shared memory, so processes holding the same tree
    (the async replay buffers) see one tree.

    Used by :class:`rlpyt.replays.sampling.PrioritizedSampler`; it knows nothing about
    cursors or validity, only values.

    Args:
        T: number of time slots (rows).
        B: number of environments (columns).
        share_memory: allocate the nodes in shared memory.
        branching: children per node, ``K >= 2``.

    Examples:
        >>> tree = SumTree(T=4, B=2)
        >>> tree.set(np.array([0, 3]), np.array([1, 0]), np.array([1.0, 3.0]))
        >>> tree.total
        4.0
        >>> tree.get(np.array([3]), np.array([0]))
        array([3.])
    """

    def __init__(self, T: int, B: int, share_memory: bool = False, branching: int = 16) -> None:
        if T < 1 or B < 1 or branching < 2:
            raise ValueError(f"SumTree needs T, B >= 1, branching >= 2; got {T}, {B}, {branching}.")
        self.T = int(T)
        self.B = int(B)
        self.K = int(branching)
        self.n_leaves = self.T * self.B
        # Real node counts per level, leaves first: each level has ceil(count below / K).
        counts = [self.n_leaves]
        while counts[-1] > 1:
            counts.append(-(-counts[-1] // self.K))
        counts.reverse()  # root first
        self.depth = max(1, len(counts) - 1)
        if len(counts) == 1:  # a single leaf still hangs below a root
            counts = [1, 1]
        # Below the root each level is padded to a multiple of K, so that it reshapes into
        # rows of K children; padding nodes stay 0 and have no children of their own.
        sizes = [1] + [-(-c // self.K) * self.K for c in counts[1:]]
        offsets = np.cumsum([0] + sizes)
        n_nodes = int(offsets[-1])
        self.tree = np_mp_array(n_nodes, np.float64) if share_memory else np.zeros(n_nodes)
        self.levels = [self.tree[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
        self.leaves = self.levels[-1]
        # Level l + 1 seen as [rows, K]: row i holds the children of node i of level l, so
        # gathering a node's children is one row gather (contiguous), not K element gathers.
        self._child_rows = [level.reshape(-1, self.K) for level in self.levels[1:]]
        # Highest node of each level below the root that has a row of children (or, for the
        # leaves, that exists): bounds a descent that rounding pushed into padding.
        self._last_node = [rows.shape[0] - 1 for rows in self._child_rows[1:]]
        self._last_node.append(len(self.leaves) - 1)

    # ------------------------------------------------------------------------------------------
    # Reading

    @property
    def total(self) -> float:
        """Sum of all values (the root)."""
        return float(self.tree[0])

    @property
    def values(self) -> np.ndarray:
        """All leaf values as a ``[T, B]`` view (read it, write through :meth:`set`)."""
        return self.leaves[: self.n_leaves].reshape(self.T, self.B)

    def get(self, T_idxs: np.ndarray, B_idxs: np.ndarray) -> np.ndarray:
        """Values of slots ``(T_idxs[i], B_idxs[i])``: ``[N]`` float64 (a copy)."""
        return self.leaves[np.asarray(T_idxs) * self.B + np.asarray(B_idxs)]

    # ------------------------------------------------------------------------------------------
    # Writing

    def set(self, T_idxs: np.ndarray, B_idxs: np.ndarray, values: np.ndarray | float) -> None:
        """Set slots ``(T_idxs[i], B_idxs[i])`` to ``values[i]`` (or one scalar for all).

        Repeated slots get the last of their values (NumPy assignment order). Every touched
        ancestor is recomputed from its children, level by level.
        """
        leaves = np.asarray(T_idxs, dtype=np.int64) * self.B + np.asarray(B_idxs, dtype=np.int64)
        leaves = leaves.reshape(-1)
        values = np.asarray(values, dtype=np.float64)
        self._check_values(values)
        self.leaves[leaves] = values.reshape(-1) if values.ndim else values
        nodes = _dedupe_sorted(np.sort(leaves))
        for level in range(self.depth - 1, -1, -1):
            nodes = _dedupe_sorted(nodes // self.K)
            self.levels[level][nodes] = self._child_rows[level][nodes].sum(axis=1)

    def set_rows(self, t_lo: int, t_hi: int, values: np.ndarray | float) -> None:
        """Set every slot of rows ``t_lo <= t < t_hi`` (mod ``T``, so the range may wrap).

        Args:
            t_lo: first row, any integer (taken mod ``T``).
            t_hi: one past the last row, ``t_lo <= t_hi <= t_lo + T``.
            values: ``[t_hi - t_lo, B]``, ``[B]`` or a scalar.
        """
        n = t_hi - t_lo
        if n <= 0:
            return
        if n > self.T:
            raise ValueError(f"set_rows: {n} rows is more than the tree's T={self.T}.")
        scalar = np.ndim(values) == 0
        if scalar:
            values = float(values)
            if not 0 <= values < np.inf:
                raise ValueError("SumTree values must be finite and non-negative.")
        else:
            values = np.broadcast_to(np.asarray(values, dtype=np.float64), (n, self.B))
            self._check_values(values)
        start = t_lo % self.T
        first = min(n, self.T - start)  # rows before the wrap
        head = values if scalar else values[:first].reshape(-1)
        self._set_leaf_range(start * self.B, (start + first) * self.B, head)
        if first < n:
            tail = values if scalar else values[first:].reshape(-1)
            self._set_leaf_range(0, (n - first) * self.B, tail)

    def _set_leaf_range(self, lo: int, hi: int, values: np.ndarray | float) -> None:
        self.leaves[lo:hi] = values
        K = self.K
        # The parents of a contiguous range of nodes are a contiguous range: plain slices.
        for level in range(self.depth - 1, -1, -1):
            lo, hi = lo // K, (hi - 1) // K + 1
            np.add.reduce(self._child_rows[level][lo:hi], axis=1, out=self.levels[level][lo:hi])

    @staticmethod
    def _check_values(values: np.ndarray) -> None:
        # One pass; NaN fails both comparisons.
        if values.size and not ((values >= 0) & (values < np.inf)).all():
            raise ValueError("SumTree values must be finite and non-negative.")

    # ------------------------------------------------------------------------------------------
    # Sampling

    def find(self, targets: np.ndarray) -> np.ndarray:
        """Leaf numbers (``t * B + b``) holding the cumulative sums ``targets`` (``[N]``).

        Leaf ``i`` holds ``[c_i, c_i + value_i)`` where ``c_i`` is the sum of the leaves
        before it; ``targets`` must lie in ``[0, total)``. All queries descend together: a
        handful of vectorised operations per level.
        """
        v = np.array(targets, dtype=np.float64, copy=True).reshape(-1)
        node = np.zeros(v.shape, dtype=np.int64)
        rows = np.arange(v.size)
        K = self.K
        for child_rows, last in zip(self._child_rows, self._last_node):
            children = child_rows[node]  # [N, K]
            cum = np.cumsum(children, axis=1)
            # The first child whose running sum passes v (rounding may point past the last
            # child: clamp; a zero leaf reached that way is redrawn by the caller).
            j = np.minimum((cum <= v[:, None]).sum(axis=1), K - 1)
            v -= cum[rows, j] - children[rows, j]
            node = np.minimum(node * K + j, last)
        return node

    def sample(self, n: int, unique: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``n`` slots with probability proportional to their values.

        Stratified: the total is cut into ``n`` equal segments and one uniform value is drawn
        in each, which lowers the variance of a batch against ``n`` independent draws while
        keeping each draw's marginal probability exact. Draws that land on a zero leaf through
        float rounding at a segment edge are redrawn. Uses NumPy's global RNG (seeded by
        ``rlpyt.utils.seed.set_seed``).

        Args:
            n: number of draws.
            unique: redraw repeated slots (independently, proportional to value) until all
                ``n`` are distinct; needs at least ``n`` non-zero slots.

        Returns:
            ``(T_idxs, B_idxs, values)``: ``[n]`` int64, ``[n]`` int64, ``[n]`` float64.

        Raises:
            ValueError: if the tree holds no mass (or, with ``unique``, fewer than ``n``
                non-zero slots).
        """
        total = self.total
        if not total > 0:
            raise ValueError("SumTree.sample: every value is zero; nothing to sample.")
        if unique and np.count_nonzero(self.leaves) < n:
            raise ValueError(f"SumTree.sample: fewer than {n} non-zero slots for unique draws.")
        targets = (np.arange(n) + np.random.random_sample(n)) * (total / n)
        leaves = self.find(np.minimum(targets, np.nextafter(total, 0)))
        for _ in range(1000):  # redraw rounding misses (and repeats, if unique); rare
            bad = self.leaves[leaves] <= 0
            if unique:
                _, first = np.unique(leaves, return_index=True)
                repeat = np.ones(n, dtype=bool)
                repeat[first] = False
                bad |= repeat
            n_bad = int(np.count_nonzero(bad))
            if n_bad == 0:
                break
            leaves[bad] = self.find(np.random.random_sample(n_bad) * total)
        else:
            raise RuntimeError("SumTree.sample: could not draw valid slots (corrupt tree?).")
        T_idxs, B_idxs = np.divmod(leaves, self.B)
        return T_idxs, B_idxs, self.leaves[leaves]
