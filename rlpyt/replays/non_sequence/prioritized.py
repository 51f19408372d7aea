"""Prioritized single-step replay: ``PrioritizedReplayBuffer`` and its async twin."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer

__all__ = ["AsyncPrioritizedReplayBuffer", "PrioritizedReplayBuffer"]


class PrioritizedReplayBuffer(BaseReplayBuffer):
    """Single steps drawn proportional to ``priority ** alpha`` (Schaul et al. 2016).

    ``sample_batch(batch_B)`` returns ``SamplesFromReplayPri`` (with ``is_weights``); call
    ``update_batch_priorities(priorities)`` after the update with the new priorities of that
    batch (e.g. absolute TD errors), and ``set_beta(beta)`` to anneal beta.

    Args:
        example: one step of what will be appended (``SamplesToBuffer``).
        size: capacity in steps over all environments.
        B: number of environments per appended batch.
        discount: gamma of the n-step returns.
        n_step_return: n.
        alpha: priority exponent.
        beta: importance-weight exponent.
        default_priority: priority of newly appended steps.
        unique: no repeated steps within a batch.
        input_priorities: take priorities with appended samples
            (``PrioritiesSamplesToBuffer``).
        input_priority_shift: slots between a step and the slot its input priority is for.
    """

    def __init__(
        self,
        example: Any,
        size: int,
        B: int,
        discount: float = 1,
        n_step_return: int = 1,
        alpha: float = 0.6,
        beta: float = 0.4,
        default_priority: float = 1,
        unique: bool = False,
        input_priorities: bool = False,
        input_priority_shift: int = 0,
    ) -> None:
        super().__init__(
            example,
            size,
            B,
            discount,
            n_step_return,
            prioritized=True,
            alpha=alpha,
            beta=beta,
            default_priority=default_priority,
            unique=unique,
            input_priorities=input_priorities,
            input_priority_shift=input_priority_shift,
        )


class AsyncPrioritizedReplayBuffer(PrioritizedReplayBuffer):
    """``PrioritizedReplayBuffer`` in shared memory with a reader/writer lock."""

    async_ = True
