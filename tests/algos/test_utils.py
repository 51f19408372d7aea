"""Returns, GAE, n-step and validity masks: hand-computed cases and properties."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlpyt.algos import utils as utils_module
from rlpyt.algos.utils import (
    discount_return,
    discount_return_n_step,
    discount_return_tl,
    generalized_advantage_estimation,
    generalized_advantage_estimation_tl,
    replay_target_factors,
    valid_from_done,
)
from rlpyt.replays.non_sequence.n_step import SamplesFromReplay, SamplesFromReplayTL

# A hand-computed batch: T=4, B=2, discount 0.9, lambda 0.8 (so discount * lambda = 0.72).
# Column 0 ends an episode at t=1; column 1 ends one at t=2 (a termination in the plain
# tests, a time-limit truncation in the `_tl` tests).
DISCOUNT, LAMBDA = 0.9, 0.8
REWARD = torch.tensor([[1.0, 2.0], [0.0, 1.0], [2.0, 0.0], [1.0, 3.0]], dtype=torch.float64)
VALUE = torch.tensor([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0], [4.0, 8.0]], dtype=torch.float64)
DONE = torch.tensor([[0, 0], [1, 0], [0, 1], [0, 0]], dtype=torch.bool)
TIMEOUT = torch.tensor([[0, 0], [0, 0], [0, 1], [0, 0]], dtype=torch.bool)
BOOTSTRAP = torch.tensor([[10.0, 20.0]], dtype=torch.float64)  # [1, B], as samplers store it


def t64(rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_discount_return_by_hand():
    # col 0: R3 = 1 + .9*10 = 10, R2 = 2 + .9*10 = 11, R1 = 0 (done), R0 = 1 + .9*0 = 1
    # col 1: R3 = 3 + .9*20 = 21, R2 = 0 (done), R1 = 1 + .9*0 = 1, R0 = 2 + .9*1 = 2.9
    expected = t64([[1.0, 2.9], [0.0, 1.0], [11.0, 0.0], [10.0, 21.0]])
    torch.testing.assert_close(discount_return(REWARD, DONE, BOOTSTRAP, DISCOUNT), expected)
    # bootstrap_value given as [B] works the same
    torch.testing.assert_close(discount_return(REWARD, DONE, BOOTSTRAP[0], DISCOUNT), expected)


def test_gae_by_hand():
    # col 0 deltas: d3 = 1 + .9*10 - 4 = 6, d2 = 2 + .9*4 - 3 = 2.6, d1 = 0 - 2 = -2 (done),
    #   d0 = 1 + .9*2 - 1 = 1.8; A3 = 6, A2 = 2.6 + .72*6 = 6.92, A1 = -2, A0 = 1.8 - .72*2 = .36
    # col 1 deltas: d3 = 3 + 18 - 8 = 13, d2 = 0 - 7 = -7 (done), d1 = 1 + .9*7 - 6 = 1.3,
    #   d0 = 2 + .9*6 - 5 = 2.4; A3 = 13, A2 = -7, A1 = 1.3 - .72*7 = -3.74,
    #   A0 = 2.4 - .72*3.74 = -0.2928
    adv, ret = generalized_advantage_estimation(REWARD, VALUE, DONE, BOOTSTRAP, DISCOUNT, LAMBDA)
    expected_adv = t64([[0.36, -0.2928], [-2.0, -3.74], [6.92, -7.0], [6.0, 13.0]])
    torch.testing.assert_close(adv, expected_adv)
    torch.testing.assert_close(ret, expected_adv + VALUE)


def test_discount_return_tl_by_hand():
    # col 1 is truncated at t=2: R2 = value[2] = 7 (a placeholder, masked in the loss),
    # R1 = 1 + .9*7 = 7.3 (bootstraps through the truncated state), R0 = 2 + .9*7.3 = 8.57.
    # col 0 terminates at t=1 and is unchanged.
    expected = t64([[1.0, 8.57], [0.0, 7.3], [11.0, 7.0], [10.0, 21.0]])
    ret = discount_return_tl(REWARD, DONE, BOOTSTRAP, DISCOUNT, TIMEOUT, VALUE)
    torch.testing.assert_close(ret, expected)


def test_gae_tl_by_hand():
    # col 1 truncated at t=2: A2 = 0, A1 = d1 = 1 + .9*7 - 6 = 1.3, A0 = 2.4 + .72*1.3 = 3.336;
    # returns = A + V: 8.336, 7.3 (= 1 + .9*7), 7 (= value[2]), 21.
    adv, ret = generalized_advantage_estimation_tl(
        REWARD, VALUE, DONE, BOOTSTRAP, DISCOUNT, LAMBDA, TIMEOUT
    )
    torch.testing.assert_close(adv, t64([[0.36, 3.336], [-2.0, 1.3], [6.92, 0.0], [6.0, 13.0]]))
    torch.testing.assert_close(ret, t64([[1.36, 8.336], [0.0, 7.3], [9.92, 7.0], [10.0, 21.0]]))


def test_n_step_by_hand():
    # n=2: col 0: R0 = 1 + .9*0 = 1 (done within: d1), R1 = 0 (done at t=1 itself, nothing after),
    #   R2 = 2 + .9*1 = 2.9; col 1: R0 = 2 + .9*1 = 2.9, R1 = 1 + .9*0 = 1 (done at t=2),
    #   R2 = 0 (done at t=2). Truncated tails: R3 = reward[3].
    ret, done_n = discount_return_n_step(REWARD, DONE, 2, DISCOUNT)
    torch.testing.assert_close(ret, t64([[1.0, 2.9], [0.0, 1.0], [2.9, 0.0]]))
    assert done_n.dtype == torch.bool
    assert done_n.tolist() == [[True, False], [True, True], [False, True]]
    ret, done_n = discount_return_n_step(REWARD, DONE, 2, DISCOUNT, do_truncated=True)
    torch.testing.assert_close(ret, t64([[1.0, 2.9], [0.0, 1.0], [2.9, 0.0], [1.0, 3.0]]))
    assert done_n.tolist() == [[True, False], [True, True], [False, True], [False, False]]
    # n=3, col 1: R0 = 2 + .9*1 + .81*0 = 2.9 with done_n = 1 (done at t=2)
    ret, done_n = discount_return_n_step(REWARD, DONE, 3, DISCOUNT)
    torch.testing.assert_close(ret, t64([[1.0, 2.9], [0.0, 1.0]]))
    assert done_n.tolist() == [[True, True], [True, True]]


def test_n_step_one_is_reward_and_rejects_bad_n():
    ret, done_n = discount_return_n_step(REWARD, DONE, 1, DISCOUNT)
    torch.testing.assert_close(ret, REWARD)
    assert torch.equal(done_n, DONE)
    with pytest.raises(ValueError):
        discount_return_n_step(REWARD, DONE, 0, DISCOUNT)
    with pytest.raises(ValueError):
        discount_return_n_step(REWARD, DONE, 5, DISCOUNT)


def test_valid_from_done_by_hand():
    valid = valid_from_done(DONE)
    assert valid.dtype == torch.float32
    torch.testing.assert_close(valid, torch.tensor([[1.0, 1], [1, 1], [0, 1], [0, 0]]))
    torch.testing.assert_close(valid_from_done(DONE.double()), valid.double())


def test_dest_buffers_written_in_place():
    ret_dest = torch.empty_like(REWARD)
    out = discount_return(REWARD, DONE, BOOTSTRAP, DISCOUNT, return_dest=ret_dest)
    assert out is ret_dest
    adv_dest, r_dest = torch.empty_like(REWARD), torch.empty_like(REWARD)
    adv, ret = generalized_advantage_estimation_tl(
        REWARD, VALUE, DONE, BOOTSTRAP, DISCOUNT, LAMBDA, TIMEOUT, adv_dest, r_dest
    )
    assert adv is adv_dest and ret is r_dest
    n_ret, n_done = torch.empty(3, 2, dtype=torch.float64), torch.empty(3, 2, dtype=torch.bool)
    out_r, out_d = discount_return_n_step(REWARD, DONE, 2, DISCOUNT, n_ret, n_done)
    assert out_r is n_ret and out_d is n_done
    assert n_done.tolist() == [[True, False], [True, True], [False, True]]


def test_one_dimensional_time_series():
    ret = discount_return(REWARD[:, 1], DONE[:, 1], 20.0, DISCOUNT)
    torch.testing.assert_close(ret, t64([2.9, 1.0, 0.0, 21.0]))


# ------------------------------------------------------------------------------------------
# Properties against a NumPy reference written as explicit per-element loops.


def np_discount_return(r, d, bv, g, timeout=None, value=None):
    T, B = r.shape
    out = np.zeros_like(r)
    for b in range(B):
        nxt = bv[b]
        for t in reversed(range(T)):
            if timeout is not None and timeout[t, b]:
                out[t, b] = value[t, b]
            else:
                out[t, b] = r[t, b] + g * (0.0 if d[t, b] else nxt)
            nxt = out[t, b]
    return out


def np_gae(r, v, d, bv, g, lam, timeout=None):
    T, B = r.shape
    adv = np.zeros_like(r)
    for b in range(B):
        nxt_adv, nxt_v = 0.0, bv[b]
        for t in reversed(range(T)):
            if timeout is not None and timeout[t, b]:
                adv[t, b] = 0.0
            elif d[t, b]:
                adv[t, b] = r[t, b] - v[t, b]
            else:
                adv[t, b] = r[t, b] + g * nxt_v - v[t, b] + g * lam * nxt_adv
            nxt_adv, nxt_v = adv[t, b], v[t, b]
    return adv, adv + v


def np_n_step(r, d, n, g, do_truncated):
    T, B = r.shape
    rlen = T if do_truncated else T - n + 1
    ret, dn = np.zeros((rlen, B)), np.zeros((rlen, B), dtype=bool)
    for b in range(B):
        for t in range(rlen):
            for k in range(min(n, T - t)):
                ret[t, b] += g**k * r[t + k, b]
                if d[t + k, b]:
                    dn[t, b] = True
                    break
    return ret, dn


@st.composite
def batches(draw):
    T = draw(st.integers(1, 7))
    B = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    reward = rng.normal(size=(T, B))
    value = rng.normal(size=(T, B))
    done = rng.random((T, B)) < draw(st.sampled_from([0.0, 0.3, 0.7]))
    timeout = done & (rng.random((T, B)) < 0.5)
    bootstrap = rng.normal(size=B)
    discount = draw(st.floats(0.0, 1.0))
    lam = draw(st.floats(0.0, 1.0))
    return reward, value, done, timeout, bootstrap, discount, lam


def torchify(*arrays):
    return [torch.from_numpy(np.asarray(a)) for a in arrays]


@settings(max_examples=60, deadline=None)
@given(batches())
def test_numpy_reference_agreement(batch):
    r, v, d, to, bv, g, lam = batch
    tr, tv, td, tto, tbv = torchify(r, v, d, to, bv)
    np.testing.assert_allclose(
        discount_return(tr, td, tbv, g).numpy(), np_discount_return(r, d, bv, g)
    )
    np.testing.assert_allclose(
        discount_return_tl(tr, td, tbv, g, tto, tv).numpy(),
        np_discount_return(r, d, bv, g, to, v),
    )
    for tl in (False, True):
        exp_adv, exp_ret = np_gae(r, v, d, bv, g, lam, to if tl else None)
        if tl:
            adv, ret = generalized_advantage_estimation_tl(tr, tv, td, tbv, g, lam, tto)
        else:
            adv, ret = generalized_advantage_estimation(tr, tv, td, tbv, g, lam)
        np.testing.assert_allclose(adv.numpy(), exp_adv, atol=1e-12)
        np.testing.assert_allclose(ret.numpy(), exp_ret, atol=1e-12)
    T = r.shape[0]
    for n in range(1, T + 1):
        for trunc in (False, True):
            ret, dn = discount_return_n_step(tr, td, n, g, do_truncated=trunc)
            exp_ret, exp_dn = np_n_step(r, d, n, g, trunc)
            np.testing.assert_allclose(ret.numpy(), exp_ret, atol=1e-12)
            np.testing.assert_array_equal(dn.numpy(), exp_dn)
    valid = valid_from_done(td).numpy()
    for b in range(r.shape[1]):
        first = np.flatnonzero(d[:, b])
        end = first[0] + 1 if len(first) else T
        np.testing.assert_array_equal(valid[:, b], np.arange(T) < end)


@settings(max_examples=60, deadline=None)
@given(batches())
def test_gae_limits_and_tl_reduction(batch):
    r, v, d, _, bv, g, lam = batch
    tr, tv, td, tbv = torchify(r, v, d, bv)
    # lambda = 1: the advantage is the discounted return minus the value
    adv1, ret1 = generalized_advantage_estimation(tr, tv, td, tbv, g, 1.0)
    torch.testing.assert_close(adv1, discount_return(tr, td, tbv, g) - tv)
    torch.testing.assert_close(ret1, discount_return(tr, td, tbv, g))
    # lambda = 0: one-step TD errors
    adv0, _ = generalized_advantage_estimation(tr, tv, td, tbv, g, 0.0)
    next_v = torch.cat([tv[1:], tbv[None]])
    torch.testing.assert_close(adv0, tr + g * (~td) * next_v - tv)
    # no timeouts: the time-limit versions are the plain ones
    zero = torch.zeros_like(td)
    torch.testing.assert_close(
        discount_return_tl(tr, td, tbv, g, zero, tv), discount_return(tr, td, tbv, g)
    )
    adv_tl, ret_tl = generalized_advantage_estimation_tl(tr, tv, td, tbv, g, lam, zero)
    adv, ret = generalized_advantage_estimation(tr, tv, td, tbv, g, lam)
    torch.testing.assert_close(adv_tl, adv)
    torch.testing.assert_close(ret_tl, ret)


def test_float32_and_uint8_done():
    r32, v32 = REWARD.float(), VALUE.float()
    ret = discount_return(r32, DONE.to(torch.uint8), BOOTSTRAP.float(), DISCOUNT)
    assert ret.dtype == torch.float32
    adv, ret = generalized_advantage_estimation_tl(
        r32, v32, DONE.float(), BOOTSTRAP.float(), DISCOUNT, LAMBDA, TIMEOUT.to(torch.uint8)
    )
    assert adv.dtype == ret.dtype == torch.float32
    torch.testing.assert_close(
        ret, t64([[1.36, 8.336], [0.0, 7.3], [9.92, 7.0], [10.0, 21.0]]).float()
    )


def test_torch_path_matches_and_is_differentiable():
    """Inputs that need grad take the torch loop (as CUDA tensors do); same values, gradients."""
    reward = REWARD.clone().requires_grad_(True)
    ret = discount_return_tl(reward, DONE, BOOTSTRAP, DISCOUNT, TIMEOUT, VALUE)
    torch.testing.assert_close(
        ret.detach(), discount_return_tl(REWARD, DONE, BOOTSTRAP, DISCOUNT, TIMEOUT, VALUE)
    )
    ret[0, 1].backward()
    # return_[0, 1] = r[0, 1] + .9 * r[1, 1] + .81 * value[2, 1]: the timeout step's reward and
    # everything after it do not count
    torch.testing.assert_close(reward.grad[:, 1], t64([1.0, 0.9, 0.0, 0.0]))
    adv, _ = generalized_advantage_estimation(reward, VALUE, DONE, BOOTSTRAP, DISCOUNT, LAMBDA)
    torch.testing.assert_close(
        adv.detach(),
        generalized_advantage_estimation(REWARD, VALUE, DONE, BOOTSTRAP, DISCOUNT, LAMBDA)[0],
    )


# The public function takes NumPy on CPU batches and torch ops elsewhere: both run here.
@pytest.mark.parametrize(
    "factors", [replay_target_factors, utils_module._replay_target_factors_torch]
)
def test_replay_target_factors_by_hand(factors):
    replay_target_factors = factors
    common = dict(
        agent_inputs=None,
        action=torch.zeros(3, dtype=torch.long),
        return_=torch.zeros(3),
        done=torch.zeros(3, dtype=torch.bool),
        done_n=torch.tensor([False, True, False]),
        target_inputs=None,
    )
    bootstrap, weight = replay_target_factors(SamplesFromReplay(**common), 0.9, 2, False)
    torch.testing.assert_close(bootstrap, torch.tensor([0.81, 0.0, 0.81]))
    assert bootstrap.dtype == torch.float32 and weight is None
    tl = SamplesFromReplayTL(
        **common,
        timeout=torch.tensor([False, False, True]),
        timeout_n=torch.tensor([True, False, False]),
        bootstrap_discount=torch.tensor([0.9, 0.81, 0.81], dtype=torch.float64),
    )
    bootstrap, weight = replay_target_factors(tl, 0.9, 2, True)
    # Sample 0 was cut by a time limit after one step; sample 2 is a timeout step: no weight.
    torch.testing.assert_close(bootstrap, torch.tensor([0.9, 0.0, 0.81]))
    torch.testing.assert_close(weight, torch.tensor([0.5, 0.5, 0.0]))
    all_timeouts = tl._replace(timeout=torch.ones(3, dtype=torch.bool))
    torch.testing.assert_close(replay_target_factors(all_timeouts, 0.9, 2, True)[1], torch.zeros(3))
