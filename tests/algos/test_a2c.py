"""A2C: one update per batch, the loss formula, masking, recurrent agents."""

import pytest
import torch
from torch.testing import assert_close

from rlpyt.algos.pg.a2c import A2C
from rlpyt.algos.utils import discount_return
from rlpyt.samplers.collections import BatchSpec
from rlpyt.utils.tensor import valid_mean
from tests.algos.helpers import TinyAgent, TinyRnnAgent, make_samples


def make_a2c(agent, T, B, mid_batch_reset=True, **kwargs):
    algo = A2C(**kwargs)
    algo.initialize(agent, n_itr=10, batch_spec=BatchSpec(T, B), mid_batch_reset=mid_batch_reset)
    return algo


def test_loss_matches_the_formula():
    agent = TinyAgent()
    samples = make_samples(agent, 5, 3, done=[(2, 1)])
    algo = make_a2c(agent, 5, 3, discount=0.9)
    with torch.no_grad():
        loss, entropy, perplexity = algo.loss(samples)
        dist_info, value = agent(samples.env.observation, None, None)
    prob = dist_info.prob
    ret = discount_return(samples.env.reward, samples.env.done, samples.agent.bootstrap_value, 0.9)
    adv = ret - samples.agent.agent_info.value
    logli = torch.log(prob.gather(-1, samples.agent.action[..., None]).squeeze(-1) + 1e-8)
    ent = -(prob * torch.log(prob + 1e-8)).sum(-1)
    expected = -(logli * adv).mean() + 0.5 * 0.5 * ((value - ret) ** 2).mean() - 0.01 * ent.mean()
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(entropy, ent.mean())
    torch.testing.assert_close(perplexity, ent.exp().mean())


def test_one_update_per_iteration_decreases_loss():
    agent = TinyAgent()
    samples = make_samples(agent, 6, 4, done=[(1, 2)], timeout=[(3, 0)])
    algo = make_a2c(agent, 6, 4, OptimCls=torch.optim.SGD, learning_rate=1e-3)
    with torch.no_grad():
        before = algo.loss(samples)[0].item()
    opt_info = algo.optimize_agent(0, samples)
    with torch.no_grad():
        after = algo.loss(samples)[0].item()
    assert after < before
    assert algo.update_counter == 1
    assert [len(v) for v in opt_info] == [1, 1, 1, 1]
    assert opt_info.loss[0] == pytest.approx(before, rel=1e-5)
    assert algo.batch_size == 24


def test_grad_norm_is_clipped():
    agent = TinyAgent()
    samples = make_samples(agent, 6, 4)
    samples.env.reward.mul_(1000.0)
    algo = make_a2c(agent, 6, 4, OptimCls=torch.optim.SGD, learning_rate=1.0, clip_grad_norm=0.5)
    params = [p.detach().clone() for p in agent.parameters()]
    opt_info = algo.optimize_agent(0, samples)
    step = torch.sqrt(sum(((p - q) ** 2).sum() for p, q in zip(agent.parameters(), params)))
    assert opt_info.gradNorm[0] > 0.5  # the norm before clipping is reported
    assert step.item() == pytest.approx(0.5, rel=1e-4)


def test_masked_steps_do_not_affect_the_loss_waitreset():
    agent = TinyAgent()
    samples = make_samples(agent, 6, 2, done=[(1, 0)], timeout=[(3, 1)])
    algo = make_a2c(agent, 6, 2, mid_batch_reset=False)
    with torch.no_grad():
        base = algo.loss(samples)[0].item()
    # invalid: col 0 after t=1 (WaitReset), col 1 from the timeout at t=3 on
    samples.env.reward[2:, 0] += 10.0
    samples.env.observation[2:, 0] -= 4.0
    samples.env.reward[3:, 1] += 10.0
    samples.agent.action[3:, 1] = 1 - samples.agent.action[3:, 1]
    samples.agent.agent_info.value[2:, 0] += 2.0
    samples.agent.agent_info.value[4:, 1] += 2.0  # value[3, 1] is the bootstrap target
    with torch.no_grad():
        assert algo.loss(samples)[0].item() == pytest.approx(base, rel=1e-6)


def test_recurrent_agent_gets_initial_state_of_the_batch():
    agent = TinyRnnAgent()
    samples = make_samples(agent, 4, 3, done=[(1, 1)])
    algo = make_a2c(agent, 4, 3, mid_batch_reset=True)
    _, _, valid = algo.process_returns(samples)
    assert valid is not None and valid[2:, 1].sum() == 0  # recurrent: no training past a done
    algo.optimize_agent(0, samples)
    (call,) = agent.calls
    assert call["observation"].shape == (4, 3, 3)
    torch.testing.assert_close(call["init_rnn_state"].h[0, :, 0], torch.arange(3.0))


def test_state_dict_round_trip():
    agent = TinyAgent()
    samples = make_samples(agent, 4, 2)
    algo = make_a2c(agent, 4, 2)
    algo.optimize_agent(0, samples)
    state = algo.optim_state_dict()
    algo2 = A2C(initial_optim_state_dict=state)
    algo2.initialize(agent, n_itr=10, batch_spec=BatchSpec(4, 2))
    assert algo2.update_counter == 1
    s1, s2 = algo.optimizer.state_dict(), algo2.optimizer.state_dict()
    for k in s1["state"]:
        for name in s1["state"][k]:
            torch.testing.assert_close(s1["state"][k][name], s2["state"][k][name])


def test_adam_is_fused_unless_the_caller_chooses():
    agent = TinyAgent()
    assert make_a2c(agent, 4, 2).optimizer.defaults["fused"] is True
    algo = make_a2c(agent, 4, 2, optim_kwargs={"foreach": False})
    assert not algo.optimizer.defaults["fused"] and algo.optimizer.defaults["foreach"] is False
    sgd = make_a2c(agent, 4, 2, OptimCls=torch.optim.SGD, optim_kwargs={"momentum": 0.9})
    assert sgd.optimizer.defaults["momentum"] == 0.9


@pytest.mark.parametrize("mixed_dtypes", [False, True])
def test_grad_clipping_and_zeroing_match_torch(mixed_dtypes):
    # The short paths of PolicyGradientAlgo give exactly what the torch calls give.
    torch.manual_seed(0)
    agent = TinyAgent()
    if mixed_dtypes:  # two foreach groups: the torch function is used
        first = next(iter(agent.parameters()))
        first.data = first.data.double()
    algo = make_a2c(agent, 4, 2, clip_grad_norm=0.1)
    assert algo._gradient_step.foreach_clip is not mixed_dtypes
    params = algo._gradient_step.params
    reference = [torch.nn.Parameter(p.detach().clone()) for p in params]
    for p, r in zip(params, reference):
        p.grad = torch.randn_like(p)
        r.grad = p.grad.clone()
    expected_norm = torch.nn.utils.clip_grad_norm_(reference, 0.1, foreach=True)
    norm = algo._clip_grad_norm()
    assert torch.equal(norm, expected_norm)
    for p, r in zip(params, reference):
        assert torch.equal(p.grad, r.grad)
    algo._zero_grad()
    assert all(p.grad is None for p in params)


def test_value_loss_matches_the_formula():
    algo = A2C(value_loss_coeff=0.3)
    value, return_ = torch.randn(6, 4), torch.randn(6, 4)
    valid = (torch.rand(6, 4) > 0.3).float()
    for mask in (None, valid):
        expected = 0.3 * valid_mean(0.5 * (value - return_) ** 2, mask)
        assert_close(algo.value_loss(value, return_, mask), expected)
