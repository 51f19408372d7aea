"""Prioritized buffers: frequencies follow priority**alpha, importance weights, updates, input
priorities (with R2D1's shift), and the tree holds mass only on valid slots."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlpyt.replays.base import PrioritiesSamplesToBuffer
from tests.replays.helpers import ALL_SPECS, T_RING, B, Stream, fill, valid_starts

PRIORITIZED = [s for s in ALL_SPECS if s.prioritized and not s.async_]
ALPHA = 0.7


def _prio(s, b):
    """Input priority of step s of env b."""
    return 1.0 + (3 * s + b) % 5


def _append_with_priorities(buf, stream, n_batches, T=5):
    for _ in range(n_batches):
        t0 = stream.t
        p = np.array([[_prio(t0 + k, b) for b in range(B)] for k in range(T)])
        buf.append_samples(PrioritiesSamplesToBuffer(priorities=p, samples=stream.batch(T)))


def _identity(spec, batch):
    code = (batch.all_action[1] if spec.sequence else batch.action).numpy()
    return code // B, code % B


def _assert_tree_mass_only_on_valid(spec, buf, t):
    values = buf.priority_tree.values
    valid = np.zeros_like(values, dtype=bool)
    for s in valid_starts(spec, t):
        valid[(s % T_RING) // spec.unit] = True
    assert np.all(values[~valid] == 0)
    assert np.all(values[valid] > 0)


@pytest.mark.parametrize("spec", PRIORITIZED, ids=lambda s: s.name)
class TestPrioritized:
    def test_frequencies_follow_priority_alpha_and_is_weights(self, spec):
        np.random.seed(0)
        buf = spec.make(alpha=ALPHA, beta=0.5, input_priorities=True)
        stream = Stream(spec, seed=4)
        _append_with_priorities(buf, stream, 11)
        t = stream.t
        starts = sorted(valid_starts(spec, t))
        keys = [(s, b) for s in starts for b in range(B)]
        expected = np.array([_prio(s, b) ** ALPHA for s, b in keys])
        expected /= expected.sum()
        counts = dict.fromkeys(keys, 0)
        n_draws = 0
        for _ in range(100):
            batch = buf.sample_batch(200)
            s, b = _identity(spec, batch)
            p = np.array([_prio(si, bi) ** ALPHA for si, bi in zip(s, b)])
            np.testing.assert_allclose(batch.is_weights.numpy(), (p.min() / p) ** 0.5, rtol=1e-6)
            for key in zip(s.tolist(), b.tolist()):
                counts[key] += 1  # KeyError: a draw outside the valid window
            n_draws += len(s)
        observed = np.array([counts[k] for k in keys])
        exp_counts = expected * n_draws
        chi2 = ((observed - exp_counts) ** 2 / exp_counts).sum()
        dof = len(keys) - 1
        assert chi2 < dof + 6 * np.sqrt(2 * dof), (chi2, dof)
        # A flat distribution would be far off (the test can tell the difference).
        flat = np.full(len(keys), n_draws / len(keys))
        assert ((observed - flat) ** 2 / flat).sum() > 3 * dof

    def test_default_priority_and_updates(self, spec):
        np.random.seed(1)
        buf = spec.make(alpha=ALPHA, default_priority=2.0)
        stream = Stream(spec, seed=5)
        fill(buf, stream, 12)
        _assert_tree_mass_only_on_valid(spec, buf, stream.t)
        values = buf.priority_tree.values
        assert np.allclose(values[values > 0], 2.0**ALPHA)
        batch = buf.sample_batch(8)
        s, b = _identity(spec, batch)
        new = torch.arange(1, 9, dtype=torch.float32) * 3
        buf.update_batch_priorities(new)
        last = {}
        for i, key in enumerate(zip(s.tolist(), b.tolist())):
            last[key] = float(new[i])  # repeated draws: the last value wins
        for (si, bi), p in last.items():
            assert values[(si % T_RING) // spec.unit, bi] == pytest.approx(p**ALPHA)
        assert buf.sample_batch(4) is not None

    def test_tree_follows_cursor_and_stale_updates_are_dropped(self, spec):
        np.random.seed(2)
        buf = spec.make()
        stream = Stream(spec, seed=6)
        for _ in range(9):
            fill(buf, stream, 1)
            if valid_starts(spec, stream.t):
                _assert_tree_mass_only_on_valid(spec, buf, stream.t)
        buf.sample_batch(32)
        fill(buf, stream, 2)  # some drawn slots are now overwritten (as by an async writer)
        buf.update_batch_priorities(np.full(32, 5.0))
        values = buf.priority_tree.values
        valid = np.zeros_like(values, dtype=bool)
        for s in valid_starts(spec, stream.t):
            valid[(s % T_RING) // spec.unit] = True
        assert np.all(values[~valid] == 0)

    def test_unique_draws(self, spec):
        np.random.seed(3)
        buf = spec.make(unique=True)
        stream = Stream(spec, seed=7)
        fill(buf, stream, 12)
        n_valid = len(valid_starts(spec, stream.t)) * B
        for _ in range(10):
            s, b = _identity(spec, buf.sample_batch(n_valid))
            assert len(set(zip(s.tolist(), b.tolist()))) == n_valid

    def test_input_priorities_need_the_flag(self, spec):
        buf = spec.make()
        stream = Stream(spec)
        with pytest.raises(ValueError, match="input_priorities"):
            buf.append_samples(PrioritiesSamplesToBuffer(priorities=1.0, samples=stream.batch(5)))

    def test_input_priorities_scalar_and_per_env(self, spec):
        buf = spec.make(alpha=1.0, input_priorities=True)
        stream = Stream(spec)
        for _ in range(12):
            p = np.array([1.0, 2.0, 3.0])
            buf.append_samples(PrioritiesSamplesToBuffer(priorities=p, samples=stream.batch(5)))
        values = buf.priority_tree.values
        rows = values.sum(axis=1) > 0
        np.testing.assert_allclose(values[rows], np.tile([1.0, 2.0, 3.0], (rows.sum(), 1)))
        with pytest.raises(ValueError, match="shape"):
            buf.append_samples(
                PrioritiesSamplesToBuffer(priorities=np.ones(4), samples=stream.batch(5))
            )


def test_input_priority_shift_sequences():
    """R2D1: a slot takes the input priority given with the data ``shift`` slots later."""
    from tests.replays.helpers import RNN_INTERVAL, SPEC_BY_NAME

    spec = SPEC_BY_NAME["PrioritizedSequenceReplayBuffer"]
    buf = spec.make(alpha=1.0, input_priorities=True, input_priority_shift=2)
    stream = Stream(spec)
    _append_with_priorities(buf, stream, 10)
    values = buf.priority_tree.values
    for s in valid_starts(spec, stream.t):
        for b in range(B):
            slot = (s % T_RING) // RNN_INTERVAL
            assert values[slot, b] == _prio(s + 2 * RNN_INTERVAL, b)
    with pytest.raises(ValueError, match="input_priority_shift"):
        spec.make(input_priorities=True, input_priority_shift=4)  # reaches unwritten data


def test_beta_is_used():
    from tests.replays.helpers import SPEC_BY_NAME

    np.random.seed(4)
    spec = SPEC_BY_NAME["PrioritizedReplayBuffer"]
    buf = spec.make(alpha=1.0, beta=0.4, input_priorities=True)
    _append_with_priorities(buf, Stream(spec), 8)
    buf.set_beta(0.0)
    assert torch.all(buf.sample_batch(16).is_weights == 1)
    buf.set_beta(1.0)
    w = buf.sample_batch(64).is_weights
    assert float(w.min()) == pytest.approx(1 / 5)  # priorities 1..5, alpha 1
