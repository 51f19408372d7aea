"""Time-limit-aware single-step replay: truncated episodes bootstrap (``Tl...`` buffers).

Append ``SamplesToBufferTl`` (with ``timeout = env_info.timeout``). The n-step window stops
at a timeout and the target bootstraps from the state at the timeout step with
``bootstrap_discount = discount**k``; a sampled step that is itself a timeout has no target
and must be masked (``valid = 1 - timeout``). See ``rlpyt.replays.n_step`` and
``SamplesFromReplayTL``.
"""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer
from rlpyt.replays.non_sequence.n_step import SamplesFromReplayPriTL, SamplesFromReplayTL

__all__ = [
    "AsyncTlPrioritizedReplayBuffer",
    "AsyncTlUniformReplayBuffer",
    "SamplesFromReplayPriTL",
    "SamplesFromReplayTL",
    "TlPrioritizedReplayBuffer",
    "TlUniformReplayBuffer",
]


class TlUniformReplayBuffer(BaseReplayBuffer):
    """``UniformReplayBuffer`` with time-limit-aware n-step returns.

    ``sample_batch(batch_B)`` returns ``SamplesFromReplayTL``: ``SamplesFromReplay`` plus
    ``timeout``, ``timeout_n``, ``bootstrap_discount``. Same arguments as
    ``UniformReplayBuffer``; the example needs a ``timeout`` field.
    """

    def __init__(
        self, example: Any, size: int, B: int, discount: float = 1, n_step_return: int = 1
    ) -> None:
        super().__init__(example, size, B, discount, n_step_return, time_limit=True)


class TlPrioritizedReplayBuffer(BaseReplayBuffer):
    """``PrioritizedReplayBuffer`` with time-limit-aware n-step returns.

    ``sample_batch(batch_B)`` returns ``SamplesFromReplayPriTL``. Same arguments as
    ``PrioritizedReplayBuffer``; the example needs a ``timeout`` field.
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
            time_limit=True,
            prioritized=True,
            alpha=alpha,
            beta=beta,
            default_priority=default_priority,
            unique=unique,
            input_priorities=input_priorities,
            input_priority_shift=input_priority_shift,
        )


class AsyncTlUniformReplayBuffer(TlUniformReplayBuffer):
    """``TlUniformReplayBuffer`` in shared memory with a reader/writer lock."""

    async_ = True


class AsyncTlPrioritizedReplayBuffer(TlPrioritizedReplayBuffer):
    """``TlPrioritizedReplayBuffer`` in shared memory with a reader/writer lock."""

    async_ = True
