"""The contract every replay buffer keeps, one test class parametrised over all 20 classes.

Each sampled item carries its identity (``action = t * B + b``), so every field of every
batch is checked against a brute-force recomputation from the fake sampler's history, after
the ring has wrapped several times with batches that do not divide it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.replays.helpers import (
    ALL_SPECS,
    BATCH_T,
    DISCOUNT,
    N_FRAMES,
    N_STEP,
    T_RING,
    B,
    Stream,
    fill,
    ref_agent_inputs,
    ref_n_step,
    valid_starts,
)

pytestmark = pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)


def _decode(action_code):
    code = np.asarray(action_code)
    return code // B, code % B


def _check_agent_inputs(hist, inputs, steps, envs):
    for i, (u, b) in enumerate(zip(steps, envs)):
        obs, prev_action, prev_reward = ref_agent_inputs(hist, u, b)
        np.testing.assert_array_equal(inputs.observation[i].numpy(), obs)
        assert int(inputs.prev_action[i]) == prev_action
        assert float(inputs.prev_reward[i]) == pytest.approx(prev_reward)


def _check_window(spec, starts, t, t_hi):
    """Starts valid at some cursor in ``[t, t_hi]`` (one cursor, unless a writer is busy)."""
    valid = set().union(*(valid_starts(spec, u) for u in range(t, (t_hi or t) + 1)))
    assert set(starts.tolist()) <= valid, "sampled outside the valid window"


def _check_non_sequence(spec, batch, hist, t, t_hi):
    s, b = _decode(batch.action.numpy())
    _check_window(spec, s, t, t_hi)
    _check_agent_inputs(hist, batch.agent_inputs, s, b)
    targets = []
    for i, (si, bi) in enumerate(zip(s, b)):
        ret, done_n, timeout_n, n_eff = ref_n_step(hist, si, bi, spec.tl)
        assert float(batch.return_[i]) == pytest.approx(ret, rel=1e-5, abs=1e-5)
        assert bool(batch.done_n[i]) == done_n
        assert bool(batch.done[i]) == bool(hist[3][si, bi])
        if spec.tl:
            assert bool(batch.timeout[i]) == bool(hist[4][si, bi])
            assert bool(batch.timeout_n[i]) == timeout_n
            assert float(batch.bootstrap_discount[i]) == pytest.approx(DISCOUNT**n_eff)
        targets.append(si + n_eff)
    _check_agent_inputs(hist, batch.target_inputs, targets, b)


def _check_sequence(spec, batch, hist, t, t_hi):
    obs, action, reward, done, _ = hist
    L = BATCH_T + N_STEP
    s, b = _decode(batch.all_action[1].numpy())  # action at the first step
    _check_window(spec, s, t, t_hi)
    for i, (si, bi) in enumerate(zip(s, b)):
        for k in range(L):
            np.testing.assert_array_equal(batch.all_observation[k, i].numpy(), obs[si + k, bi])
            u = si + k - 1  # prev_action / prev_reward step; before step 0: zeros
            assert int(batch.all_action[k, i]) == (int(action[u, bi]) if u >= 0 else 0)
            assert float(batch.all_reward[k, i]) == pytest.approx(
                float(reward[u, bi]) if u >= 0 else 0.0
            )
        for k in range(BATCH_T):
            ret, done_n, _, _ = ref_n_step(hist, si + k, bi, tl=False)
            assert float(batch.return_[k, i]) == pytest.approx(ret, rel=1e-5, abs=1e-5)
            assert bool(batch.done_n[k, i]) == done_n
            assert bool(batch.done[k, i]) == bool(done[si + k, bi])
        ident = float(action[si, bi])
        np.testing.assert_array_equal(batch.init_rnn_state.h[i].numpy(), np.full((1, 2), ident))
        np.testing.assert_array_equal(batch.init_rnn_state.c[i].numpy(), np.full((1, 2), -ident))


def check_batch(spec, batch, stream, t, t_hi=None):
    """Check every field of ``batch`` against the stream's history; the buffer held ``t``
    steps per env when sampled (or between ``t`` and ``t_hi``, with a concurrent writer)."""
    hist = stream.history()
    if spec.sequence:
        _check_sequence(spec, batch, hist, t, t_hi)
    else:
        _check_non_sequence(spec, batch, hist, t, t_hi)


class TestReplayContract:
    def test_append_returns_ring_rows_and_wraps(self, spec):
        buf = spec.make()
        stream = Stream(spec)
        assert buf.T == T_RING and buf.B == B and buf.size == T_RING * B
        t = 0
        for _ in range(13):  # 65 steps: wraps twice, at rows that 5 does not divide
            T, idxs = buf.append_samples(stream.batch(5))
            assert T == 5
            np.testing.assert_array_equal(idxs, np.arange(t, t + 5) % T_RING)
            t += 5
            assert buf.t == t % T_RING
        assert buf._buffer_full
        # The ring holds exactly the latest T_RING steps of every env.
        action = stream.history()[1]
        for row in range(T_RING):
            newest = max(u for u in range(t) if u % T_RING == row)
            np.testing.assert_array_equal(buf.samples.action[row], action[newest])

    def test_batch_types_shapes_dtypes(self, spec):
        buf = spec.make()
        fill(buf, Stream(spec), 8)
        batch = buf.sample_batch(6)
        lead = (BATCH_T + N_STEP, 6) if spec.sequence else (6,)
        if spec.sequence:
            assert batch.all_observation.shape == lead + (N_FRAMES, 2, 3)
            assert batch.all_observation.dtype == torch.uint8
            assert batch.all_action.shape == lead and batch.all_action.dtype == torch.int64
            assert batch.all_reward.dtype == torch.float32
            assert batch.return_.shape == (BATCH_T, 6)
            assert batch.done_n.dtype == torch.bool and batch.done.dtype == torch.bool
            assert batch.init_rnn_state.h.shape == (6, 1, 2)
        else:
            assert batch.agent_inputs.observation.shape == lead + (N_FRAMES, 2, 3)
            assert batch.agent_inputs.observation.dtype == torch.uint8
            assert batch.target_inputs.observation.shape == lead + (N_FRAMES, 2, 3)
            assert batch.action.shape == lead and batch.action.dtype == torch.int64
            assert batch.return_.shape == lead and batch.return_.dtype == torch.float32
            assert batch.done.dtype == torch.bool and batch.done_n.dtype == torch.bool
            assert batch.agent_inputs.prev_reward.dtype == torch.float32
        if spec.tl:
            assert batch.timeout.dtype == torch.bool and batch.timeout_n.dtype == torch.bool
            assert batch.bootstrap_discount.dtype == torch.float32
        assert hasattr(batch, "is_weights") == spec.prioritized
        if spec.prioritized:
            assert batch.is_weights.shape == (6,) and batch.is_weights.dtype == torch.float32
            assert float(batch.is_weights.max()) == pytest.approx(1.0)

    def test_every_field_matches_reference_while_filling_and_wrapping(self, spec):
        buf = spec.make()
        stream = Stream(spec, seed=1)
        t = 0
        for _ in range(20):
            buf.append_samples(stream.batch(5))
            t += 5
            if not valid_starts(spec, t):
                with pytest.raises(ValueError, match="no valid sample"):
                    buf.sample_batch(4)
                continue
            check_batch(spec, buf.sample_batch(16), stream, t)

    def test_samples_cover_exactly_the_valid_window(self, spec):
        """Never across the cursor (nor into overwritten history), and nothing valid missed."""
        buf = spec.make()
        stream = Stream(spec, seed=2)
        written = 0
        for n_batches in (3, 4, 12):  # partly filled, then wrapped
            fill(buf, stream, n_batches - written)
            written = n_batches
            t = stream.t
            seen = set()
            for _ in range(40):
                batch = buf.sample_batch(64)
                code = batch.all_action[1] if spec.sequence else batch.action
                s, b = _decode(code.numpy())
                seen |= set(zip(s.tolist(), b.tolist()))
            expected = {(s, b) for s in valid_starts(spec, t) for b in range(B)}
            assert seen == expected
        fill(buf, stream, 7)
        t = stream.t
        assert t > 2 * T_RING
        for _ in range(20):
            check_batch(spec, buf.sample_batch(32), stream, t)

    def test_accepts_torch_samples(self, spec):
        buf = spec.make()
        stream = Stream(spec, seed=3)
        from rlpyt.utils.buffer import torchify_buffer

        for _ in range(8):
            buf.append_samples(torchify_buffer(stream.batch(5)))
        check_batch(spec, buf.sample_batch(16), stream, stream.t)

    def test_rejects_wrong_batch_width(self, spec):
        buf = spec.make()
        samples = Stream(spec).batch(5)
        with pytest.raises(ValueError, match="does not fit"):
            buf.append_samples(samples[:, :2])

    def test_priority_api_matches_kind(self, spec):
        buf = spec.make()
        fill(buf, Stream(spec), 8)
        batch = buf.sample_batch(4)
        if spec.prioritized:
            buf.update_batch_priorities(torch.full((4,), 2.0))
            buf.set_beta(1.0)
            assert buf.priority_tree is not None
        else:
            assert buf.priority_tree is None
            with pytest.raises(TypeError):
                buf.update_batch_priorities(torch.ones(4))
        assert batch is not None
