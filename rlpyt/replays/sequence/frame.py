"""Sequence replay storing one frame per step (R2D1 on Atari): uniform, prioritized, async."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer

__all__ = [
    "AsyncPrioritizedSequenceReplayFrameBuffer",
    "AsyncUniformSequenceReplayFrameBuffer",
    "PrioritizedSequenceReplayFrameBuffer",
    "UniformSequenceReplayFrameBuffer",
]


class UniformSequenceReplayFrameBuffer(BaseReplayBuffer):
    """``UniformSequenceReplayBuffer`` with observations ``[n_frames, H, W]`` stored one frame
    per step and rebuilt (zeroed before episode starts) in ``all_observation``."""

    def __init__(
        self,
        example: Any,
        size: int,
        B: int,
        rnn_state_interval: int,
        batch_T: int | None = None,
        discount: float = 1,
        n_step_return: int = 1,
    ) -> None:
        super().__init__(
            example,
            size,
            B,
            discount,
            n_step_return,
            frames=True,
            sequence=True,
            rnn_state_interval=rnn_state_interval,
            batch_T=batch_T,
        )


class PrioritizedSequenceReplayFrameBuffer(BaseReplayBuffer):
    """``PrioritizedSequenceReplayBuffer`` with observations stored one frame per step."""

    def __init__(
        self,
        example: Any,
        size: int,
        B: int,
        rnn_state_interval: int,
        batch_T: int | None = None,
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
            sequence=True,
            rnn_state_interval=rnn_state_interval,
            batch_T=batch_T,
            prioritized=True,
            alpha=alpha,
            beta=beta,
            default_priority=default_priority,
            unique=unique,
            input_priorities=input_priorities,
            input_priority_shift=input_priority_shift,
        )


class AsyncUniformSequenceReplayFrameBuffer(UniformSequenceReplayFrameBuffer):
    """``UniformSequenceReplayFrameBuffer`` in shared memory with a reader/writer lock."""

    async_ = True


class AsyncPrioritizedSequenceReplayFrameBuffer(PrioritizedSequenceReplayFrameBuffer):
    """``PrioritizedSequenceReplayFrameBuffer`` in shared memory with a reader/writer lock."""

    async_ = True
