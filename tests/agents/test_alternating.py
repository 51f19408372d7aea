"""Alternating recurrent agents: one state per env half, strict half order, global reset_one,
eval as a plain recurrent agent, runtime state round trip, equivalence with the plain agent."""

import io

import pytest
import torch
from torch.testing import assert_close

from rlpyt.agents.base import AlternatingRecurrentAgentMixin
from rlpyt.agents.pg.atari import AlternatingAtariLstmAgent, AtariLstmAgent
from rlpyt.agents.pg.categorical import (
    AlternatingRecurrentCategoricalPgAgent,
    RecurrentCategoricalPgAgent,
)
from rlpyt.agents.pg.gaussian import AlternatingRecurrentGaussianPgAgent, RecurrentGaussianPgAgent
from rlpyt.agents.pg.mujoco import AlternatingMujocoLstmAgent, MujocoLstmAgent
from rlpyt.envs.base import EnvSpaces
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.buffer import buffer_method

B, T, H, A = 5, 6, 6, 3  # halves of 5 envs: envs 0..2 and 3..4
B0, B1 = 3, 2
SPACES = EnvSpaces(observation=FloatBox(-1, 1, (4,)), action=IntBox(0, A))
GAUSS_SPACES = EnvSpaces(observation=FloatBox(-1, 1, (4,)), action=FloatBox(-1, 1, (2,)))


def _agent(cls=AlternatingRecurrentCategoricalPgAgent, spaces=SPACES, global_B=B, **kwargs):
    torch.manual_seed(0)  # same parameters for every agent made here
    agent = cls(model_kwargs=dict(hidden_sizes=[8], lstm_size=H))
    agent.initialize(spaces, global_B=global_B, **kwargs)
    agent.sample_mode(0)
    return agent


def _inputs(n_steps, spaces=SPACES, n_envs=B, seed=0):
    """Random agent inputs ``[T, B, ...]``."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n_steps, n_envs, 4, generator=g)
    if isinstance(spaces.action, IntBox):
        prev_action = torch.randint(0, A, (n_steps, n_envs), generator=g)
    else:
        prev_action = torch.randn(n_steps, n_envs, 2, generator=g)
    prev_reward = torch.randn(n_steps, n_envs, generator=g)
    return obs, prev_action, prev_reward


def _half(x, half):
    return x[:B0] if half == 0 else x[B0:]


def _step_half(agent, inputs, t, half):
    return agent.step(*(_half(x[t], half) for x in inputs))


def _clone(state):
    return None if state is None else buffer_method(state, "clone")


def _leaves(x):
    """The tensor leaves of a (nested) namedarraytuple, as a list (for ``assert_close``)."""
    if isinstance(x, torch.Tensor):
        return [x]
    return [leaf for field in x for leaf in _leaves(field)]


def _cat_halves(x0, x1):
    """Join two halves' outputs (tensors or namedarraytuples) along the env dim."""
    if isinstance(x0, torch.Tensor):
        return torch.cat([x0, x1])
    return type(x0)(*(_cat_halves(a, b) for a, b in zip(x0, x1, strict=True)))


def test_class_attributes_and_default_models():
    for cls, plain in [
        (AlternatingRecurrentCategoricalPgAgent, RecurrentCategoricalPgAgent),
        (AlternatingRecurrentGaussianPgAgent, RecurrentGaussianPgAgent),
        (AlternatingAtariLstmAgent, AtariLstmAgent),
        (AlternatingMujocoLstmAgent, MujocoLstmAgent),
    ]:
        assert issubclass(cls, AlternatingRecurrentAgentMixin) and issubclass(cls, plain)
        assert cls.alternating and cls.recurrent
        assert not plain.alternating
        assert cls().ModelCls is plain().ModelCls


def test_half_sizes_follow_the_sampler_split():
    assert _agent().half_sizes == (3, 2)
    assert _agent(global_B=4).half_sizes == (2, 2)
    # With env_ranks (one replica of synchronous training), the halves are of its own envs.
    agent = _agent(global_B=12, env_ranks=list(range(6, 12)))
    assert agent.half_sizes == (3, 3)


def test_steps_alternate_and_keep_one_state_per_half():
    agent = _agent()
    inputs = _inputs(3)
    assert agent.next_half == 0 and agent.half_rnn_states == (None, None)
    s0 = _step_half(agent, inputs, 0, 0)
    assert agent.next_half == 1
    assert s0.action.shape == (B0,)
    assert (s0.agent_info.prev_rnn_state.h == 0).all()
    h0, none = agent.half_rnn_states
    assert h0.h.shape == (B0, 1, H) and none is None
    assert agent.prev_rnn_state is None  # the state of half 1, served next
    s1 = _step_half(agent, inputs, 0, 1)
    assert agent.next_half == 0
    assert s1.action.shape == (B1,)
    assert (s1.agent_info.prev_rnn_state.h == 0).all()
    after0, after1 = (_clone(s) for s in agent.half_rnn_states)
    assert after1.h.shape == (B1, 1, H)
    assert agent.prev_rnn_state.h.shape == (B0, 1, H)
    # The next step of each half starts from that half's own state.
    assert_close(
        _leaves(_step_half(agent, inputs, 1, 0).agent_info.prev_rnn_state), _leaves(after0)
    )
    assert_close(
        _leaves(_step_half(agent, inputs, 1, 1).agent_info.prev_rnn_state), _leaves(after1)
    )


@pytest.mark.parametrize(
    "cls, plain_cls, spaces",
    [
        (AlternatingRecurrentCategoricalPgAgent, RecurrentCategoricalPgAgent, SPACES),
        (AlternatingRecurrentGaussianPgAgent, RecurrentGaussianPgAgent, GAUSS_SPACES),
    ],
    ids=["categorical", "gaussian"],
)
def test_half_by_half_equals_plain_agent_on_full_batch(cls, plain_cls, spaces):
    """As an alternating sampler drives it: T steps on half 0 then half 1, resets of finished
    envs (global indexes) before their half's step, bootstrap values for both halves."""
    alternating, plain = _agent(cls, spaces), _agent(plain_cls, spaces)
    inputs = _inputs(T, spaces)
    resets = {2: [1, 4], 4: [3], 5: [0, 2]}  # time step -> envs whose episodes ended
    for t in range(T):
        for b in resets.get(t, []):
            alternating.reset_one(b)
            plain.reset_one(b)
        torch.manual_seed(100 + t)
        full = plain.step(*(x[t] for x in inputs))
        torch.manual_seed(100 + t)
        halves = [_step_half(alternating, inputs, t, half) for half in (0, 1)]
        got_info = _cat_halves(halves[0].agent_info, halves[1].agent_info)
        assert_close(_leaves(got_info), _leaves(full.agent_info), msg=f"agent_info at step {t}")
        if isinstance(spaces.action, IntBox):
            # The categorical sampler draws its noise row by row: the same draws for the two
            # halves in turn as for the full batch.
            assert torch.equal(torch.cat([halves[0].action, halves[1].action]), full.action)
    value = plain.value(*(x[-1] for x in inputs))
    got_value = torch.cat([alternating.value(*(_half(x[-1], h) for x in inputs)) for h in (0, 1)])
    assert_close(got_value, value)
    assert alternating.next_half == 0
    assert_close(_leaves(_cat_halves(*alternating.half_rnn_states)), _leaves(plain.prev_rnn_state))


def test_value_passes_the_turn_without_advancing_the_state():
    agent = _agent()
    inputs = _inputs(2)
    _step_half(agent, inputs, 0, 0)
    _step_half(agent, inputs, 0, 1)
    before = [_clone(s) for s in agent.half_rnn_states]
    v0 = agent.value(*(_half(x[1], 0) for x in inputs))
    assert v0.shape == (B0,) and agent.next_half == 1
    v1 = agent.value(*(_half(x[1], 1) for x in inputs))
    assert v1.shape == (B1,) and agent.next_half == 0
    for got, expected in zip(agent.half_rnn_states, before, strict=True):
        assert_close(_leaves(got), _leaves(expected))
    assert_close(_step_half(agent, inputs, 1, 0).agent_info.value, v0)
    assert_close(_step_half(agent, inputs, 1, 1).agent_info.value, v1)


def test_reset_one_takes_global_indexes():
    agent = _agent()
    inputs = _inputs(1)
    _step_half(agent, inputs, 0, 0)
    _step_half(agent, inputs, 0, 1)
    before = [_clone(s) for s in agent.half_rnn_states]
    agent.reset_one(1)  # half 0, row 1
    agent.reset_one(4)  # half 1, row 1
    got0, got1 = agent.half_rnn_states
    for got, expected, zeroed in [(got0, before[0], {1}), (got1, before[1], {1})]:
        for row in range(got.h.shape[0]):
            if row in zeroed:
                assert (got.h[row] == 0).all() and (got.c[row] == 0).all()
            else:
                assert got.h[row].abs().sum() > 0
                assert_close(got.h[row], expected.h[row])
                assert_close(got.c[row], expected.c[row])
    # Also with the halves' turn in the middle (half 1 next).
    _step_half(agent, inputs, 0, 0)
    agent.reset_one(3)
    agent.reset_one(0)
    assert (agent.half_rnn_states[1].h[0] == 0).all()
    assert (agent.half_rnn_states[0].h[0] == 0).all()
    assert agent.half_rnn_states[0].h[1].abs().sum() > 0
    for idx in (-1, B):
        with pytest.raises(IndexError, match="not in 0..4"):
            agent.reset_one(idx)


def test_reset_forgets_both_halves_and_the_turn():
    agent = _agent()
    inputs = _inputs(2)
    _step_half(agent, inputs, 0, 0)
    _step_half(agent, inputs, 0, 1)
    _step_half(agent, inputs, 1, 0)
    agent.reset()
    assert agent.next_half == 0 and agent.half_rnn_states == (None, None)
    agent.reset_one(4)  # nothing stored: a no-op
    step = _step_half(agent, inputs, 1, 0)
    assert (step.agent_info.prev_rnn_state.h == 0).all()


def test_wrong_batch_size_raises():
    agent = _agent()
    obs, prev_action, prev_reward = (x[0] for x in _inputs(1))
    with pytest.raises(ValueError, match=r"got 5 envs for half 0, expected 3"):
        agent.step(obs, prev_action, prev_reward)  # the full batch
    with pytest.raises(ValueError, match=r"got 5 envs for half 0, expected 3"):
        agent.value(obs, prev_action, prev_reward)
    agent.step(obs[:B0], prev_action[:B0], prev_reward[:B0])
    with pytest.raises(ValueError, match=r"got 3 envs for half 1, expected 2"):
        agent.step(obs[:B0], prev_action[:B0], prev_reward[:B0])  # half 0 twice
    assert agent.next_half == 1  # a refused call leaves the turn where it was


def test_one_env_example_step_before_any_mode():
    """The samplers probe a fresh agent with a batch of one between two resets."""
    torch.manual_seed(0)
    agent = AlternatingRecurrentCategoricalPgAgent(model_kwargs=dict(hidden_sizes=[8]))
    agent.initialize(SPACES, global_B=B)
    obs, prev_action, prev_reward = (x[0, :1] for x in _inputs(1))
    agent.reset()
    assert agent.step(obs, prev_action, prev_reward).action.shape == (1,)
    agent.reset()
    assert agent.next_half == 0 and agent.half_rnn_states == (None, None)


def test_eval_mode_is_a_plain_recurrent_agent_and_keeps_sampling_aside():
    agent = _agent()
    inputs = _inputs(3)
    _step_half(agent, inputs, 0, 0)
    _step_half(agent, inputs, 0, 1)
    _step_half(agent, inputs, 1, 0)  # half 1 next
    saved = [_clone(s) for s in agent.half_rnn_states]
    plain = _agent(RecurrentCategoricalPgAgent)
    agent.eval_mode(1)
    plain.eval_mode(1)
    n_eval = 4  # all eval envs in one batch, any number
    eval_inputs = _inputs(3, n_envs=n_eval, seed=7)
    agent.reset()
    for t in range(3):
        if t == 2:
            agent.reset_one(3)  # an eval env's index
            plain.reset_one(3)
        got = agent.step(*(x[t] for x in eval_inputs))
        expected = plain.step(*(x[t] for x in eval_inputs))
        assert_close(_leaves(got.agent_info), _leaves(expected.agent_info))
    assert agent.prev_rnn_state.h.shape == (n_eval, 1, H)
    assert agent.value(*(x[2] for x in eval_inputs)).shape == (n_eval,)
    # While evaluating, the sampling states are reported (and saved) unchanged.
    for got, expected in zip(agent.half_rnn_states, saved, strict=True):
        assert_close(_leaves(got), _leaves(expected))
    agent.eval_mode(1)  # again: the sampling states stay aside
    for mode in ("sample_mode", "train_mode"):
        getattr(agent, mode)(2)
        assert agent.next_half == 1
        for got, expected in zip(agent.half_rnn_states, saved, strict=True):
            assert_close(_leaves(got), _leaves(expected))
        agent.eval_mode(2)
        agent.reset()
    agent.sample_mode(3)
    assert_close(
        _leaves(_step_half(agent, inputs, 1, 1).agent_info.prev_rnn_state), _leaves(saved[1])
    )


def _save_load(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize("in_eval", [False, True], ids=["sampling", "evaluating"])
def test_runtime_state_round_trip(in_eval):
    agent = _agent()
    inputs = _inputs(4)
    _step_half(agent, inputs, 0, 0)
    _step_half(agent, inputs, 0, 1)
    _step_half(agent, inputs, 1, 0)  # stop mid-step: half 1 next
    if in_eval:
        agent.eval_mode(0)
        agent.step(*(x[0] for x in _inputs(1, n_envs=2)))
    state = _save_load(agent.runtime_state_dict())
    assert state["next_half"] == 1 and len(state["rnn_state_halves"]) == 2
    restored = _agent()
    restored.load_runtime_state_dict(state)
    if in_eval:
        agent.sample_mode(1)
    assert restored.next_half == 1
    for got, expected in zip(restored.half_rnn_states, agent.half_rnn_states, strict=True):
        assert_close(_leaves(got), _leaves(expected))
    for t, half in [(1, 1), (2, 0), (2, 1)]:
        assert_close(
            _leaves(_step_half(restored, inputs, t, half).agent_info),
            _leaves(_step_half(agent, inputs, t, half).agent_info),
        )
    # Loading while evaluating restores the sampling states on sample_mode.
    late = _agent()
    late.eval_mode(0)
    late.load_runtime_state_dict(state)
    assert late.prev_rnn_state is None
    late.sample_mode(1)
    assert late.next_half == 1 and late.half_rnn_states[0].h.shape == (B0, 1, H)


def test_runtime_state_of_a_fresh_agent_and_of_a_plain_agent():
    state = _save_load(_agent().runtime_state_dict())
    assert state == {"rnn_state_halves": [None, None], "next_half": 0}
    plain_state = _agent(RecurrentCategoricalPgAgent).runtime_state_dict()
    with pytest.raises(ValueError, match="not an alternating agent's state"):
        _agent().load_runtime_state_dict(plain_state)


def test_training_forward_replays_each_half():
    """The training forward is the plain agent's: replaying a batch from the recorded
    ``prev_rnn_state[0]`` reproduces what the halves sampled."""
    agent = _agent()
    inputs = _inputs(T)
    _step_half(agent, inputs, 0, 0)  # start from non-zero states
    _step_half(agent, inputs, 0, 1)
    steps = [[_step_half(agent, inputs, t, half) for half in (0, 1)] for t in range(1, T)]
    info = [_cat_halves(s0.agent_info, s1.agent_info) for s0, s1 in steps]
    probs = torch.stack([i.dist_info.prob for i in info])
    init = buffer_method(info[0].prev_rnn_state, "transpose", 0, 1)
    agent.train_mode(0)
    dist_info, value, _ = agent(*(x[1:] for x in inputs), init)
    assert_close(dist_info.prob, probs)
    assert_close(value, torch.stack([i.value for i in info]))


@pytest.mark.parametrize("cls", [AlternatingAtariLstmAgent, AlternatingMujocoLstmAgent])
def test_atari_and_mujoco_alternating_agents_step_halves(cls):
    if cls is AlternatingAtariLstmAgent:
        spaces = EnvSpaces(observation=IntBox(0, 256, (2, 20, 20)), action=IntBox(0, A))
        obs = torch.randint(0, 256, (B, 2, 20, 20), dtype=torch.uint8)
        prev_action = torch.zeros(B, dtype=torch.long)
        model_kwargs = dict(fc_sizes=16, lstm_size=8)
    else:
        spaces = GAUSS_SPACES
        obs, prev_action = torch.randn(B, 4), torch.zeros(B, 2)
        model_kwargs = dict(hidden_sizes=[8], lstm_size=8)
    agent = cls(model_kwargs=model_kwargs)
    agent.initialize(spaces, global_B=B)
    agent.sample_mode(0)
    for half in (0, 1, 0):
        rows = slice(0, B0) if half == 0 else slice(B0, B)
        step = agent.step(obs[rows], prev_action[rows], torch.zeros(B)[rows])
        assert step.agent_info.value.shape == (rows.stop - rows.start,)
        assert step.agent_info.prev_rnn_state.h.shape == (rows.stop - rows.start, 1, 8)
    assert agent.next_half == 1
