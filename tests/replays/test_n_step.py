"""n-step returns on append, against hand computations: done and timeout inside the window."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlpyt.algos.utils import discount_return_n_step
from rlpyt.replays.base import SamplesToBufferTl
from rlpyt.replays.n_step import n_step_returns, n_step_returns_tl
from rlpyt.replays.non_sequence.time_limit import TlUniformReplayBuffer
from rlpyt.replays.non_sequence.uniform import UniformReplayBuffer

G = 0.5
R = np.array([[1.0], [2.0], [4.0], [8.0], [16.0], [32.0]], dtype=np.float32)  # [T=6, B=1]


def _col(*flags):
    return np.array(flags, dtype=bool)[:, None]


def test_plain_returns_by_hand():
    done = _col(0, 0, 1, 0, 0, 0)
    ret, done_n = n_step_returns(R, done, np.arange(4), 3, G)
    # t=0: 1 + .5*2 + .25*4 (done at t=2 keeps its own reward) ; t=1: 2 + .5*4 ; t=2: 4
    # t=3: 8 + .5*16 + .25*32
    np.testing.assert_allclose(ret[:, 0], [3.0, 4.0, 4.0, 24.0])
    np.testing.assert_array_equal(done_n[:, 0], [True, True, True, False])


def test_plain_returns_match_algos_utils():
    rng = np.random.default_rng(0)
    reward = rng.normal(size=(20, 3)).astype(np.float32)
    done = rng.random((20, 3)) < 0.2
    ret, done_n = n_step_returns(reward, done, np.arange(17), 4, 0.9)
    ref_ret, ref_done_n = discount_return_n_step(
        torch.from_numpy(reward), torch.from_numpy(done), 4, 0.9
    )
    np.testing.assert_allclose(ret, ref_ret.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(done_n, ref_done_n.numpy())


def test_windows_wrap_around_the_ring():
    done = _col(0, 0, 0, 0, 0, 0)
    ret, _ = n_step_returns(R, done, np.array([4, 5]), 3, G)
    np.testing.assert_allclose(ret[:, 0], [16 + 16 + 0.25 * 1, 32 + 0.5 + 0.25 * 2])


def test_time_limit_returns_by_hand():
    done = _col(0, 0, 1, 0, 1, 0)
    timeout = _col(0, 0, 1, 0, 0, 0)  # step 2 truncated; step 4 terminated
    ret, done_n, timeout_n, n_eff = n_step_returns_tl(R, done, timeout, np.arange(6) % 6, 3, G)
    # t=0: timeout at k=2 cuts: 1 + .5*2, bootstrap from obs[2] with G**2, no done_n
    assert ret[0, 0] == pytest.approx(2.0)
    assert (done_n[0, 0], timeout_n[0, 0], n_eff[0, 0]) == (False, True, 2)
    # t=1: timeout at k=1: return 2 alone, bootstrap from obs[2] with G**1
    assert ret[1, 0] == pytest.approx(2.0)
    assert (done_n[1, 0], timeout_n[1, 0], n_eff[1, 0]) == (False, True, 1)
    # t=2: itself a timeout: no target (done_n set so an unmasked loss does not bootstrap)
    assert (done_n[2, 0], timeout_n[2, 0]) == (True, False)
    # t=3: termination at k=1: 8 + .5*16, done_n
    assert ret[3, 0] == pytest.approx(16.0)
    assert (done_n[3, 0], timeout_n[3, 0], n_eff[3, 0]) == (True, False, 3)
    # t=5: wraps to rows 0, 1; nothing ends: full 3-step window
    assert ret[5, 0] == pytest.approx(32 + 0.5 + 0.25 * 2)
    assert (done_n[5, 0], timeout_n[5, 0], n_eff[5, 0]) == (False, False, 3)


def test_timeout_after_termination_in_window_is_ignored():
    done = _col(1, 1, 0, 0, 0, 0)
    timeout = _col(0, 1, 0, 0, 0, 0)
    ret, done_n, timeout_n, n_eff = n_step_returns_tl(R, done, timeout, np.array([0]), 3, G)
    assert (ret[0, 0], done_n[0, 0], timeout_n[0, 0]) == (1.0, True, False)


def test_time_limit_equals_plain_without_timeouts():
    rng = np.random.default_rng(1)
    reward = rng.normal(size=(30, 4)).astype(np.float32)
    done = rng.random((30, 4)) < 0.2
    rows = np.arange(30)
    ret, done_n = n_step_returns(reward, done, rows, 5, 0.95)
    ret_tl, done_n_tl, timeout_n, n_eff = n_step_returns_tl(
        reward, done, np.zeros_like(done), rows, 5, 0.95
    )
    np.testing.assert_allclose(ret, ret_tl, rtol=1e-6)
    np.testing.assert_array_equal(done_n, done_n_tl)
    assert not timeout_n.any() and np.all(n_eff == 5)


def _tl_example():
    return SamplesToBufferTl(
        observation=np.zeros(2, np.float32),
        action=np.int64(0),
        reward=np.float32(0),
        done=False,
        timeout=False,
    )


def test_buffer_fills_windows_only_when_complete():
    """Returns are written as soon as the n-step window is in the ring, and only then."""
    buf = UniformReplayBuffer(_tl_example(), size=12, B=1, discount=G, n_step_return=3)
    obs = np.zeros((6, 1, 2), np.float32)
    zeros = np.zeros((6, 1), bool)
    act = np.arange(6)[:, None]
    buf.append_samples(SamplesToBufferTl(obs[:2], act[:2], R[:2], zeros[:2], zeros[:2]))
    assert np.all(buf.samples_return_ == 0)  # no complete window yet
    buf.append_samples(SamplesToBufferTl(obs[2:], act[2:], R[2:], zeros[2:], zeros[2:]))
    np.testing.assert_allclose(
        buf.samples_return_[:4, 0], [1 + 1 + 1, 2 + 2 + 2, 4 + 4 + 4, 8 + 8 + 8]
    )
    assert np.all(buf.samples_return_[4:] == 0)


def test_tl_buffer_bootstrap_fields_by_hand():
    np.random.seed(0)
    buf = TlUniformReplayBuffer(_tl_example(), size=12, B=1, discount=G, n_step_return=3)
    obs = np.arange(6, dtype=np.float32)[:, None, None] * np.ones((1, 1, 2), np.float32)
    act = np.arange(6)[:, None]
    done = _col(0, 0, 1, 0, 1, 0)
    timeout = _col(0, 0, 1, 0, 0, 0)
    buf.append_samples(SamplesToBufferTl(obs, act, R, done, timeout))
    # valid starts: 0, 1, 2 (a start needs 3 more steps for its target)
    seen = {}
    for _ in range(20):
        batch = buf.sample_batch(8)
        for i, a in enumerate(batch.action.tolist()):
            seen[a] = (
                float(batch.return_[i]),
                bool(batch.done_n[i]),
                bool(batch.timeout[i]),
                bool(batch.timeout_n[i]),
                float(batch.bootstrap_discount[i]),
                float(batch.target_inputs.observation[i, 0]),
            )
    assert seen == {
        0: (2.0, False, False, True, 0.25, 2.0),  # bootstraps from the timeout step's state
        1: (2.0, False, False, True, 0.5, 2.0),
        2: (4.0, True, True, False, 0.125, 5.0),  # a timeout step itself: mask it out
    }
