"""Prioritized sequence replay (R2D1): ``PrioritizedSequenceReplayBuffer`` and its async twin."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer

__all__ = ["AsyncPrioritizedSequenceReplayBuffer", "PrioritizedSequenceReplayBuffer"]


class PrioritizedSequenceReplayBuffer(BaseReplayBuffer):
    """Sequences drawn proportional to ``priority ** alpha``, one priority per stored RNN
    state (sequence start).

    ``batch_T`` is fixed at construction (the tree only holds starts whose whole sequence is
    present). ``sample_batch(batch_B)`` returns sequence ``SamplesFromReplayPri`` (with one
    ``is_weights`` per sequence); ``update_batch_priorities(priorities)`` takes ``[batch_B]``.
    With ``input_priorities=True`` append ``PrioritiesSamplesToBuffer(priorities, samples)``;
    R2D1 passes ``input_priority_shift = warmup_T // rnn_state_interval`` so a batch's
    priority lands on the sequence whose training part starts at the batch.

    Args:
        example, size, B, rnn_state_interval, discount, n_step_return: as
            ``UniformSequenceReplayBuffer``.
        batch_T: sequence length (required).
        alpha, beta, default_priority, unique, input_priorities, input_priority_shift: as
            ``PrioritizedReplayBuffer`` (the shift counts stored-state slots).
    """

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


class AsyncPrioritizedSequenceReplayBuffer(PrioritizedSequenceReplayBuffer):
    """``PrioritizedSequenceReplayBuffer`` in shared memory with a reader/writer lock."""

    async_ = True
