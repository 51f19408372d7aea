"""Single-step replay storing one frame per step (Atari): uniform, prioritized, async twins."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer

__all__ = [
    "AsyncPrioritizedReplayFrameBuffer",
    "AsyncUniformReplayFrameBuffer",
    "PrioritizedReplayFrameBuffer",
    "UniformReplayFrameBuffer",
]


class UniformReplayFrameBuffer(BaseReplayBuffer):
    """``UniformReplayBuffer`` for stacked-frame observations, stored one frame per step.

    The example observation is ``[n_frames, H, W]`` (oldest first); appended observations
    ``[T, B, n_frames, H, W]`` keep only their newest frame, and sampled observations are
    rebuilt, with frames from before an episode's start zeroed (``rlpyt.replays.frame``).
    Same arguments and batches as ``UniformReplayBuffer``.
    """

    def __init__(
        self, example: Any, size: int, B: int, discount: float = 1, n_step_return: int = 1
    ) -> None:
        super().__init__(example, size, B, discount, n_step_return, frames=True)


class PrioritizedReplayFrameBuffer(BaseReplayBuffer):
    """``PrioritizedReplayBuffer`` for stacked-frame observations, stored one frame per step.

    Same arguments and batches as ``PrioritizedReplayBuffer``; storage as
    ``UniformReplayFrameBuffer``.
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
            frames=True,
            prioritized=True,
            alpha=alpha,
            beta=beta,
            default_priority=default_priority,
            unique=unique,
            input_priorities=input_priorities,
            input_priority_shift=input_priority_shift,
        )


class AsyncUniformReplayFrameBuffer(UniformReplayFrameBuffer):
    """``UniformReplayFrameBuffer`` in shared memory with a reader/writer lock."""

    async_ = True


class AsyncPrioritizedReplayFrameBuffer(PrioritizedReplayFrameBuffer):
    """``PrioritizedReplayFrameBuffer`` in shared memory with a reader/writer lock."""

    async_ = True
