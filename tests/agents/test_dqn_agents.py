"""DQN-family agents: epsilon schedule, per-env epsilon, acting, target network, state dicts,
recurrent state, noisy nets, Atari variants, and the default models on CartPole."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.agents.base import AgentStep
from rlpyt.agents.dqn.atari.atari_catdqn_agent import AtariCatDqnAgent
from rlpyt.agents.dqn.atari.atari_dqn_agent import AtariDqnAgent
from rlpyt.agents.dqn.atari.atari_r2d1_agent import AtariR2d1Agent, AtariR2d1AlternatingAgent
from rlpyt.agents.dqn.catdqn_agent import AgentInfo as CatAgentInfo
from rlpyt.agents.dqn.catdqn_agent import CatDqnAgent
from rlpyt.agents.dqn.dqn_agent import AgentInfo, DqnAgent
from rlpyt.agents.dqn.r2d1_agent import AgentInfo as R2d1AgentInfo
from rlpyt.agents.dqn.r2d1_agent import R2d1Agent, R2d1AlternatingAgent
from rlpyt.distributions.epsilon_greedy import CategoricalEpsilonGreedy, EpsilonGreedy
from rlpyt.envs.base import EnvSpaces
from rlpyt.envs.gym import gym_make
from rlpyt.models.dqn.atari_catdqn_model import AtariCatDqnModel
from rlpyt.models.dqn.atari_dqn_model import AtariDqnModel
from rlpyt.models.dqn.atari_r2d1_model import AtariR2d1Model
from rlpyt.models.dqn.mlp_q_model import MlpDqnModel, MlpR2d1Model
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.buffer import buffer_method

B, T, A = 3, 4, 3
SPACES = EnvSpaces(observation=FloatBox(-1, 1, (5,)), action=IntBox(0, A))
IMAGES = EnvSpaces(observation=IntBox(0, 256, (2, 32, 32), "uint8"), action=IntBox(0, A))
SMALL_MLP = dict(hidden_sizes=[8])
SMALL_R2D1 = dict(hidden_sizes=[8], lstm_size=6, head_size=8)


def _agent(cls=DqnAgent, spaces=SPACES, model_kwargs=None, **kwargs):
    torch.manual_seed(0)
    if model_kwargs is None:
        model_kwargs = SMALL_R2D1 if cls in (R2d1Agent, R2d1AlternatingAgent) else SMALL_MLP
    agent = cls(model_kwargs=model_kwargs, **kwargs)
    agent.initialize(spaces)
    return agent


def _inputs(lead, obs_shape=(5,), seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(lead + obs_shape, generator=g),
        torch.randint(0, A, lead, generator=g),
        torch.randn(lead, generator=g),
    )


# --- epsilon schedule ------------------------------------------------------------------------


def test_schedule_defaults_and_boundaries():
    agent = _agent()
    assert (agent.eps_init, agent.eps_final, agent.eps_final_min) == (1.0, 0.01, None)
    assert (agent.eps_itr_min, agent.eps_itr_max, agent.eps_eval) == (50, 1000, 0.001)
    assert isinstance(agent.distribution, EpsilonGreedy)
    expected = {0: 1.0, 50: 1.0, 525: 0.505, 1000: 0.01, 5000: 0.01}
    for itr, eps in expected.items():
        agent.sample_mode(itr)
        assert agent.eps_sample == pytest.approx(eps)
        assert agent.distribution.epsilon == pytest.approx(eps)
    agent.sample_mode(1000)
    assert agent.distribution.epsilon == 0.01  # exactly the final value


def test_set_epsilon_itr_min_max():
    agent = _agent(eps_init=0.8, eps_final=0.2)
    agent.set_epsilon_itr_min_max(10, 20)
    agent.sample_mode(10)
    assert agent.distribution.epsilon == pytest.approx(0.8)
    agent.sample_mode(15)
    assert agent.distribution.epsilon == pytest.approx(0.5)
    agent.sample_mode(20)
    assert agent.distribution.epsilon == pytest.approx(0.2)
    agent.set_epsilon_itr_min_max(5, 5)  # a step, no division by zero
    agent.sample_mode(5)
    assert agent.distribution.epsilon == pytest.approx(0.8)
    agent.sample_mode(6)
    assert agent.distribution.epsilon == pytest.approx(0.2)


def test_eval_epsilon_and_back_to_schedule():
    agent = _agent()
    agent.sample_mode(2000)
    agent.eval_mode(2000)
    assert agent.distribution.epsilon == pytest.approx(0.001)
    agent.give_eval_epsilon_greedy(0.05)
    agent.eval_mode(2000)
    assert agent.distribution.epsilon == pytest.approx(0.05)
    agent.sample_mode(0)
    assert agent.distribution.epsilon == pytest.approx(1.0)
    agent.set_sample_epsilon_greedy(0.25)
    assert agent.distribution.epsilon == 0.25 and agent.eps_sample == 0.25
    agent.train_mode(1)  # training leaves epsilon alone
    assert agent.distribution.epsilon == 0.25


def test_vector_epsilon_log_spaced_by_env_rank():
    agent = DqnAgent(
        model_kwargs=SMALL_MLP, eps_final_min=1e-4, eps_final=0.1, eps_itr_min=0, eps_itr_max=100
    )
    agent.initialize(SPACES, global_B=8, env_ranks=[4, 5, 6, 7])
    all_finals = torch.logspace(-4, -1, 8)
    agent.sample_mode(0)
    assert_close(agent.distribution.epsilon, torch.ones(4))
    agent.sample_mode(100)
    assert_close(agent.distribution.epsilon, all_finals[4:])
    assert agent.distribution.epsilon[-1].item() == pytest.approx(0.1)
    agent.sample_mode(75)  # each env on its own line from 1 to its final epsilon
    assert_close(agent.distribution.epsilon, 0.25 + 0.75 * all_finals[4:])
    # a sampler worker stepping other envs
    agent.collector_initialize(global_B=8, env_ranks=[0, 3])
    agent.sample_mode(100)
    assert_close(agent.distribution.epsilon, all_finals[[0, 3]])
    assert agent.distribution.epsilon[0].item() == pytest.approx(1e-4)
    agent.eval_mode(100)  # evaluation: one scalar
    assert agent.distribution.epsilon == pytest.approx(0.001)


def test_vector_epsilon_without_env_ranks_and_single_env():
    agent = DqnAgent(
        model_kwargs=SMALL_MLP, eps_final_min=0.01, eps_final=0.5, eps_itr_min=0, eps_itr_max=1
    )
    agent.initialize(SPACES, global_B=3)
    agent.sample_mode(1)
    assert_close(agent.distribution.epsilon, torch.tensor([0.01, math.sqrt(0.005), 0.5]))
    agent.collector_initialize(global_B=1, env_ranks=None)
    agent.sample_mode(1)
    assert_close(agent.distribution.epsilon, torch.tensor([0.5]))


def test_vector_epsilon_applies_per_env_when_acting():
    agent = DqnAgent(
        model_kwargs=SMALL_MLP, eps_final_min=0.0001, eps_final=1.0, eps_itr_min=0, eps_itr_max=1
    )
    agent.initialize(SPACES, global_B=2, env_ranks=[0, 1])
    agent.sample_mode(1)  # env 0 nearly greedy, env 1 fully random
    torch.manual_seed(1)
    n = 3000
    obs = torch.randn(1, 5).expand(2, 5)
    steps = [agent.step(obs, torch.zeros(2, dtype=torch.long), torch.zeros(2)) for _ in range(n)]
    actions = torch.stack([s.action for s in steps])
    hits = (actions == steps[0].agent_info.q[0].argmax()).float().mean(0)
    assert hits[0].item() > 0.995
    assert hits[1].item() == pytest.approx(1 / A, abs=0.03)


def test_vector_epsilon_follows_alternating_halves():
    agent = DqnAgent(
        model_kwargs=SMALL_MLP, eps_final_min=0.001, eps_final=0.1, eps_itr_min=0, eps_itr_max=1
    )
    agent.initialize(SPACES, global_B=5, env_ranks=list(range(5)))
    agent.sample_mode(1)
    full = agent.eps_sample.clone()
    seen = []
    for n in (3, 2, 3, 2):
        agent.step(*_inputs((n,)))
        seen.append(agent.distribution.epsilon.clone())
    assert_close(seen[0], full[:3])
    assert_close(seen[1], full[3:])
    assert_close(seen[2], full[:3])
    agent.step(*_inputs((5,)))
    assert_close(agent.distribution.epsilon, full)
    # equal halves are served in turn, starting again at each sample_mode
    agent.collector_initialize(global_B=4, env_ranks=[0, 1, 2, 3])
    agent.sample_mode(1)
    full = agent.eps_sample.clone()
    agent.step(*_inputs((2,)))
    assert_close(agent.distribution.epsilon, full[:2])
    agent.step(*_inputs((2,)))
    assert_close(agent.distribution.epsilon, full[2:])
    agent.sample_mode(1)
    agent.step(*_inputs((2,)))
    assert_close(agent.distribution.epsilon, full[:2])
    with pytest.raises(ValueError, match="batch of 3"):
        agent.step(*_inputs((3,)))


def test_example_step_before_any_mode_with_vector_epsilon():
    agent = DqnAgent(model_kwargs=SMALL_MLP, eps_final_min=0.001)
    agent.initialize(SPACES, global_B=6, env_ranks=list(range(6)))
    step = agent.step(*_inputs((1,)))  # the samplers' one-env probe
    assert step.action.shape == (1,)


# --- acting and training forward -------------------------------------------------------------


@pytest.mark.parametrize("cls", [DqnAgent, CatDqnAgent, R2d1Agent])
def test_greedy_step_with_zero_epsilon(cls):
    agent = _agent(cls, eps_init=0.0, eps_final=0.0)
    agent.sample_mode(0)
    for seed in range(3):
        step = agent.step(*_inputs((B,), seed=seed))
        info = step.agent_info
        if cls is CatDqnAgent:
            expected = (info.p * agent.distribution.z).sum(-1).argmax(-1)
        else:
            expected = info.q.argmax(-1)
        assert torch.equal(step.action, expected)


def test_dqn_step_and_call_shapes():
    agent = _agent()
    agent.sample_mode(0)
    step = agent.step(*_inputs((B,)))
    assert isinstance(step, AgentStep) and isinstance(step.agent_info, AgentInfo)
    assert step.action.shape == (B,) and step.action.dtype == torch.long
    assert step.agent_info.q.shape == (B, A) and not step.agent_info.q.requires_grad
    assert agent.step(*_inputs(())).action.shape == ()
    agent.train_mode(0)
    q = agent(*_inputs((T, B)))
    assert q.shape == (T, B, A) and q.requires_grad
    with torch.no_grad():
        target_q = agent.target(*_inputs((T, B)))
    assert target_q.shape == (T, B, A)
    assert_close(target_q, q.detach())  # the target starts as a copy
    assert agent(*_inputs((B,))).shape == (B, A)


@pytest.mark.parametrize("lead", [(), (B,)])
def test_dqn_step_numpy_path_equals_the_module(lead):
    agent = _agent(eps_init=0.0, eps_final=0.0)
    agent.sample_mode(0)
    inputs = _inputs(lead, seed=4)
    assert agent._host_q(inputs[0]) is not None  # the NumPy path serves this agent
    step = agent.step(*inputs)
    handle = agent.model.register_forward_hook(lambda *args: None)  # forces the module path
    try:
        assert agent._host_q(inputs[0]) is None
        module_step = agent.step(*inputs)
    finally:
        handle.remove()
    assert_close(step.agent_info.q, module_step.agent_info.q, atol=1e-5, rtol=1e-5)
    assert torch.equal(step.action, module_step.action)
    assert step.action.dtype == module_step.action.dtype == torch.long
    assert step.agent_info.q.shape == lead + (A,)


def test_step_outputs_are_usable_in_autograd():
    agent = _agent()
    agent.sample_mode(0)
    q = agent.step(*_inputs((B,))).agent_info.q
    w = torch.ones(A, requires_grad=True)
    (q * w).sum().backward()  # not an inference tensor


def test_catdqn_agent():
    agent = _agent(CatDqnAgent, n_atoms=7, V_min=-2, V_max=4)
    assert agent.model_kwargs["n_atoms"] == 7
    assert isinstance(agent.distribution, CategoricalEpsilonGreedy)
    assert_close(agent.distribution.z, torch.linspace(-2, 4, 7))
    agent.sample_mode(0)
    step = agent.step(*_inputs((B,)))
    assert isinstance(step.agent_info, CatAgentInfo)
    p = step.agent_info.p
    assert p.shape == (B, A, 7)
    assert_close(p.sum(-1), torch.ones(B, A))
    assert agent(*_inputs((T, B))).shape == (T, B, A, 7)
    assert agent.target(*_inputs((T, B))).shape == (T, B, A, 7)
    agent.give_V_min_max(-1, 1)
    assert (agent.V_min, agent.V_max) == (-1, 1)
    assert_close(agent.distribution.z, torch.linspace(-1, 1, 7))
    with pytest.raises(ValueError, match="n_atoms"):
        CatDqnAgent(n_atoms=7, model_kwargs=dict(n_atoms=5))


def test_catdqn_default_model_has_51_atoms():
    agent = CatDqnAgent()
    agent.initialize(SPACES)
    assert isinstance(agent.model, MlpDqnModel) and agent.model.n_atoms == 51
    assert_close(agent.distribution.z, torch.linspace(-10, 10, 51))


# --- target network --------------------------------------------------------------------------


def _perturb(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g))


def test_hard_target_update():
    agent = _agent()
    _perturb(agent.model)
    inputs = _inputs((B,))
    assert not torch.allclose(agent.target(*inputs), agent(*inputs))
    agent.update_target()
    assert_close(agent.target(*inputs), agent(*inputs))
    for p, t in zip(agent.model.parameters(), agent.target_model.parameters()):
        assert p.data_ptr() != t.data_ptr()  # copied, not shared


def test_soft_target_update_is_polyak():
    agent = _agent()
    old = {k: v.clone() for k, v in agent.target_model.state_dict().items()}
    _perturb(agent.model)
    agent.update_target(tau=0.1)
    model_state = agent.model.state_dict()
    for k, v in agent.target_model.state_dict().items():
        assert_close(v, 0.1 * model_state[k] + 0.9 * old[k])


# --- state dicts, shared memory, pickling ----------------------------------------------------


def test_state_dict_round_trip():
    agent = _agent()
    _perturb(agent.model, 1)
    _perturb(agent.target_model, 2)
    state = agent.state_dict()
    assert set(state) == {"model", "target"}
    other = _agent()
    other.load_state_dict(state)
    inputs = _inputs((B,))
    assert_close(other(*inputs), agent(*inputs))
    assert_close(other.target(*inputs), agent.target(*inputs))
    # as an initial state dict: both networks, or a plain model state for both
    restored = DqnAgent(model_kwargs=SMALL_MLP, initial_model_state_dict=state)
    restored.initialize(SPACES)
    assert_close(restored.target(*inputs), agent.target(*inputs))
    assert_close(restored(*inputs), agent(*inputs))
    assert restored.initial_model_state_dict is state
    plain = DqnAgent(model_kwargs=SMALL_MLP, initial_model_state_dict=state["model"])
    plain.initialize(SPACES)
    assert_close(plain.target(*inputs), agent(*inputs))
    loaded_plain = _agent()
    loaded_plain.load_state_dict(state["model"])
    assert_close(loaded_plain.target(*inputs), agent(*inputs))


def test_state_dict_loads_with_weights_only(tmp_path):
    agent = _agent(CatDqnAgent)
    torch.save(agent.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    other = _agent(CatDqnAgent)
    other.load_state_dict(state)


def test_shared_memory_gets_the_model_only():
    torch.manual_seed(0)
    agent = DqnAgent(model_kwargs=SMALL_MLP)
    agent.initialize(SPACES, share_memory=True)
    _perturb(agent.model)
    agent.sync_shared_memory()
    inputs = _inputs((B,))
    assert_close(agent.shared_model(*inputs), agent(*inputs))
    # a worker's copy (the sampler drops the model) pickles without the target network
    worker = pickle.loads(pickle.dumps(_detached(agent)))
    assert worker.target_model is None and worker.model is None
    assert pickle.loads(pickle.dumps(agent)).target_model is not None


def _detached(agent):  # as the parallel samplers' detach_model
    worker = copy.copy(agent)
    worker.model = None
    return worker


def test_to_device_without_gpu_is_a_no_op():
    agent = _agent()
    agent.to_device(None)
    assert agent.device.type == "cpu"
    assert next(agent.target_model.parameters()).device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_to_device_moves_both_networks():
    agent = _agent()
    agent.to_device(0)
    assert next(agent.model.parameters()).is_cuda
    assert next(agent.target_model.parameters()).is_cuda
    q = agent(*_inputs((T, B)))
    assert q.is_cuda  # training outputs stay on the model's device
    agent.sample_mode(0)
    step = agent.step(*_inputs((B,)))
    assert step.action.device.type == "cpu" and step.agent_info.q.device.type == "cpu"


# --- recurrent agents ------------------------------------------------------------------------


def test_r2d1_rnn_state_recorded_and_reset():
    agent = _agent(R2d1Agent)
    assert isinstance(agent.model, MlpR2d1Model) and agent.recurrent
    agent.sample_mode(0)
    step = agent.step(*_inputs((B,), seed=0))
    assert isinstance(step.agent_info, R2d1AgentInfo)
    assert step.agent_info.q.shape == (B, A)
    first = step.agent_info.prev_rnn_state
    assert first.h.shape == first.c.shape == (B, 1, 6)
    assert (first.h == 0).all()
    after = buffer_method(agent.prev_rnn_state, "clone")
    assert after.h.abs().sum() > 0
    second = agent.step(*_inputs((B,), seed=1)).agent_info.prev_rnn_state
    assert_close(tuple(second), tuple(after))
    agent.reset_one(1)
    assert (agent.prev_rnn_state.h[1] == 0).all() and (agent.prev_rnn_state.h[0] != 0).any()
    agent.reset()
    assert agent.prev_rnn_state is None


def test_r2d1_replay_from_stored_state_reproduces_q():
    agent = _agent(R2d1Agent)
    agent.sample_mode(0)
    agent.step(*_inputs((B,), seed=9))  # start mid-episode: non-zero state
    steps, inputs = [], []
    for t in range(T):
        x = _inputs((B,), seed=t)
        inputs.append(x)
        steps.append(agent.step(*x))
    obs, prev_action, prev_reward = (torch.stack(z) for z in zip(*inputs))
    init = buffer_method(steps[0].agent_info.prev_rnn_state, "transpose", 0, 1)
    init = buffer_method(init, "contiguous")
    agent.train_mode(0)
    q, state = agent(obs, prev_action, prev_reward, init)
    assert q.shape == (T, B, A) and q.requires_grad
    assert_close(q.detach(), torch.stack([s.agent_info.q for s in steps]))
    assert_close(tuple(buffer_method(state, "transpose", 0, 1)), tuple(agent.prev_rnn_state))
    target_q, _ = agent.target(obs, prev_action, prev_reward, init)
    assert_close(target_q, q.detach())


def test_r2d1_eval_does_not_disturb_sampling_state():
    agent = _agent(R2d1Agent)
    agent.sample_mode(0)
    agent.step(*_inputs((B,)))
    saved = buffer_method(agent.prev_rnn_state, "clone")
    agent.eval_mode(0)
    assert agent.prev_rnn_state is None
    assert agent.distribution.epsilon == pytest.approx(0.001)
    agent.step(*_inputs((2,)))
    agent.sample_mode(1)
    assert_close(tuple(agent.prev_rnn_state), tuple(saved))


def test_r2d1_alternating_agent_halves_and_epsilon():
    agent = R2d1AlternatingAgent(
        model_kwargs=SMALL_R2D1, eps_final_min=0.001, eps_final=0.1, eps_itr_min=0, eps_itr_max=1
    )
    assert agent.alternating and agent.recurrent
    agent.initialize(SPACES, global_B=4, env_ranks=[0, 1, 2, 3])
    agent.sample_mode(1)
    full = agent.eps_sample.clone()
    agent.step(*_inputs((2,), seed=0))
    assert_close(agent.distribution.epsilon, full[:2])
    agent.step(*_inputs((2,), seed=1))
    assert_close(agent.distribution.epsilon, full[2:])
    h0, h1 = (s.h.clone() for s in agent.half_rnn_states)
    assert not torch.allclose(h0, h1)
    agent.step(*_inputs((2,), seed=2))
    assert_close(agent.distribution.epsilon, full[:2])
    with pytest.raises(ValueError):
        agent.step(*_inputs((3,)))


# --- noisy nets ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [DqnAgent, CatDqnAgent, R2d1Agent])
def test_noisy_agent_noise_control(cls):
    model_kwargs = dict(SMALL_R2D1 if cls is R2d1Agent else SMALL_MLP, noisy=True)
    agent = _agent(cls, model_kwargs=model_kwargs, eps_init=0.0, eps_final=0.0)
    x = _inputs((B,))
    rnn = (None,) if cls is R2d1Agent else ()

    def online():
        out = agent(*x, *rnn)
        return out[0] if cls is R2d1Agent else out

    def target():
        out = agent.target(*x, *rnn)
        return out[0] if cls is R2d1Agent else out

    agent.sample_mode(0)
    sampled = online().detach()
    assert_close(online().detach(), sampled)  # fixed within a batch
    agent.sample_mode(1)  # each sampling batch draws new noise
    assert not torch.allclose(online().detach(), sampled)
    agent.eval_mode(1)  # evaluation: the mean weights, deterministic
    evaluated = online().detach()
    agent.resample_noise()
    assert_close(online().detach(), evaluated)
    agent.train_mode(1)
    online_before, target_before = online().detach(), target().detach()
    agent.resample_noise()  # the algorithm, once per update
    assert not torch.allclose(online().detach(), online_before)
    assert not torch.allclose(target().detach(), target_before)
    assert not torch.allclose(online().detach(), target().detach())  # independent draws


# --- Atari agents ----------------------------------------------------------------------------

ATARI = [
    (AtariDqnAgent, AtariDqnModel, dict(channels=[4, 4, 4], fc_sizes=16)),
    (AtariCatDqnAgent, AtariCatDqnModel, dict(channels=[4, 4, 4], fc_sizes=16)),
    (AtariR2d1Agent, AtariR2d1Model, dict(channels=[4, 4, 4], fc_size=8, lstm_size=6)),
    (AtariR2d1AlternatingAgent, AtariR2d1Model, dict(channels=[4, 4, 4], fc_size=8)),
]


@pytest.mark.parametrize("cls, model_cls, model_kwargs", ATARI)
def test_atari_agents(cls, model_cls, model_kwargs):
    kwargs = dict(model_kwargs, head_size=8) if "R2d1" in cls.__name__ else model_kwargs
    agent = cls(model_kwargs=dict(kwargs, dueling=True))
    agent.initialize(IMAGES, global_B=2)
    assert type(agent.model) is model_cls
    agent.sample_mode(0)
    g = torch.Generator().manual_seed(0)
    n = 1 if agent.alternating else 2
    obs = torch.randint(0, 256, (n, 2, 32, 32), dtype=torch.uint8, generator=g)
    step = agent.step(obs, torch.zeros(n, dtype=torch.long), torch.zeros(n))
    assert step.action.shape == (n,)
    info = step.agent_info
    if cls is AtariCatDqnAgent:
        assert info.p.shape == (n, A, 51)
    else:
        assert info.q.shape == (n, A)
    obs_tb = torch.randint(0, 256, (T, 2, 2, 32, 32), dtype=torch.uint8, generator=g)
    inputs = (obs_tb, torch.zeros(T, 2, dtype=torch.long), torch.zeros(T, 2))
    out = agent(*inputs, None) if agent.recurrent else agent(*inputs)
    out = out[0] if agent.recurrent else out
    assert out.shape[:3] == (T, 2, A)


# --- default models on Gymnasium CartPole ----------------------------------------------------


@pytest.fixture(scope="module")
def cartpole():
    env = gym_make("CartPole-v1")
    yield env
    env.close()


@pytest.mark.parametrize(
    "cls, model_cls", [(DqnAgent, MlpDqnModel), (CatDqnAgent, MlpDqnModel), (R2d1Agent, None)]
)
def test_default_models_on_cartpole(cartpole, cls, model_cls):
    agent = cls()
    agent.initialize(cartpole.spaces)
    assert type(agent.model) is (model_cls or MlpR2d1Model)
    agent.sample_mode(0)
    obs = torch.as_tensor(np.stack([cartpole.reset() for _ in range(2)]))
    step = agent.step(obs, torch.zeros(2, dtype=torch.long), torch.zeros(2))
    assert step.action.shape == (2,)
    assert ((step.action >= 0) & (step.action < 2)).all()
    o, r, d, info = cartpole.step(int(step.action[0]))  # the env takes the action
    assert o.shape == (4,)


def test_dqn_agent_in_serial_sampler_on_cartpole():
    from rlpyt.samplers.serial.sampler import SerialSampler

    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=5,
        batch_B=4,
        max_decorrelation_steps=0,
    )
    agent = DqnAgent(eps_final_min=0.001, eps_itr_min=0, eps_itr_max=1)
    sampler.initialize(agent, seed=0)
    samples, _ = sampler.obtain_samples(1)
    assert samples.agent.action.shape == (5, 4)
    q = samples.agent.agent_info.q
    assert q.shape == (5, 4, 2) and q.abs().sum() > 0
    assert_close(agent.distribution.epsilon, torch.logspace(-3, -2, 4))
    sampler.shutdown()
