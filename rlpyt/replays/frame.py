"""Frame-deduplicating observation storage for stacked-frame observations (Atari).

An Atari observation stacks the last ``n_frames`` frames, ``[n_frames, H, W]``, so
consecutive observations share ``n_frames - 1`` frames. Storing whole observations costs
``n_frames`` frames per step; this store keeps only the newest frame of each step and rebuilds
the stacks when sampling, so a step costs one frame.

Layout: ``frames`` is ``[T + n_frames - 1, B, H, W]``; step ``t`` of the ring (``0 <= t < T``)
keeps its newest frame in row ``t + n_frames - 1``, and the first ``n_frames - 1`` rows repeat
the ring's last ``n_frames - 1`` steps (written at the same time), so the stack of step ``t``
is the contiguous rows ``t .. t + n_frames - 1`` even where the ring wraps.

Resets: after an env step with ``done`` the environment starts a new stack of zeros plus the
first frame (as ``AtariEnv`` and rlpyt's original frame buffer do). When rebuilding a stack,
every frame at or before a step with ``done`` is therefore set to zero.

The history a stack reads (``n_frames - 1`` steps before it) must not have been overwritten:
the buffers keep samples at least ``n_frames - 1`` steps ahead of the write cursor
(``off_forward``, :class:`rlpyt.replays.sampling.SlotWindow`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.replays.storage import ring_write
from rlpyt.utils.buffer import build_array

__all__ = ["FrameObservations"]


class FrameObservations:
    """Observations ``[n_frames, *frame_shape]`` stored as one frame per step.

    Args:
        example: one observation, ``[n_frames, *frame_shape]`` (oldest frame first).
        T: ring length.
        B: number of environments.
        share_memory: allocate in shared memory.
    """

    def __init__(self, example: Any, T: int, B: int, share_memory: bool = False) -> None:
        example = np.asarray(example)
        if example.ndim < 2:
            raise ValueError(
                f"frame buffers need observations [n_frames, *frame_shape]; got shape "
                f"{example.shape}."
            )
        self.T = T
        self.n_frames = int(example.shape[0])
        self.frame_shape = example.shape[1:]
        self.frames = build_array(example[0], (T + self.n_frames - 1, B), share_memory)

    @property
    def off_forward(self) -> int:
        """Steps of history a stack reads."""
        return self.n_frames - 1

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return int(self.frames.nbytes)

    def write(self, t: int, observation: np.ndarray) -> None:
        """Store the newest frame of each ``observation`` (``[n, B, n_frames, ...]``) at ring
        rows ``t .. t + n - 1``, and mirror the ring's last ``n_frames - 1`` rows."""
        newest = observation[:, :, -1]
        n, fm1 = len(newest), self.n_frames - 1
        ring_write(self.frames, t, newest, offset=fm1, n=n)
        tail = self.T - fm1  # steps tail .. T - 1 are also kept in rows 0 .. fm1 - 1
        if fm1 and t + n > tail:
            k = np.arange(n)
            ring_rows = (t + k) % self.T
            mirrored = ring_rows >= tail
            self.frames[ring_rows[mirrored] - tail] = newest[k[mirrored]]

    def extract(self, steps: np.ndarray, B_idxs: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Rebuild the stacks at ring rows ``steps`` of envs ``B_idxs`` (broadcast together).

        Args:
            steps: ring rows, any shape ``S`` (``[N]``, or ``[L, N]`` for sequences).
            B_idxs: env indexes, broadcastable to ``S``.
            done: the ``[T, B]`` ring of done flags, for zeroing frames before a reset.

        Returns:
            ``[*S, n_frames, *frame_shape]``, a new array (oldest frame first).
        """
        steps = np.asarray(steps)
        b = np.asarray(B_idxs)[..., None]
        F = self.n_frames
        observation = self.frames[steps[..., None] + np.arange(F), b]
        if F > 1:
            # lag j = 1 .. F-1 behind each step: done there blanks the frames at lags >= j,
            # i.e. stack slots 0 .. F-1-j.
            lag_rows = (steps[..., None] - np.arange(1, F)) % self.T
            blank = np.logical_or.accumulate(done[lag_rows, b].astype(bool), axis=-1)
            # blank[..., j-1] covers slot F-1-j; reversed it lines up with slots 0 .. F-2.
            older = observation[(slice(None),) * steps.ndim + (slice(0, F - 1),)]  # a view
            older[blank[..., ::-1]] = 0
        return observation
