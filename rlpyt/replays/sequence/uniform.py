"""Uniform sequence replay for recurrent agents: ``UniformSequenceReplayBuffer``, async twin."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer

__all__ = ["AsyncUniformSequenceReplayBuffer", "UniformSequenceReplayBuffer"]


class UniformSequenceReplayBuffer(BaseReplayBuffer):
    """Sequences drawn uniformly, starting where an RNN state was stored.

    Append ``SamplesToBufferRnn`` (``prev_rnn_state`` from ``agent_info``); the state is kept
    every ``rnn_state_interval`` steps and sequences start only there.
    ``sample_batch(batch_B, batch_T=None)`` returns sequence ``SamplesFromReplay``
    (``rlpyt.replays.sequence.n_step``): ``all_observation``/``all_action``/``all_reward``
    ``[batch_T + n_step_return, batch_B]``, ``return_``/``done``/``done_n``
    ``[batch_T, batch_B]`` and ``init_rnn_state``.

    Args:
        example: one step of what will be appended (``SamplesToBufferRnn``, or
            ``SamplesToBuffer`` with ``rnn_state_interval=0``).
        size: capacity in steps over all environments (per env rounded up to a multiple of
            ``rnn_state_interval``).
        B: number of environments per appended batch.
        rnn_state_interval: keep the RNN state every this many steps (1: every step; 0: never,
            then ``init_rnn_state`` is ``None`` and sequences start anywhere).
        batch_T: default sequence length of ``sample_batch``.
        discount: gamma of the n-step returns.
        n_step_return: n.
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
        )


class AsyncUniformSequenceReplayBuffer(UniformSequenceReplayBuffer):
    """``UniformSequenceReplayBuffer`` in shared memory with a reader/writer lock."""

    async_ = True
