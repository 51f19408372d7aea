"""Fakes and brute-force references for the replay-buffer tests.

:class:`Stream` plays the part of a sampler: ``B`` envs producing Atari-like frame stacks (a
stack restarts as zeros plus one new frame after every ``done``, as ``AtariEnv`` does),
random rewards, random ``done``/``timeout`` flags, and identity-coded actions and RNN states
(``action = t * B + b``), so every sampled item says which step it came from. It keeps the
whole history, and the ``ref_*`` functions recompute every sampled quantity from it with
plain loops, independently of the buffer code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rlpyt.models.utils import RnnState
from rlpyt.replays.base import SamplesToBuffer, SamplesToBufferRnn, SamplesToBufferTl
from rlpyt.replays.non_sequence.frame import (
    AsyncPrioritizedReplayFrameBuffer,
    AsyncUniformReplayFrameBuffer,
    PrioritizedReplayFrameBuffer,
    UniformReplayFrameBuffer,
)
from rlpyt.replays.non_sequence.prioritized import (
    AsyncPrioritizedReplayBuffer,
    PrioritizedReplayBuffer,
)
from rlpyt.replays.non_sequence.time_limit import (
    AsyncTlPrioritizedReplayBuffer,
    AsyncTlUniformReplayBuffer,
    TlPrioritizedReplayBuffer,
    TlUniformReplayBuffer,
)
from rlpyt.replays.non_sequence.uniform import AsyncUniformReplayBuffer, UniformReplayBuffer
from rlpyt.replays.sequence.frame import (
    AsyncPrioritizedSequenceReplayFrameBuffer,
    AsyncUniformSequenceReplayFrameBuffer,
    PrioritizedSequenceReplayFrameBuffer,
    UniformSequenceReplayFrameBuffer,
)
from rlpyt.replays.sequence.prioritized import (
    AsyncPrioritizedSequenceReplayBuffer,
    PrioritizedSequenceReplayBuffer,
)
from rlpyt.replays.sequence.uniform import (
    AsyncUniformSequenceReplayBuffer,
    UniformSequenceReplayBuffer,
)

N_FRAMES = 4
FRAME_SHAPE = (2, 3)
B = 3
T_RING = 24  # steps per env in the test buffers
N_STEP = 3
DISCOUNT = 0.9
RNN_INTERVAL = 2
BATCH_T = 4


@dataclass(frozen=True)
class Spec:
    """One buffer class and what it is made of."""

    cls: type
    prioritized: bool = False
    frames: bool = False
    tl: bool = False
    sequence: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def async_(self) -> bool:
        return self.cls.async_

    @property
    def unit(self) -> int:
        return RNN_INTERVAL if self.sequence else 1

    @property
    def reach(self) -> int:
        """Steps a sample reads past its start."""
        return N_STEP + (BATCH_T - 1 if self.sequence else 0)

    @property
    def history(self) -> int:
        """Steps a sample reads before its start."""
        return N_FRAMES - 1 if self.frames else 1

    def make(self, **kwargs):
        args = dict(size=T_RING * B, B=B, discount=DISCOUNT, n_step_return=N_STEP)
        if self.sequence:
            args.update(rnn_state_interval=RNN_INTERVAL, batch_T=BATCH_T)
        args.update(self.extra)
        args.update(kwargs)
        return self.cls(example=example(self), **args)


_SYNC = [
    Spec(UniformReplayBuffer),
    Spec(PrioritizedReplayBuffer, prioritized=True),
    Spec(TlUniformReplayBuffer, tl=True),
    Spec(TlPrioritizedReplayBuffer, prioritized=True, tl=True),
    Spec(UniformReplayFrameBuffer, frames=True),
    Spec(PrioritizedReplayFrameBuffer, prioritized=True, frames=True),
    Spec(UniformSequenceReplayBuffer, sequence=True),
    Spec(PrioritizedSequenceReplayBuffer, prioritized=True, sequence=True),
    Spec(UniformSequenceReplayFrameBuffer, frames=True, sequence=True),
    Spec(PrioritizedSequenceReplayFrameBuffer, prioritized=True, frames=True, sequence=True),
]
_ASYNC = {
    UniformReplayBuffer: AsyncUniformReplayBuffer,
    PrioritizedReplayBuffer: AsyncPrioritizedReplayBuffer,
    TlUniformReplayBuffer: AsyncTlUniformReplayBuffer,
    TlPrioritizedReplayBuffer: AsyncTlPrioritizedReplayBuffer,
    UniformReplayFrameBuffer: AsyncUniformReplayFrameBuffer,
    PrioritizedReplayFrameBuffer: AsyncPrioritizedReplayFrameBuffer,
    UniformSequenceReplayBuffer: AsyncUniformSequenceReplayBuffer,
    PrioritizedSequenceReplayBuffer: AsyncPrioritizedSequenceReplayBuffer,
    UniformSequenceReplayFrameBuffer: AsyncUniformSequenceReplayFrameBuffer,
    PrioritizedSequenceReplayFrameBuffer: AsyncPrioritizedSequenceReplayFrameBuffer,
}
ASYNC_SPECS = [
    Spec(_ASYNC[s.cls], s.prioritized, s.frames, s.tl, s.sequence, s.extra) for s in _SYNC
]
ALL_SPECS = _SYNC + ASYNC_SPECS
SPEC_BY_NAME = {s.name: s for s in ALL_SPECS}


def example(spec: Spec):
    """One step of what the spec's buffer is fed."""
    base = dict(
        observation=np.zeros((N_FRAMES, *FRAME_SHAPE), np.uint8),
        action=np.int64(0),
        reward=np.float32(0),
        done=False,
    )
    if spec.tl:
        return SamplesToBufferTl(**base, timeout=False)
    if spec.sequence:
        rnn = RnnState(h=np.zeros((1, 2), np.float32), c=np.zeros((1, 2), np.float32))
        return SamplesToBufferRnn(**base, prev_rnn_state=rnn)
    return SamplesToBuffer(**base)


class Stream:
    """A fake sampler for ``spec``'s buffers, keeping the full history (see module doc)."""

    def __init__(self, spec: Spec, seed: int = 0, p_done: float = 0.15, p_timeout: float = 0.5):
        self.spec = spec
        self.rng = np.random.default_rng(seed)
        self.p_done = p_done
        self.p_timeout = p_timeout if spec.tl else 0.0
        self.t = 0
        self.stack = np.zeros((B, N_FRAMES, *FRAME_SHAPE), np.uint8)
        self.stack[:, -1] = self._frames()
        self.obs, self.action, self.reward, self.done, self.timeout = [], [], [], [], []

    def _frames(self) -> np.ndarray:
        return self.rng.integers(1, 256, size=(B, *FRAME_SHAPE), dtype=np.uint8)

    def batch(self, T: int):
        """The next ``[T, B]`` samples, in the spec's ``SamplesToBuffer`` type."""
        obs = np.zeros((T, B, N_FRAMES, *FRAME_SHAPE), np.uint8)
        done = self.rng.random((T, B)) < self.p_done
        timeout = done & (self.rng.random((T, B)) < self.p_timeout)
        reward = self.rng.normal(size=(T, B)).astype(np.float32)
        action = (np.arange(self.t, self.t + T)[:, None] * B + np.arange(B)).astype(np.int64)
        for k in range(T):
            obs[k] = self.stack
            new = self._frames()
            d = done[k]
            self.stack[~d, :-1] = self.stack[~d, 1:]
            self.stack[d] = 0
            self.stack[:, -1] = new
        self.t += T
        for hist, x in zip(
            (self.obs, self.action, self.reward, self.done, self.timeout),
            (obs, action, reward, done, timeout),
        ):
            hist.append(x)
        base = dict(observation=obs, action=action, reward=reward, done=done)
        if self.spec.tl:
            return SamplesToBufferTl(**base, timeout=timeout)
        if self.spec.sequence:
            ident = action.astype(np.float32)[..., None, None] * np.ones((1, 2), np.float32)
            return SamplesToBufferRnn(**base, prev_rnn_state=RnnState(h=ident, c=-ident))
        return SamplesToBuffer(**base)

    def history(self):
        """``(obs, action, reward, done, timeout)``, each ``[t, B, ...]`` over all steps."""
        return tuple(
            np.concatenate(h) for h in (self.obs, self.action, self.reward, self.done, self.timeout)
        )


def fill(buffer, stream: Stream, n_batches: int, T: int = 5) -> None:
    for _ in range(n_batches):
        buffer.append_samples(stream.batch(T))


# ------------------------------------------------------------------------------------------
# References, by plain loops over the history


def ref_n_step(hist, s: int, b: int, tl: bool, n: int = N_STEP, discount: float = DISCOUNT):
    """``(return_, done_n, timeout_n, n_eff)`` of the window starting at step ``s``."""
    _, _, reward, done, timeout = hist
    ret = float(reward[s, b])
    if tl and timeout[s, b]:
        return ret, True, False, n
    if done[s, b]:
        return ret, True, False, n
    for k in range(1, n):
        if tl and timeout[s + k, b]:
            return ret, False, True, k
        ret += discount**k * float(reward[s + k, b])
        if done[s + k, b]:
            return ret, True, False, n
    return ret, False, False, n


def ref_agent_inputs(hist, u: int, b: int):
    """``(observation, prev_action, prev_reward)`` the sampler fed the agent at step ``u``."""
    obs, action, reward, done, _ = hist
    if u == 0 or done[u - 1, b]:
        return obs[u, b], 0, 0.0
    return obs[u, b], int(action[u - 1, b]), float(reward[u - 1, b])


def valid_starts(spec: Spec, t: int, T_ring: int = T_RING) -> set[int]:
    """Unwrapped steps a sample may start at after ``t`` steps per env were written."""
    lo = max(t - T_ring + spec.history, 0)
    hi = t - spec.reach  # exclusive
    return {s for s in range(lo, hi) if s % spec.unit == 0}
