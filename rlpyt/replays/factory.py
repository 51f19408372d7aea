"""`make_replay_buffer`: the replay buffer an algorithm asks for by its parts."""

from __future__ import annotations

from typing import Any

from rlpyt.replays.base import BaseReplayBuffer
from rlpyt.replays.non_sequence import frame, prioritized, time_limit, uniform

__all__ = ["make_replay_buffer"]

# (frames, time_limit, prioritized) -> (sync class, async class)
_NAMED: dict[tuple[bool, bool, bool], tuple[type, type]] = {
    (False, False, False): (uniform.UniformReplayBuffer, uniform.AsyncUniformReplayBuffer),
    (False, False, True): (
        prioritized.PrioritizedReplayBuffer,
        prioritized.AsyncPrioritizedReplayBuffer,
    ),
    (False, True, False): (
        time_limit.TlUniformReplayBuffer,
        time_limit.AsyncTlUniformReplayBuffer,
    ),
    (False, True, True): (
        time_limit.TlPrioritizedReplayBuffer,
        time_limit.AsyncTlPrioritizedReplayBuffer,
    ),
    (True, False, False): (frame.UniformReplayFrameBuffer, frame.AsyncUniformReplayFrameBuffer),
    (True, False, True): (
        frame.PrioritizedReplayFrameBuffer,
        frame.AsyncPrioritizedReplayFrameBuffer,
    ),
}


class _ComposedReplayBuffer(BaseReplayBuffer):
    """A combination of parts rlpyt had no class name for (time-limit-aware frame buffers)."""


class _AsyncComposedReplayBuffer(BaseReplayBuffer):
    """:class:`_ComposedReplayBuffer` in shared memory with a reader/writer lock."""

    async_ = True


def make_replay_buffer(
    ReplayBufferCls: type | None,
    *,
    frames: bool,
    time_limit: bool,
    prioritized: bool,
    async_: bool = False,
    **kwargs: Any,
) -> BaseReplayBuffer:
    """``ReplayBufferCls(**kwargs)`` when given, else the rlpyt class with this storage
    (``frames``: one frame per step), time-limit handling and sampling strategy.

    Args:
        ReplayBufferCls: a class chosen by the user (wins), or ``None``.
        frames, time_limit, prioritized: the parts.
        async_: shared memory and a reader/writer lock (the async runner).
        **kwargs: the buffer's constructor arguments (``example``, ``size``, ``B``,
            ``discount``, ``n_step_return``, and for prioritized buffers ``alpha``, ``beta``,
            ``default_priority``, ...).
    """
    if ReplayBufferCls is not None:
        return ReplayBufferCls(**kwargs)
    named = _NAMED.get((bool(frames), bool(time_limit), bool(prioritized)))
    if named is not None:
        return named[bool(async_)](**kwargs)
    Cls = _AsyncComposedReplayBuffer if async_ else _ComposedReplayBuffer
    return Cls(frames=frames, time_limit=time_limit, prioritized=prioritized, **kwargs)
