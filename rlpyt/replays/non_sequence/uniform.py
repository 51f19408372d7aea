"""Uniform single-step replay: ``UniformReplayBuffer`` and its async twin."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer

__all__ = ["AsyncUniformReplayBuffer", "UniformReplayBuffer"]


class UniformReplayBuffer(BaseReplayBuffer):
    """Single steps drawn uniformly, with n-step returns; whole observations stored.

    ``sample_batch(batch_B)`` returns ``SamplesFromReplay`` (``rlpyt.replays.non_sequence.
    n_step``). Used by DQN-family and Q-policy-gradient algorithms.

    Args:
        example: one step of what will be appended (``SamplesToBuffer``).
        size: capacity in steps over all environments (``ceil(size / B)`` per env).
        B: number of environments per appended batch.
        discount: gamma of the n-step returns.
        n_step_return: n.
    """

    def __init__(
        self, example: Any, size: int, B: int, discount: float = 1, n_step_return: int = 1
    ) -> None:
        super().__init__(example, size, B, discount, n_step_return)


class AsyncUniformReplayBuffer(UniformReplayBuffer):
    """``UniformReplayBuffer`` in shared memory with a reader/writer lock (async runner)."""

    async_ = True
