"""How many gradient updates one iteration of a replay-based algorithm makes."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any


class UpdateSchedule:
    """Spreads a replay ratio over iterations.

    ``replay_ratio`` counts trained samples per sampled env step, so an iteration of
    ``sampler_batch_size`` env steps calls for ``rate = replay_ratio * sampler_batch_size /
    batch_size`` updates of ``batch_size`` samples. At a rate of one or more, every learning
    iteration makes ``per_itr = round(rate)`` updates (rlpyt's rule). Below one, rlpyt still
    made one update per iteration, silently training ``1 / rate`` times more than asked; here
    learning iteration ``k`` (0 for the first) makes ``ceil((k + 1) * rate) - ceil(k * rate)``
    updates: one every ``1 / rate`` iterations on average, the first at ``k = 0``.

    Raises:
        ValueError: for a ratio or batch size that is not positive.
    """

    def __init__(self, replay_ratio: float, sampler_batch_size: int, batch_size: int) -> None:
        if not replay_ratio > 0 or sampler_batch_size < 1 or batch_size < 1:
            raise ValueError(
                f"replay_ratio ({replay_ratio}) must be > 0, and sampler_batch_size "
                f"({sampler_batch_size}) and batch_size ({batch_size}) >= 1"
            )
        ratio = Fraction(replay_ratio).limit_denominator(10**6)
        self.rate = ratio * sampler_batch_size / batch_size
        self.per_itr = max(1, round(self.rate))
        self.fractional = self.rate < 1

    def __call__(self, k: int) -> int:
        """Updates of learning iteration ``k`` (``itr - min_itr_learn``)."""
        if not self.fractional:
            return self.per_itr
        return math.ceil((k + 1) * self.rate) - math.ceil(k * self.rate)

    def describe(self) -> str:
        if self.fractional:
            return f"one update every {float(1 / self.rate):.3g} iterations"
        return f"{self.per_itr} updates per iteration"


def updates_this_itr(algo: Any, itr: int) -> int:
    """Updates ``algo`` makes at iteration ``itr``: its schedule's, or ``updates_per_optimize``
    when it has no fractional schedule (at least one per iteration, or the async runner's
    ``updates_per_sync`` per call)."""
    schedule = getattr(algo, "update_schedule", None)
    if schedule is None or not schedule.fractional:
        return algo.updates_per_optimize
    return schedule(itr - algo.min_itr_learn)
