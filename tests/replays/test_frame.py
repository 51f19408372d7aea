"""Frame buffers: stacks rebuilt exactly from one stored frame per step, zeroed before resets;
memory close to one frame per step."""

from __future__ import annotations

import numpy as np
import pytest

from rlpyt.replays.base import SamplesToBuffer
from rlpyt.replays.frame import FrameObservations
from rlpyt.replays.non_sequence.frame import PrioritizedReplayFrameBuffer, UniformReplayFrameBuffer
from rlpyt.replays.non_sequence.uniform import UniformReplayBuffer
from rlpyt.replays.sequence.frame import UniformSequenceReplayFrameBuffer


def test_stacks_by_hand_across_a_reset():
    """Frames are numbered by step; a done at step 2 starts a new stack at step 3."""
    store = FrameObservations(np.zeros((3, 1), np.uint8), T=8, B=1)
    # Observations as an env with 3-frame stacks would return them (frame k has value k+1).
    obs = np.array([[0, 0, 1], [0, 1, 2], [1, 2, 3], [0, 0, 4], [0, 4, 5], [4, 5, 6]], np.uint8)[
        :, None, :, None
    ]
    done = np.zeros((8, 1), bool)
    done[2] = True
    store.write(0, obs)
    got = store.extract(np.arange(6), np.zeros(6, int), done)
    np.testing.assert_array_equal(got, obs[:, 0])
    # Only the newest frame of each step is stored (plus the ring-end mirror rows).
    assert store.frames.shape == (8 + 2, 1, 1)
    np.testing.assert_array_equal(store.frames[2:8, 0, 0], [1, 2, 3, 4, 5, 6])


def test_mirror_rows_rebuild_stacks_across_the_ring_end():
    store = FrameObservations(np.zeros((4, 1), np.uint8), T=5, B=2)
    frames = np.arange(1, 15, dtype=np.uint8).reshape(7, 2)  # step t, env b: frame t*2+b+1
    obs = np.zeros((7, 2, 4, 1), np.uint8)
    for t in range(7):
        for f in range(4):
            if t - 3 + f >= 0:
                obs[t, :, f, 0] = frames[t - 3 + f]
    store.write(0, obs[:4])
    store.write(4, obs[4:])  # steps 4, 5, 6 -> rows 4, 0, 1
    done = np.zeros((5, 2), bool)
    # Step 6 sits in row 1: its history is steps 3, 4, 5 = rows 3, 4, 0, across the end.
    got = store.extract(np.array([1, 0]), np.array([0, 1]), done)
    np.testing.assert_array_equal(got[0], obs[6, 0])
    np.testing.assert_array_equal(got[1], obs[5, 1])


def test_sequence_extraction_zeroes_inside_the_sequence():
    store = FrameObservations(np.zeros((2, 1), np.uint8), T=6, B=1)
    obs = np.array([[0, 1], [1, 2], [0, 3], [3, 4]], np.uint8)[:, None, :, None]
    done = np.zeros((6, 1), bool)
    done[1] = True
    store.write(0, obs)
    got = store.extract(np.arange(4)[:, None], np.zeros((1, 1), int), done)
    assert got.shape == (4, 1, 2, 1)
    np.testing.assert_array_equal(got[:, 0], obs[:, 0])


def _atari_example(n_frames=4):
    return SamplesToBuffer(
        observation=np.zeros((n_frames, 84, 84), np.uint8),
        action=np.int64(0),
        reward=np.float32(0),
        done=False,
    )


@pytest.mark.parametrize("Cls", [UniformReplayFrameBuffer, PrioritizedReplayFrameBuffer])
def test_memory_close_to_one_frame_per_step(Cls):
    # Arrays are zero-filled lazily by the OS: nothing is touched here.
    buf = Cls(_atari_example(), size=100_000, B=8, n_step_return=3)
    per_step = buf.nbytes / buf.size
    assert per_step <= 1.1 * 84 * 84, per_step
    assert per_step >= 84 * 84
    whole = UniformReplayBuffer(_atari_example(), size=100_000, B=8)
    assert whole.nbytes / whole.size > 4 * 84 * 84  # what deduplication saves


def test_frame_buffer_rejects_flat_observations():
    example = SamplesToBuffer(np.zeros(3, np.float32), np.int64(0), np.float32(0), False)
    with pytest.raises(ValueError, match="n_frames"):
        UniformReplayFrameBuffer(example, size=40, B=2)


def test_n_frames_attribute():
    buf = UniformSequenceReplayFrameBuffer(
        _atari_example(n_frames=2)._replace(observation=np.zeros((2, 4, 4), np.uint8)),
        size=64,
        B=2,
        rnn_state_interval=0,
        batch_T=3,
    )
    assert buf.n_frames == 2
    assert UniformReplayBuffer(_atari_example(), size=40, B=2).n_frames is None
