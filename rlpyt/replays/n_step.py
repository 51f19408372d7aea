"""n-step returns of a replay ring, computed once per step when its window is complete.

For a step ``t`` and ``n = n_step_return``:

* ``return_[t] = sum_{k<n} discount**k * reward[t + k] * prod_{j<k} (1 - done[t + j])``
  and ``done_n[t] = max(done[t : t + n])`` (as ``rlpyt.algos.utils.discount_return_n_step``):
  the target is ``return_ + (1 - done_n) * discount**n * Q(observation[t + n])``.
* Time-limit aware (Pardo et al. 2018, arXiv:1712.00378; the same convention as the ``*_tl``
  helpers of ``rlpyt.algos.utils``): a step with ``timeout[t + k] = 1`` (``k >= 1``) was cut by
  a time limit, and the observation after it is lost. The window stops *before* it, and the
  target bootstraps from the state at the timeout step, ``observation[t + k]``, with
  ``discount**k``: the return sums rewards ``t .. t + k - 1``, ``timeout_n[t] = 1``,
  ``n_eff[t] = k``, and ``done_n`` stays 0 (truncation is not termination). A termination
  (``done`` without ``timeout``) in the window stops it with ``done_n = 1``: no bootstrap.
  A step that is itself a timeout (``k = 0``) has no target at all: it gets ``done_n = 1``
  (so a loss that forgets to mask it falls back to treating the cut as an ending) and the
  algorithm must drop it (``valid *= 1 - timeout``).

Everything is vectorised over the steps of an append and the environments; the only loop is
over ``k < n``.
"""

from __future__ import annotations

import numpy as np

from rlpyt.utils.buffer import build_array

__all__ = ["NStepReturns", "n_step_returns", "n_step_returns_tl"]


def _float_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


def _window_rows(rows: np.ndarray | slice, k: int, T: int) -> np.ndarray | slice:
    """Rows ``k`` steps after ``rows``: a slice stays a slice (the caller guarantees it does
    not run past the ring's end), an index array wraps mod ``T``."""
    if isinstance(rows, slice):
        return slice(rows.start + k, rows.stop + k)
    return (rows + k) % T


def n_step_returns(
    reward: np.ndarray,
    done: np.ndarray,
    rows: np.ndarray | slice,
    n_step: int,
    discount: float,
    dtype: np.dtype | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """n-step returns of the windows starting at ring rows ``rows``.

    Args:
        reward: ``[T, B]`` ring of rewards.
        done: ``[T, B]`` ring of done flags (bool or numeric).
        rows: ``[M]`` ring rows where windows start (window rows wrap mod ``T``), or a slice
            of rows whose windows all end before the ring does.
        n_step: n >= 1.
        discount: gamma.
        dtype: of the returns (default: reward's if floating, else float32).

    Returns:
        ``(return_, done_n)``: ``[M, B]`` float and ``[M, B]`` bool.
    """
    T = reward.shape[0]
    return_ = reward[rows].astype(dtype or _float_dtype(reward.dtype))
    done_n = done[rows].astype(bool)
    for k in range(1, n_step):
        rows_k = _window_rows(rows, k, T)
        return_ += (discount**k) * reward[rows_k] * ~done_n
        np.logical_or(done_n, done[rows_k], out=done_n)
    return return_, done_n


def n_step_returns_tl(
    reward: np.ndarray,
    done: np.ndarray,
    timeout: np.ndarray,
    rows: np.ndarray | slice,
    n_step: int,
    discount: float,
    dtype: np.dtype | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Time-limit-aware n-step returns of the windows starting at ``rows`` (module docstring).

    Args:
        reward: ``[T, B]`` ring of rewards.
        done: ``[T, B]`` ring of done flags (a timeout counts as done, set or not).
        timeout: ``[T, B]`` ring of timeout flags.
        rows: ``[M]`` ring rows where windows start, or a slice (as :func:`n_step_returns`).
        n_step: n >= 1.
        discount: gamma.
        dtype: of the returns (default: reward's if floating, else float32).

    Returns:
        ``(return_, done_n, timeout_n, n_eff)``: ``[M, B]`` float, bool, bool, int16;
        ``n_eff`` is the number of steps to the bootstrap observation (``n_step`` unless a
        timeout cut the window).
    """
    T = reward.shape[0]
    return_ = reward[rows].astype(dtype or _float_dtype(reward.dtype))
    done_n = done[rows].astype(bool) | timeout[rows].astype(bool)
    alive = ~done_n
    timeout_n = np.zeros_like(done_n)
    n_eff = np.full(done_n.shape, n_step, dtype=np.int16)
    for k in range(1, n_step):
        rows_k = _window_rows(rows, k, T)
        cut = alive & timeout[rows_k].astype(bool)
        timeout_n |= cut
        n_eff[cut] = k
        alive &= ~cut
        return_ += (discount**k) * reward[rows_k] * alive
        ended = alive & done[rows_k].astype(bool)
        done_n |= ended
        alive &= ~ended
    return return_, done_n, timeout_n, n_eff


class NStepReturns:
    """The n-step part of a replay buffer: rings of ``return_``, ``done_n`` (and, time-limit
    aware, ``timeout_n`` and ``n_eff``), filled as windows complete.

    After the cursor moves from ``t0`` to ``t1`` steps, the windows starting at unwrapped steps
    ``t0 - n + 1 .. t1 - n`` have all their ``n`` steps written; :meth:`update` computes those
    (never earlier ones, whose values stay put, nor the last ``n - 1``, still incomplete).
    Sampling never reads an incomplete window (:class:`rlpyt.replays.sampling.SlotWindow`).

    Args:
        T: ring length in steps.
        B: number of environments.
        n_step_return: n >= 1.
        discount: gamma.
        reward_dtype: dtype of stored rewards (``return_`` uses it if floating, else float32).
        done_dtype: dtype of stored done flags (``done_n`` uses it).
        time_limit: compute the time-limit-aware version (needs ``timeout`` in the samples).
        share_memory: allocate in shared memory.
    """

    def __init__(
        self,
        T: int,
        B: int,
        n_step_return: int,
        discount: float,
        reward_dtype: np.dtype = np.float32,
        done_dtype: np.dtype = np.bool_,
        time_limit: bool = False,
        share_memory: bool = False,
    ) -> None:
        if n_step_return < 1:
            raise ValueError(f"n_step_return must be >= 1; got {n_step_return}.")
        self.T = T
        self.n_step_return = int(n_step_return)
        self.discount = float(discount)
        self.time_limit = time_limit
        self.dtype = _float_dtype(np.dtype(reward_dtype))
        self.return_ = build_array(np.zeros((), self.dtype), (T, B), share_memory)
        self.done_n = build_array(np.zeros((), done_dtype), (T, B), share_memory)
        self.timeout_n = self.n_eff = None
        if time_limit:
            self.timeout_n = build_array(np.zeros((), bool), (T, B), share_memory)
            self.n_eff = build_array(np.zeros((), np.int16), (T, B), share_memory)
        # discount**k for k = 0..n as float32 (computed in float64): a batch's bootstrap
        # discounts are a lookup by n_eff.
        self.discount_powers = np.power(
            self.discount, np.arange(self.n_step_return + 1), dtype=np.float64
        ).astype(np.float32)

    def update(self, samples, t0: int, t1: int) -> None:
        """Compute the windows completed by the steps written in ``[t0, t1)``.

        Args:
            samples: the ring of stored samples (fields ``reward``, ``done``, and ``timeout``
                if time-limit aware), ``[T, B]`` each.
            t0: steps written before the append (unwrapped).
            t1: steps written after it.
        """
        n = self.n_step_return
        start, stop = max(t0 - n + 1, 0), t1 - n + 1
        if stop <= start:
            return
        first = start % self.T
        if first + (stop - start) + n - 1 <= self.T:  # no window crosses the ring's end
            rows = slice(first, first + stop - start)
        else:
            rows = np.arange(start, stop) % self.T
        if self.time_limit:
            ret, done_n, timeout_n, n_eff = n_step_returns_tl(
                samples.reward, samples.done, samples.timeout, rows, n, self.discount, self.dtype
            )
            self.timeout_n[rows] = timeout_n
            self.n_eff[rows] = n_eff
        else:
            ret, done_n = n_step_returns(
                samples.reward, samples.done, rows, n, self.discount, self.dtype
            )
        self.return_[rows] = ret
        self.done_n[rows] = done_n
