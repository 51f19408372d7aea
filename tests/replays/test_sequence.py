"""Sequence buffers: RNN states kept at the interval, sequence starts, batch_T handling."""

from __future__ import annotations

import numpy as np
import pytest

from rlpyt.replays.base import SamplesToBuffer
from rlpyt.replays.sequence.prioritized import PrioritizedSequenceReplayBuffer
from rlpyt.replays.sequence.uniform import UniformSequenceReplayBuffer
from tests.replays.helpers import N_STEP, SPEC_BY_NAME, B, Stream, example, fill

SPEC = SPEC_BY_NAME["UniformSequenceReplayBuffer"]


@pytest.mark.parametrize("interval", [1, 2, 3])
def test_rnn_state_kept_every_interval(interval):
    buf = SPEC.make(rnn_state_interval=interval, size=24 * B)
    stream = Stream(SPEC)
    fill(buf, stream, 4, T=5)  # 20 steps; appends start at steps 0, 5, 10, 15
    assert buf.rnn_states.h.shape == (24 // interval, B, 1, 2)
    action = stream.history()[1]
    for slot in range(20 // interval + (20 % interval > 0)):
        step = slot * interval
        np.testing.assert_array_equal(buf.rnn_states.h[slot, :, 0, 0], action[step])


def test_sequences_start_at_stored_states_only():
    np.random.seed(0)
    buf = SPEC.make(rnn_state_interval=3, size=24 * B)
    stream = Stream(SPEC)
    fill(buf, stream, 12)
    for _ in range(20):
        batch = buf.sample_batch(16)
        starts = batch.all_action[1].numpy() // B
        assert np.all(starts % 3 == 0)
        np.testing.assert_array_equal(
            batch.init_rnn_state.h[:, 0, 0].numpy(), batch.all_action[1].numpy()
        )


def test_ring_rounded_up_to_a_multiple_of_the_interval():
    buf = SPEC.make(rnn_state_interval=5, size=22 * B)
    assert buf.T == 25 and buf.size == 25 * B


def test_batch_T_at_sample_time():
    np.random.seed(1)
    buf = SPEC.make(batch_T=None)
    stream = Stream(SPEC)
    fill(buf, stream, 12)
    with pytest.raises(ValueError, match="batch_T"):
        buf.sample_batch(4)
    for batch_T in (1, 2, 7):
        batch = buf.sample_batch(4, batch_T=batch_T)
        assert batch.all_observation.shape[0] == batch_T + N_STEP
        assert batch.return_.shape == (batch_T, 4)
        starts = batch.all_action[1].numpy() // B
        assert np.all(starts + batch_T + N_STEP - 1 <= stream.t - 1)
    with pytest.raises(ValueError, match="too short"):
        buf.sample_batch(4, batch_T=30)


def test_prioritized_sequence_batch_T_is_fixed():
    spec = SPEC_BY_NAME["PrioritizedSequenceReplayBuffer"]
    with pytest.raises(ValueError, match="batch_T"):
        PrioritizedSequenceReplayBuffer(example(spec), size=48, B=B, rnn_state_interval=2)
    buf = spec.make()
    fill(buf, Stream(spec), 8)
    assert buf.sample_batch(3, batch_T=4).return_.shape == (4, 3)
    with pytest.raises(ValueError, match="reach"):
        buf.sample_batch(3, batch_T=5)


def test_no_rnn_state_interval_zero():
    np.random.seed(2)
    ex = SamplesToBuffer(np.zeros(2, np.float32), np.int64(0), np.float32(0), False)
    buf = UniformSequenceReplayBuffer(ex, size=20 * B, B=B, rnn_state_interval=0, batch_T=3)
    for t0 in range(0, 40, 4):
        a = (np.arange(t0, t0 + 4)[:, None] * B + np.arange(B)).astype(np.int64)
        buf.append_samples(
            SamplesToBuffer(
                np.zeros((4, B, 2), np.float32),
                a,
                np.zeros((4, B), np.float32),
                np.zeros((4, B), bool),
            )
        )
    starts = set()
    for _ in range(30):
        batch = buf.sample_batch(16)
        assert batch.init_rnn_state is None
        starts |= set((batch.all_action[1].numpy() // B).tolist())
    # n_step_return=1: a start s needs steps s .. s + 3 written; s - 1 still in the ring.
    assert starts == set(range(40 - 20 + 1, 40 - 3))  # every step, odd ones too
