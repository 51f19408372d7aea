"""Recurrent agents: stored state, reset_one, value without advancing, replay, mode switches."""

import torch
from torch.testing import assert_close

from rlpyt.agents.pg.categorical import RecurrentCategoricalPgAgent
from rlpyt.agents.pg.gaussian import RecurrentGaussianPgAgent
from rlpyt.envs.base import EnvSpaces
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.buffer import buffer_method

B, T, H = 3, 5, 6
SPACES = EnvSpaces(observation=FloatBox(-1, 1, (4,)), action=IntBox(0, 3))


def _agent(cls=RecurrentCategoricalPgAgent, spaces=SPACES):
    torch.manual_seed(0)
    agent = cls(model_kwargs=dict(hidden_sizes=[8], lstm_size=H))
    agent.initialize(spaces)
    agent.sample_mode(0)
    return agent


def _step(agent, seed=0):
    g = torch.Generator().manual_seed(seed)
    return agent.step(
        torch.randn(B, 4, generator=g), torch.randint(0, 3, (B,), generator=g), torch.zeros(B)
    )


def test_prev_rnn_state_is_recorded_batch_major():
    agent = _agent()
    assert agent.prev_rnn_state is None
    first = _step(agent, 0).agent_info.prev_rnn_state
    assert first.h.shape == first.c.shape == (B, 1, H)
    assert (first.h == 0).all() and (first.c == 0).all()
    state_after_first = buffer_method(agent.prev_rnn_state, "clone")
    assert state_after_first.h.abs().sum() > 0
    second = _step(agent, 1).agent_info.prev_rnn_state
    assert_close(tuple(second), tuple(state_after_first))


def test_reset_one_zeros_only_that_env():
    agent = _agent()
    _step(agent, 0)
    before = buffer_method(agent.prev_rnn_state, "clone")
    agent.reset_one(1)
    after = agent.prev_rnn_state
    assert (after.h[1] == 0).all() and (after.c[1] == 0).all()
    for b in (0, 2):
        assert_close(after.h[b], before.h[b])
        assert_close(after.c[b], before.c[b])
    assert_close(_step(agent, 1).agent_info.prev_rnn_state.h[1], torch.zeros(1, H))
    agent.reset()
    assert agent.prev_rnn_state is None
    agent.reset_one(0)  # nothing stored: no-op


def test_value_uses_but_does_not_advance_state():
    agent = _agent()
    _step(agent, 0)
    state = buffer_method(agent.prev_rnn_state, "clone")
    obs, prev_action, prev_reward = torch.randn(B, 4), torch.tensor([0, 1, 2]), torch.zeros(B)
    value = agent.value(obs, prev_action, prev_reward)
    assert value.shape == (B,)
    assert_close(tuple(agent.prev_rnn_state), tuple(state))
    step = agent.step(obs, prev_action, prev_reward)
    assert_close(step.agent_info.value, value)


def test_training_replay_reproduces_sampling():
    """Running __call__ over the batch from prev_rnn_state[0] gives the sampled dist_info."""
    agent = _agent()
    _step(agent, 0)  # start mid-stream, from a non-zero state
    g = torch.Generator().manual_seed(3)
    obs = torch.randn(T, B, 4, generator=g)
    prev_action = torch.randint(0, 3, (T, B), generator=g)
    prev_reward = torch.randn(T, B, generator=g)
    steps = [agent.step(obs[t], prev_action[t], prev_reward[t]) for t in range(T)]
    probs = torch.stack([s.agent_info.dist_info.prob for s in steps])
    values = torch.stack([s.agent_info.value for s in steps])
    init = buffer_method(steps[0].agent_info.prev_rnn_state, "transpose", 0, 1)
    dist_info, value, next_state = agent(obs, prev_action, prev_reward, init)
    assert_close(dist_info.prob, probs)
    assert_close(value, values)
    assert_close(next_state.h, agent.prev_rnn_state.h.transpose(0, 1))


def test_eval_mode_keeps_sampler_state_aside():
    agent = _agent()
    _step(agent, 0)
    sampler_state = agent.prev_rnn_state
    agent.eval_mode(0)
    assert agent.prev_rnn_state is None
    _step(agent, 5)
    agent.eval_mode(0)  # calling again does not overwrite the saved sampler state
    agent.sample_mode(1)
    assert agent.prev_rnn_state is sampler_state
    agent.eval_mode(1)
    agent.train_mode(1)
    assert agent.prev_rnn_state is sampler_state


def test_recurrent_gaussian_agent_records_state():
    spaces = EnvSpaces(observation=FloatBox(-1, 1, (4,)), action=FloatBox(-1, 1, (2,)))
    agent = _agent(RecurrentGaussianPgAgent, spaces)
    step = agent.step(torch.randn(B, 4), torch.randn(B, 2), torch.zeros(B))
    assert step.action.shape == (B, 2)
    assert step.agent_info.prev_rnn_state.h.shape == (B, 1, H)
    assert step.agent_info.dist_info.log_std.shape == (B, 2)
