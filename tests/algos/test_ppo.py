"""PPO: updates, minibatching (feed-forward and recurrent), schedules, masks, state dicts."""

import copy
import io

import pytest
import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.algos.pg.ppo import PPO
from rlpyt.algos.utils import valid_from_done
from rlpyt.samplers.collections import BatchSpec
from tests.algos.helpers import TinyAgent, TinyRnnAgent, make_samples


def make_ppo(agent, T, B, n_itr=10, mid_batch_reset=True, **kwargs):
    algo = PPO(**kwargs)
    algo.initialize(agent, n_itr=n_itr, batch_spec=BatchSpec(T, B), mid_batch_reset=mid_batch_reset)
    return algo


def full_batch_loss(algo, samples):
    """The PPO loss of the whole batch under the current parameters (no grad)."""
    return_, advantage, valid = algo.process_returns(samples)
    inputs = AgentInputs(
        samples.env.observation, samples.agent.prev_action, samples.env.prev_reward
    )
    kwargs = {}
    if algo.agent.recurrent:
        kwargs["init_rnn_state"] = algo._init_rnn_state(samples)
    with torch.no_grad():
        loss, _, _ = algo.loss(
            inputs,
            samples.agent.action,
            return_,
            advantage,
            valid,
            samples.agent.agent_info.dist_info,
            **kwargs,
        )
    return loss.item()


def test_update_decreases_loss_on_fixed_batch():
    torch.manual_seed(0)
    agent = TinyAgent()
    samples = make_samples(agent, T=8, B=4, done=[(3, 1)])
    algo = make_ppo(agent, 8, 4, learning_rate=0.01, linear_lr_schedule=False)
    before = full_batch_loss(algo, samples)
    opt_info = algo.optimize_agent(0, samples)
    after = full_batch_loss(algo, samples)
    assert after < before
    assert algo.update_counter == 16
    assert set(opt_info._fields) >= {"loss", "gradNorm", "entropy", "perplexity"}
    for values in opt_info:
        assert len(values) == 16
        assert all(isinstance(v, float) and v == v for v in values)


def test_feedforward_minibatches_partition_the_batch_each_epoch():
    agent = TinyAgent()
    T, B = 4, 3
    samples = make_samples(agent, T, B)
    algo = make_ppo(agent, T, B, epochs=2, minibatches=4)
    algo.optimize_agent(0, samples)
    # one forward per minibatch, nothing else (no redundant forward passes)
    assert len(agent.calls) == 8
    for epoch in range(2):
        ids = []
        for call in agent.calls[4 * epoch : 4 * epoch + 4]:
            obs = call["observation"]
            assert obs.shape == (3, 3)  # T * B / minibatches flat samples
            ids += (obs[:, 0] * B + obs[:, 1]).long().tolist()
        assert sorted(ids) == list(range(T * B))


def test_recurrent_minibatches_keep_sequences_whole():
    agent = TinyRnnAgent()
    T, B = 5, 8
    samples = make_samples(agent, T, B, done=[(2, 3)])
    algo = make_ppo(agent, T, B, epochs=2, minibatches=4)
    algo.optimize_agent(0, samples)
    assert len(agent.calls) == 8
    for epoch in range(2):
        columns = []
        for call in agent.calls[4 * epoch : 4 * epoch + 4]:
            obs, state = call["observation"], call["init_rnn_state"]
            assert obs.shape == (T, 2, 3)
            torch.testing.assert_close(obs[:, :, 0], torch.arange(T.__float__()).expand(2, T).T)
            cols = obs[0, :, 1].long()
            assert torch.equal(obs[:, :, 1].long(), cols.expand(T, 2))  # one env per column
            # init state: prev_rnn_state at t=0 of the same envs, as [N=1, mb_B, H]
            assert state.h.shape == (1, 2, 8)
            torch.testing.assert_close(state.h[0, :, 0], cols.float())
            torch.testing.assert_close(state.c[0, :, 0], -cols.float())
            columns += cols.tolist()
        assert sorted(columns) == list(range(B))


def test_linear_lr_and_ratio_clip_annealing():
    agent = TinyAgent()
    samples = make_samples(agent, 4, 2)
    lr0 = 0.01
    algo = make_ppo(agent, 4, 2, n_itr=3, epochs=2, minibatches=2, learning_rate=lr0)
    used_lrs = []
    algo.optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: used_lrs.append(opt.param_groups[0]["lr"])
    )
    assert algo.optimizer.param_groups[0]["lr"] == pytest.approx(lr0)
    assert algo.ratio_clip == pytest.approx(0.1)
    algo.optimize_agent(0, samples)
    assert algo.optimizer.param_groups[0]["lr"] == pytest.approx(lr0 * 8 / 12)
    assert algo.ratio_clip == pytest.approx(0.1 * 8 / 12)
    algo.optimize_agent(1, samples)
    algo.optimize_agent(2, samples)
    assert used_lrs == pytest.approx([lr0 * (1 - k / 12) for k in range(12)])
    assert algo.optimizer.param_groups[0]["lr"] == pytest.approx(0.0)
    assert algo.ratio_clip == pytest.approx(0.0)
    assert algo.update_counter == 12


def test_no_schedule_keeps_lr_and_clip():
    agent = TinyAgent()
    samples = make_samples(agent, 4, 2)
    algo = make_ppo(agent, 4, 2, n_itr=1, linear_lr_schedule=False, learning_rate=0.01)
    algo.optimize_agent(0, samples)
    assert algo.lr_scheduler is None
    assert algo.optimizer.param_groups[0]["lr"] == 0.01 and algo.ratio_clip == 0.1


@pytest.mark.parametrize("mid_batch_reset", [True, False])
def test_masked_steps_do_not_affect_the_loss(mid_batch_reset):
    """Timeout steps (always) and post-done steps (WaitReset) are excluded from the loss."""
    agent = TinyAgent()
    T, B = 6, 2
    samples = make_samples(agent, T, B, done=[(1, 0)], timeout=[(3, 1)])
    algo = make_ppo(agent, T, B, mid_batch_reset=mid_batch_reset)
    _, _, valid = algo.process_returns(samples)
    expected = torch.ones(T, B)
    expected[3, 1] = 0
    if not mid_batch_reset:
        expected *= valid_from_done(samples.env.done)
    torch.testing.assert_close(valid, expected)

    base = full_batch_loss(algo, samples)
    invalid = expected == 0
    perturbed = copy.deepcopy(samples)
    perturbed.env.observation[invalid] += 5.0
    perturbed.agent.action[invalid] = 1 - perturbed.agent.action[invalid]
    perturbed.env.reward[invalid] += 7.0
    # the stored value of the timeout step is the bootstrap target of the step before it
    keep_value = invalid.clone()
    keep_value[3, 1] = False
    perturbed.agent.agent_info.value[keep_value] -= 3.0
    assert full_batch_loss(algo, perturbed) == pytest.approx(base, rel=1e-6)


def test_timeout_field_all_false_is_plain():
    agent = TinyAgent()
    s_with = make_samples(agent, 5, 2, done=[(2, 0)])
    s_without = make_samples(agent, 5, 2, done=[(2, 0)], timeout_field=False)
    algo = make_ppo(agent, 5, 2, gae_lambda=0.9)
    r1, a1, v1 = algo.process_returns(s_with)
    r2, a2, v2 = algo.process_returns(s_without)
    torch.testing.assert_close(r1, r2)
    torch.testing.assert_close(a1, a2)
    assert v1 is None and v2 is None


def test_normalize_advantage_over_valid_entries():
    agent = TinyAgent()
    samples = make_samples(agent, 6, 3, done=[(1, 0)], timeout=[(4, 2)])
    algo = make_ppo(agent, 6, 3, mid_batch_reset=False, normalize_advantage=True)
    _, adv, valid = algo.process_returns(samples)
    kept = adv[valid > 0]
    assert kept.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert kept.std().item() == pytest.approx(1.0, abs=1e-5)


def test_optim_state_dict_round_trip_resumes_exactly():
    agent = TinyAgent()
    samples = make_samples(agent, 4, 4)
    algo = make_ppo(agent, 4, 4, n_itr=4)
    algo.optimize_agent(0, samples)
    buffer = io.BytesIO()
    torch.save(algo.optim_state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)

    agent2 = copy.deepcopy(agent)
    algo2 = PPO(initial_optim_state_dict=state)
    algo2.initialize(agent2, n_itr=4, batch_spec=BatchSpec(4, 4), mid_batch_reset=True)
    assert algo2.update_counter == algo.update_counter == 16
    assert algo2.ratio_clip == pytest.approx(algo.ratio_clip)
    assert algo2.optimizer.param_groups[0]["lr"] == pytest.approx(
        algo.optimizer.param_groups[0]["lr"]
    )

    torch.manual_seed(123)
    algo.optimize_agent(1, samples)
    torch.manual_seed(123)
    algo2.optimize_agent(1, samples)
    for p, q in zip(agent.parameters(), agent2.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert algo2.ratio_clip == pytest.approx(algo.ratio_clip)

    # a bare torch optimizer state dict (as the original rlpyt saved) also loads
    algo2.load_optim_state_dict(algo.optimizer.state_dict())


def test_update_obs_rms_is_called_first():
    agent = TinyAgent()
    seen = []
    agent.update_obs_rms = lambda obs: seen.append((obs.shape, len(agent.calls)))
    samples = make_samples(agent, 4, 2)
    make_ppo(agent, 4, 2).optimize_agent(0, samples)
    assert seen == [((4, 2, 3), 0)]


def test_too_few_units_for_minibatches():
    with pytest.raises(ValueError, match="minibatches"):
        make_ppo(TinyRnnAgent(), 8, 2, minibatches=4)


@pytest.mark.parametrize("n_units", [12, 13])
def test_minibatch_slices_of_the_shuffled_batch_equal_indexing(n_units):
    # Feed-forward minibatches are slices of the batch shuffled once per epoch: the same data
    # as indexing the batch by each piece of the permutation.
    algo = PPO(minibatches=4)
    data = AgentInputs(torch.randn(n_units, 3), torch.arange(n_units), torch.randn(n_units))
    perm = torch.randperm(n_units)
    pieces = list(algo._minibatches(data, None, perm, recurrent=False))
    assert len(pieces) == 4
    for (mb, rnn_state), idxs in zip(pieces, perm.tensor_split(4)):
        assert rnn_state is None
        for got, want in zip(mb, data[idxs]):
            assert torch.equal(got, want)
