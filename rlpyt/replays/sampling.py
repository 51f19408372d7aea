"""Sampling strategies of the replay buffers: which slots are valid, uniform or prioritized draws.

A *slot* is a place a sample may start: every step of the ring for non-sequence buffers, every
``rnn_state_interval``-th step for sequence buffers (where an RNN state is stored). The valid
slots always form one interval in unwrapped time, which moves forward with the write cursor;
:class:`SlotWindow` computes it and both strategies draw only from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlpyt.replays.sum_tree import SumTree
from rlpyt.utils.buffer import build_array

__all__ = ["PrioritizedSampler", "SlotWindow", "UniformSampler"]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class SlotWindow:
    """The interval of valid sample starts, given how far a sample reaches around its start.

    A sample starting at step ``s`` (unwrapped: counted from the first step ever written)
    reads steps ``s - off_forward`` to ``s + off_backward`` (inclusive): history before it
    (``prev_action``, older stacked frames) and the future after it (the n-step window, the
    target observation, the rest of a sequence). With ``t`` steps written so far into a ring
    of ``T`` steps, step ``k`` is present while ``t - T <= k < t``. History before step 0 is
    the ring's untouched zeros (what an episode start looks like: the first step written is
    an env reset) until the ring's last rows are first written. Hence

        ``max(t - T + off_forward, 0) <= s < t - off_backward``.

    Slots are the starts ``s = j * unit``; the valid ``j`` form ``[lo, hi)``.

    Args:
        T: ring length in steps.
        unit: steps per slot (``rnn_state_interval`` for sequences, else 1); divides ``T``.
        off_backward: how far past its start a sample reads, ``>= 1``
            (``n_step_return`` for single steps, ``batch_T + n_step_return - 1`` for sequences).
        off_forward: how far before its start a sample reads (1 for ``prev_action``;
            ``n_frames - 1`` for frame buffers when larger).
    """

    T: int
    unit: int
    off_backward: int
    off_forward: int

    def __post_init__(self) -> None:
        if self.T % self.unit:
            raise ValueError(f"ring length T={self.T} is not a multiple of unit={self.unit}.")
        if self.off_backward + self.off_forward >= self.T:
            raise ValueError(
                f"replay ring of T={self.T} steps per env is too short for samples reaching "
                f"{self.off_forward} steps back and {self.off_backward} ahead."
            )

    @property
    def n_slots(self) -> int:
        """Number of slots in the ring, ``T // unit``."""
        return self.T // self.unit

    def valid_range(self, t: int) -> tuple[int, int]:
        """Valid slots ``[lo, hi)`` in unwrapped slot numbers after ``t`` steps were written."""
        lo = _ceil_div(max(t - self.T + self.off_forward, 0), self.unit)
        hi = _ceil_div(t - self.off_backward, self.unit)
        return lo, max(lo, hi)

    def is_valid(self, t: int, slots: np.ndarray) -> np.ndarray:
        """Whether ring slots ``slots`` (``[N]``, in ``[0, n_slots)``) are valid now."""
        lo, hi = self.valid_range(t)
        return (np.asarray(slots) - lo) % self.n_slots < hi - lo


def _no_data_error(window: SlotWindow, t: int) -> ValueError:
    return ValueError(
        f"replay buffer has no valid sample yet: {t} steps per env written, a sample needs "
        f"{window.off_backward + 1} consecutive steps (append more before sampling)."
    )


class UniformSampler:
    """Uniform draws over the valid slots and all environments (with replacement).

    Args:
        window: the buffer's :class:`SlotWindow`.
        B: number of environments (columns).
    """

    prioritized = False

    def __init__(self, window: SlotWindow, B: int) -> None:
        self.window = window
        self.B = B

    def advance(self, t0: int, t1: int, priorities: np.ndarray | None = None) -> None:
        """The cursor moved from ``t0`` to ``t1`` steps: nothing to do for uniform draws."""

    def sample(self, t: int, batch_B: int, window: SlotWindow | None = None):
        """Draw ``batch_B`` (slot, env) pairs uniformly from the valid ones.

        Args:
            t: steps written so far (unwrapped cursor).
            batch_B: number of draws.
            window: a different reach than the buffer's (sequence buffers sampling another
                ``batch_T``); same ``T`` and ``unit``.

        Returns:
            ``(slots, B_idxs, None)``: ``[batch_B]`` ring slots and env indexes.
        """
        window = self.window if window is None else window
        lo, hi = window.valid_range(t)
        if hi <= lo:
            raise _no_data_error(window, t)
        # One draw over all (slot, env) pairs: each pair equally likely, as two draws would.
        pairs = np.random.randint(0, (hi - lo) * self.B, size=batch_B)
        slots, B_idxs = np.divmod(pairs, self.B)
        slots += lo
        slots %= window.n_slots
        return slots, B_idxs, None


class PrioritizedSampler:
    """Draws proportional to ``priority ** alpha`` from a :class:`SumTree` over the slots.

    Invariant: a slot holds a non-zero value only while it is valid. As the cursor moves the
    window ``[lo, hi)`` forward, slots leaving it at the low end are zeroed (their data or
    their history is being overwritten) and slots entering it at the high end (their n-step
    window or sequence is now complete) get ``default_priority ** alpha``, or the input
    priority given with the data.

    Input priorities (R2D1): with ``input_priorities=True``, :meth:`advance` takes priorities
    for the newly written steps, ``[T, B]``, ``[B]`` or a scalar; the value at each slot's own
    step is kept, and a slot entering the window takes the value kept
    ``input_priority_shift`` slots later (R2D1 computes a batch's priority from the training
    part of the sequence, which starts ``warmup_T`` steps after the slot the sequence
    starts at). Steps written without priorities keep the default.

    Importance-sampling weights (Schaul et al. 2016, sec. 3.4): ``w_i = (N P(i)) ** -beta``
    normalised by the largest weight in the batch, i.e. ``(p_min / p_i) ** beta`` over the
    batch's tree values ``p = priority ** alpha``.

    Args:
        window: the buffer's :class:`SlotWindow`.
        B: number of environments.
        alpha: priority exponent.
        beta: importance-weight exponent (change it with :meth:`set_beta`).
        default_priority: priority of new samples (before the ``alpha`` exponent).
        unique: draw distinct slots within a batch.
        input_priorities: accept priorities with appended data.
        input_priority_shift: see above; in slots.
        share_memory: put the tree (and kept input priorities) in shared memory.
    """

    prioritized = True

    def __init__(
        self,
        window: SlotWindow,
        B: int,
        alpha: float = 0.6,
        beta: float = 0.4,
        default_priority: float = 1.0,
        unique: bool = False,
        input_priorities: bool = False,
        input_priority_shift: int = 0,
        share_memory: bool = False,
    ) -> None:
        if default_priority <= 0:
            raise ValueError(f"default_priority must be positive; got {default_priority}.")
        if input_priority_shift < 0 or input_priority_shift * window.unit > window.off_backward:
            raise ValueError(
                f"input_priority_shift={input_priority_shift} slots reaches past the data "
                f"written when a slot becomes valid (at most {window.off_backward // window.unit})."
            )
        self.window = window
        self.B = B
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.default_priority = float(default_priority)
        self.unique = bool(unique)
        self.input_priority_shift = int(input_priority_shift)
        self.tree = SumTree(window.n_slots, B, share_memory=share_memory)
        self.input_values = None
        if input_priorities:
            self.input_values = build_array(np.float64(0), (window.n_slots, B), share_memory)
        self._last = None  # (slots, B_idxs, t) of the latest draw, for priority updates

    @property
    def default_value(self) -> float:
        """Tree value of a new slot, ``default_priority ** alpha``."""
        return self.default_priority**self.alpha

    def set_beta(self, beta: float) -> None:
        """Set the importance-weight exponent (annealed toward 1 by the algorithm)."""
        self.beta = float(beta)

    def advance(self, t0: int, t1: int, priorities: np.ndarray | float | None = None) -> None:
        """The cursor moved from ``t0`` to ``t1`` steps: keep the tree's invariant.

        Args:
            t0: steps written before this append.
            t1: steps written after it.
            priorities: input priorities of the new steps (``[t1 - t0, B]``, ``[B]`` or a
                scalar); only with ``input_priorities=True``.
        """
        w = self.window
        if priorities is not None and self.input_values is None:
            raise ValueError("priorities given with samples, but input_priorities=False.")
        if self.input_values is not None:
            self._keep_input_values(t0, t1, priorities)
        lo0, hi0 = w.valid_range(t0)
        lo1, hi1 = w.valid_range(t1)
        self.tree.set_rows(lo0, min(lo1, hi0), 0.0)
        new_lo = max(hi0, lo1)
        if hi1 > new_lo:
            if self.input_values is None:
                values = self.default_value
            else:
                rows = (np.arange(new_lo, hi1) + self.input_priority_shift) % w.n_slots
                values = self.input_values[rows]
            self.tree.set_rows(new_lo, hi1, values)

    def _keep_input_values(self, t0: int, t1: int, priorities) -> None:
        # The slots whose own step was written in [t0, t1).
        u = self.window.unit
        j0, j1 = _ceil_div(t0, u), _ceil_div(t1, u)
        if j1 <= j0:
            return
        if priorities is None:
            values = self.default_value
        else:
            p = np.asarray(priorities, dtype=np.float64)
            if not (p.ndim == 0 or p.shape in ((self.B,), (t1 - t0, self.B))):
                raise ValueError(
                    f"input priorities must be a scalar, [B] or [T, B] = "
                    f"{[t1 - t0, self.B]}; got shape {p.shape}."
                )
            if p.ndim == 2:
                p = p[np.arange(j0, j1) * u - t0]  # the values at each slot's own step
            values = np.maximum(p, 0) ** self.alpha
        rows = np.arange(j0, j1) % self.window.n_slots
        self.input_values[rows] = values

    def sample(self, t: int, batch_B: int, window: SlotWindow | None = None):
        """Draw ``batch_B`` (slot, env) pairs proportional to their tree values.

        Returns:
            ``(slots, B_idxs, is_weights)``: ``[batch_B]`` int64, int64, float32.
        """
        if window is not None and window != self.window:
            raise ValueError("a prioritized buffer samples with the reach it was built for.")
        if self.tree.total <= 0:
            raise _no_data_error(self.window, t)
        slots, B_idxs, p = self.tree.sample(batch_B, unique=self.unique)
        self._last = (slots, B_idxs)
        is_weights = (p.min() / p) ** self.beta
        return slots, B_idxs, is_weights.astype(np.float32)

    def update_batch_priorities(self, t: int, priorities: np.ndarray) -> None:
        """Set the priorities of the latest draw's slots (``[batch_B]``, before ``alpha``).

        Slots that stopped being valid since the draw (an async writer moved the cursor) are
        left at zero.
        """
        if self._last is None:
            raise RuntimeError("update_batch_priorities() called before sample_batch().")
        slots, B_idxs = self._last
        p = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if p.shape != slots.shape:
            raise ValueError(f"expected {slots.shape[0]} priorities, got shape {p.shape}.")
        keep = self.window.is_valid(t, slots)
        self.tree.set(slots[keep], B_idxs[keep], np.maximum(p[keep], 0) ** self.alpha)
