"""The replay buffer interface and its one implementation, composed of storage, n-step returns
and a sampling strategy; the ``SamplesToBuffer`` types algorithms append.

Who calls it: off-policy algorithms (DQN, R2D1, SAC, ...) build a buffer in ``initialize``
from an example of what they will append, call :meth:`BaseReplayBuffer.append_samples` once
per sampler batch and :meth:`BaseReplayBuffer.sample_batch` for every update (and
``update_batch_priorities`` after it, for prioritized buffers). The async runner shares an
``Async...`` buffer between the sampling side (appends) and the optimiser (samples).

Every class of rlpyt's replay API (``UniformReplayBuffer``, ``PrioritizedReplayFrameBuffer``,
``AsyncPrioritizedSequenceReplayFrameBuffer``, ...) is :class:`BaseReplayBuffer` with a
choice of parts, made by its constructor:

* observation storage: whole observations (:class:`~rlpyt.replays.storage.PlainObservations`)
  or one frame per step (:class:`~rlpyt.replays.frame.FrameObservations`);
* n-step returns computed on append (:class:`~rlpyt.replays.n_step.NStepReturns`), plain or
  time-limit aware;
* sampling strategy: :class:`~rlpyt.replays.sampling.UniformSampler` or
  :class:`~rlpyt.replays.sampling.PrioritizedSampler` (sum tree);
* batch layout: single steps (``rlpyt.replays.non_sequence.n_step``) or sequences with a
  stored RNN state (``rlpyt.replays.sequence.n_step``);
* async: shared memory and a reader/writer lock (``rlpyt.replays.async_``).

See ``docs/replays.md`` for the design.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from rlpyt.replays.async_ import make_replay_lock
from rlpyt.replays.frame import FrameObservations
from rlpyt.replays.n_step import NStepReturns
from rlpyt.replays.non_sequence.n_step import extract_batch
from rlpyt.replays.sampling import PrioritizedSampler, SlotWindow, UniformSampler
from rlpyt.replays.sequence.n_step import extract_sequence_batch
from rlpyt.replays.storage import PlainObservations, nbytes, ring_write
from rlpyt.replays.sum_tree import SumTree
from rlpyt.utils.buffer import (
    buffer_from_example,
    build_array,
    get_leading_dims,
    numpify_buffer,
    torchify_buffer,
)
from rlpyt.utils.collections import namedarraytuple

__all__ = [
    "BaseReplayBuffer",
    "PrioritiesSamplesToBuffer",
    "SamplesToBuffer",
    "SamplesToBufferRnn",
    "SamplesToBufferTl",
    "examples_to_buffer",
    "samples_to_buffer",
]

SamplesToBuffer = namedarraytuple("SamplesToBuffer", ["observation", "action", "reward", "done"])
"""What off-policy algorithms append, ``[T, B]`` leaves: ``observation[t]`` the agent acted on
at step ``t``, ``action[t]`` taken there, ``reward[t]`` and ``done[t]`` returned by that step.
Frame buffers take ``observation`` ``[T, B, n_frames, H, W]`` and keep its newest frame."""

SamplesToBufferTl = namedarraytuple("SamplesToBufferTl", SamplesToBuffer._fields + ("timeout",))
"""``SamplesToBuffer`` plus ``timeout[t]`` (``env_info.timeout``): the step was cut by a time
limit, not terminated. For the time-limit-aware (``Tl...``) buffers."""

SamplesToBufferRnn = namedarraytuple(
    "SamplesToBufferRnn", SamplesToBuffer._fields + ("prev_rnn_state",)
)
"""``SamplesToBuffer`` plus ``prev_rnn_state[t]`` (``agent_info.prev_rnn_state``, batch-major
``[T, B, N_layers, H]`` per leaf): the recurrent state the agent started step ``t`` from.
Sequence buffers keep it every ``rnn_state_interval`` steps."""

PrioritiesSamplesToBuffer = namedarraytuple("PrioritiesSamplesToBuffer", ["priorities", "samples"])
"""Samples with their input priorities (``[T, B]``, ``[B]`` or a scalar), for prioritized
buffers built with ``input_priorities=True`` (R2D1)."""


def examples_to_buffer(examples: dict[str, Any], time_limit: bool) -> Any:
    """One step of what :func:`samples_to_buffer` makes, from a sampler's ``examples`` dict
    (for allocating a replay): ``SamplesToBuffer``, or ``SamplesToBufferTl`` with
    ``time_limit``."""
    fields = dict(
        observation=examples["observation"],
        action=examples["action"],
        reward=examples["reward"],
        done=examples["done"],
    )
    if time_limit:
        return SamplesToBufferTl(**fields, timeout=examples["env_info"].timeout)
    return SamplesToBuffer(**fields)


def samples_to_buffer(samples: Any, time_limit: bool) -> Any:
    """The fields of a sampler batch (``Samples``, ``[T, B]`` leaves) a replay keeps; with
    ``time_limit`` also ``env_info.timeout``. No copies: views of the samples buffer."""
    fields = dict(
        observation=samples.env.observation,
        action=samples.agent.action,
        reward=samples.env.reward,
        done=samples.env.done,
    )
    if time_limit:
        return SamplesToBufferTl(**fields, timeout=samples.env.env_info.timeout)
    return SamplesToBuffer(**fields)


def _is_with_priorities(samples: Any) -> bool:
    fields = getattr(samples, "_fields", ())
    return "priorities" in fields and "samples" in fields


class BaseReplayBuffer:
    """A ``[T, B]`` replay ring: appends sampler batches, samples training batches.

    Layout: ``T = ceil(size / B)`` steps per environment (rounded up to a multiple of
    ``rnn_state_interval`` for sequence buffers), written one sampler batch at a time at a
    cursor that wraps around. A sample is only ever drawn where everything it reads (its
    history before, its n-step window and target, or its sequence) is present and not being
    overwritten (:class:`rlpyt.replays.sampling.SlotWindow`).

    The named classes (``UniformReplayBuffer`` and the rest) call this constructor with their
    parts; build those rather than this class.

    Args:
        example: one step of what will be appended (e.g. ``SamplesToBuffer`` with array or
            scalar leaves, no leading dims).
        size: total capacity in steps over all environments.
        B: number of environments (columns) of every appended batch.
        discount: gamma of the n-step returns.
        n_step_return: n of the n-step returns.
        frames: store observations ``[n_frames, ...]`` as one frame per step.
        time_limit: time-limit-aware n-step returns; ``example`` must have ``timeout``.
        sequence: sample sequences (``batch_T`` steps plus ``n_step_return`` more).
        rnn_state_interval: sequences only: keep ``prev_rnn_state`` every this many steps and
            start sequences only there; 0 keeps none (``init_rnn_state`` is ``None``).
        batch_T: sequences only: default sequence length (required when prioritized).
        prioritized: sample by priority (below) instead of uniformly.
        alpha, beta, default_priority, unique, input_priorities, input_priority_shift: see
            :class:`rlpyt.replays.sampling.PrioritizedSampler`.
    """

    async_ = False

    def __init__(
        self,
        example: Any,
        size: int,
        B: int,
        discount: float = 1.0,
        n_step_return: int = 1,
        *,
        frames: bool = False,
        time_limit: bool = False,
        sequence: bool = False,
        rnn_state_interval: int = 0,
        batch_T: int | None = None,
        prioritized: bool = False,
        alpha: float = 0.6,
        beta: float = 0.4,
        default_priority: float = 1.0,
        unique: bool = False,
        input_priorities: bool = False,
        input_priority_shift: int = 0,
    ) -> None:
        if sequence and time_limit:
            raise ValueError("time-limit-aware sequence buffers are not implemented.")
        if B < 1 or size < B:
            raise ValueError(f"need B >= 1 and size >= B; got size={size}, B={B}.")
        if rnn_state_interval < 0:
            raise ValueError(f"rnn_state_interval must be >= 0; got {rnn_state_interval}.")
        share = self.async_
        self.sequence = sequence
        self.rnn_state_interval = int(rnn_state_interval) if sequence else 0
        self.unit = max(self.rnn_state_interval, 1)
        self.T = math.ceil(math.ceil(size / B) / self.unit) * self.unit
        self.B = int(B)
        self.size = self.T * self.B
        self.discount = float(discount)
        self.n_step_return = int(n_step_return)
        self.batch_T = None if batch_T is None else int(batch_T)
        self.time_limit = time_limit
        if time_limit and "timeout" not in example._fields:
            raise ValueError("time-limit-aware buffers need a 'timeout' field in the example.")

        # Storage: observations, the other per-step fields, RNN states, n-step returns.
        ObsCls = FrameObservations if frames else PlainObservations
        self.observations = ObsCls(example.observation, self.T, self.B, share)
        kept = {"observation": None}
        self.rnn_states = None
        if "prev_rnn_state" in example._fields:
            kept["prev_rnn_state"] = None
            if sequence and self.rnn_state_interval > 0:
                self.rnn_states = buffer_from_example(
                    example.prev_rnn_state, (self.T // self.unit, self.B), share
                )
        self.samples = buffer_from_example(example._replace(**kept), (self.T, self.B), share)
        self.n_step = NStepReturns(
            self.T,
            self.B,
            n_step_return,
            discount,
            reward_dtype=self.samples.reward.dtype,
            done_dtype=self.samples.done.dtype,
            time_limit=time_limit,
            share_memory=share,
        )

        # Sampling strategy over the valid sample starts.
        if sequence and prioritized and self.batch_T is None:
            raise ValueError("prioritized sequence buffers need batch_T (fixed) at construction.")
        self.window = self._window(self.batch_T if sequence else None)
        if prioritized:
            self.sampler = PrioritizedSampler(
                self.window,
                self.B,
                alpha=alpha,
                beta=beta,
                default_priority=default_priority,
                unique=unique,
                input_priorities=input_priorities,
                input_priority_shift=input_priority_shift,
                share_memory=share,
            )
        else:
            self.sampler = UniformSampler(self.window, self.B)

        # Steps written so far (unwrapped); in shared memory for async buffers.
        self._cursor = build_array(np.int64(0), (1,), share)
        self.rw_lock = make_replay_lock() if self.async_ else None

    # ------------------------------------------------------------------------------------------
    # Public interface

    def append_samples(self, samples: Any) -> tuple[int, np.ndarray]:
        """Write one batch at the cursor and compute the n-step returns it completes.

        Args:
            samples: like the example with leading dims ``[T, B]`` (NumPy or CPU torch), or
                ``PrioritiesSamplesToBuffer(priorities, samples)`` for input priorities.

        Returns:
            ``(T, idxs)``: the number of steps written and their ring rows, ``[T]``.
        """
        priorities = None
        if _is_with_priorities(samples):
            priorities, samples = numpify_buffer(samples.priorities), samples.samples
            if not self.sampler.prioritized:
                raise ValueError("input priorities given to a uniform replay buffer.")
        samples = numpify_buffer(samples)
        T, B = samples.reward.shape[:2]
        if B != self.B or not 0 < T <= self.T:
            raise ValueError(
                f"append_samples: batch of [T, B] = [{T}, {B}] does not fit a ring of "
                f"[{self.T}, {self.B}]."
            )
        with self._writing():
            t0 = int(self._cursor[0])
            t = t0 % self.T
            ring_write(self.samples, t, samples, n=T)
            self.observations.write(t, samples.observation)
            if self.rnn_states is not None:
                self._write_rnn_states(t0, samples.prev_rnn_state)
            self.n_step.update(self.samples, t0, t0 + T)
            self.sampler.advance(t0, t0 + T, priorities)
            self._cursor[0] = t0 + T
        return T, np.arange(t, t + T) % self.T

    def sample_batch(self, batch_B: int, batch_T: int | None = None) -> Any:
        """Draw a training batch, as torch tensors (fresh copies).

        Args:
            batch_B: number of samples (sequences, for sequence buffers).
            batch_T: sequence buffers only: sequence length (default: the constructor's).

        Returns:
            A ``SamplesFromReplay`` namedarraytuple of the buffer's kind; see
            ``rlpyt.replays.non_sequence.n_step`` and ``rlpyt.replays.sequence.n_step``.
        """
        if self.sequence:
            batch_T = self.batch_T if batch_T is None else int(batch_T)
            if batch_T is None or batch_T < 1:
                raise ValueError("sample_batch needs batch_T >= 1 (here or at construction).")
            window = self.window if batch_T == self.batch_T else self._window(batch_T)
        elif batch_T is not None:
            raise ValueError("batch_T is for sequence replay buffers.")
        else:
            window = self.window
        with self._reading():
            t = int(self._cursor[0])
            slots, B_idxs, is_weights = self.sampler.sample(t, batch_B, window)
            T_idxs = slots * self.unit
            if self.sequence:
                batch = extract_sequence_batch(self, T_idxs, B_idxs, batch_T, is_weights)
            else:
                batch = extract_batch(self, T_idxs, B_idxs, is_weights)
        return torchify_buffer(batch)

    def update_batch_priorities(self, priorities: Any) -> None:
        """Prioritized buffers: new priorities (``[batch_B]``, e.g. absolute TD errors) for
        the samples of the latest ``sample_batch`` in this process."""
        if not self.sampler.prioritized:
            raise TypeError(f"{type(self).__name__} is not prioritized.")
        priorities = numpify_buffer(priorities)
        with self._writing():
            self.sampler.update_batch_priorities(int(self._cursor[0]), priorities)

    def set_beta(self, beta: float) -> None:
        """Prioritized buffers: set the importance-weight exponent."""
        if not self.sampler.prioritized:
            raise TypeError(f"{type(self).__name__} is not prioritized.")
        self.sampler.set_beta(beta)

    # ------------------------------------------------------------------------------------------
    # State, for algorithms, tests and diagnostics

    @property
    def t(self) -> int:
        """Ring row the next append starts at."""
        return int(self._cursor[0]) % self.T

    @property
    def steps_written(self) -> int:
        """Steps per environment appended so far (not wrapped)."""
        return int(self._cursor[0])

    @property
    def _buffer_full(self) -> bool:
        return int(self._cursor[0]) >= self.T

    @property
    def samples_return_(self) -> np.ndarray:
        """``[T, B]`` ring of n-step returns."""
        return self.n_step.return_

    @property
    def samples_done_n(self) -> np.ndarray:
        """``[T, B]`` ring of n-step done flags."""
        return self.n_step.done_n

    @property
    def priority_tree(self) -> SumTree | None:
        """The sum tree of a prioritized buffer (``None`` for uniform ones)."""
        return getattr(self.sampler, "tree", None)

    @property
    def n_frames(self) -> int | None:
        """Frames per observation of a frame buffer (``None`` otherwise)."""
        return getattr(self.observations, "n_frames", None)

    @property
    def nbytes(self) -> int:
        """Bytes of all arrays the buffer holds."""
        total = self.observations.nbytes + nbytes(self.samples) + nbytes(self.rnn_states)
        n = self.n_step
        total += nbytes(n.return_) + nbytes(n.done_n) + nbytes(n.timeout_n) + nbytes(n.n_eff)
        if self.sampler.prioritized:
            total += self.sampler.tree.tree.nbytes + nbytes(self.sampler.input_values)
        return total + self._cursor.nbytes

    # ------------------------------------------------------------------------------------------
    # Internals

    def _window(self, batch_T: int | None) -> SlotWindow:
        # A sample reads n_step_return steps past its (last) step, for the target, and one
        # step before it (prev_action), or n_frames - 1 for frame stacks.
        reach = self.n_step_return + (0 if batch_T is None else batch_T - 1)
        back = max(1, self.observations.off_forward)
        return SlotWindow(self.T, self.unit, reach, back)

    def _write_rnn_states(self, t0: int, prev_rnn_state: Any) -> None:
        T = get_leading_dims(prev_rnn_state, 1)[0]
        u = self.unit
        k = np.arange(-t0 % u, T, u)  # the appended steps that start a slot
        if k.size:
            self.rnn_states[((t0 + k) % self.T) // u] = prev_rnn_state[k]

    def _reading(self):
        return self.rw_lock.reading() if self.rw_lock is not None else contextlib.nullcontext()

    def _writing(self):
        return self.rw_lock.writing() if self.rw_lock is not None else contextlib.nullcontext()
