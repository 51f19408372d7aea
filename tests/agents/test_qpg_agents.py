"""DDPG, TD3 and SAC agents: shapes, action scaling, exploration and evaluation, fused twin
critics, target updates, SAC log-likelihoods against torch.distributions, state dicts, and
stepping Pendulum-v1 inside the SerialSampler without a model class written by the user."""

import copy
import io
import math
import pickle

import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch.distributions import AffineTransform, Normal, TanhTransform, TransformedDistribution
from torch.testing import assert_close

from rlpyt.agents.base import AgentStep
from rlpyt.agents.qpg.base import ActionScaling
from rlpyt.agents.qpg.ddpg_agent import AgentInfo as DdpgAgentInfo
from rlpyt.agents.qpg.ddpg_agent import DdpgAgent
from rlpyt.agents.qpg.sac_agent import AgentInfo as SacAgentInfo
from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.agents.qpg.td3_agent import Td3Agent
from rlpyt.distributions.gaussian import DistInfoStd
from rlpyt.envs.base import EnvSpaces
from rlpyt.envs.gym import gym_make
from rlpyt.models.qpg.ensemble import QofMuEnsembleMlpModel, SeparateQEnsemble
from rlpyt.models.qpg.mlp import MuMlpModel, PiMlpModel, QofMuMlpModel
from rlpyt.samplers.parallel.worker import detach_model
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox

T, B = 4, 3
SMALL = dict(hidden_sizes=[16, 16])
# Observations (3, 2) are flattened; an asymmetric action box exercises the affine scaling.
SPACES = EnvSpaces(
    observation=FloatBox(-1, 1, (3, 2)), action=FloatBox([-1.0, 0.0], [3.0, 1.0], (2,))
)
LOW, HIGH = torch.tensor([-1.0, 0.0]), torch.tensor([3.0, 1.0])
CENTER, HALF = (HIGH + LOW) / 2, (HIGH - LOW) / 2
AGENTS = [DdpgAgent, Td3Agent, SacAgent]


class MyQ(QofMuMlpModel):
    """A user's critic class: the agents keep it as separate instances (no fusing)."""


def _agent(cls, spaces=SPACES, seed=0, **kwargs):
    torch.manual_seed(seed)
    kwargs = {"model_kwargs": SMALL, "q_model_kwargs": SMALL, **kwargs}
    agent = cls(**kwargs)
    agent.initialize(spaces)
    return agent


def _inputs(lead, spaces=SPACES):
    obs = torch.randn(lead + spaces.observation.shape)
    prev_action = torch.randn(lead + spaces.action.shape)
    return obs, prev_action, torch.randn(lead)


def _action(lead):
    return CENTER + HALF * (2 * torch.rand(lead + (2,)) - 1)


def _all_q(agent, *inputs):
    q = agent.q(*inputs)
    return q if isinstance(q, tuple) else (q,)


# --- construction ----------------------------------------------------------------------------


def test_default_hidden_sizes_and_models():
    for cls, sizes in [(DdpgAgent, [400, 300]), (Td3Agent, [400, 300]), (SacAgent, [256, 256])]:
        agent = cls()
        assert agent.model_kwargs == dict(hidden_sizes=sizes)
        assert agent.q_model_kwargs == dict(hidden_sizes=sizes)
    assert DdpgAgent().ModelCls is MuMlpModel and SacAgent().ModelCls is PiMlpModel
    assert DdpgAgent().QModelCls is QofMuMlpModel is SacAgent().QModelCls
    td3 = Td3Agent()
    assert (td3.pretrain_std, td3.target_noise_std, td3.target_noise_clip) == (0.5, 0.2, 0.5)
    assert (td3.action_std, td3.action_noise_clip) == (0.1, None)
    sac = SacAgent()
    assert (sac.action_squash, sac.pretrain_std) == (1.0, 0.75)


def test_make_env_to_model_kwargs():
    agent = SacAgent()
    assert agent.make_env_to_model_kwargs(SPACES) == dict(observation_shape=(3, 2), action_size=2)
    bad = EnvSpaces(observation=FloatBox(-1, 1, (3,)), action=FloatBox(-1, 1, (2, 2)))
    with pytest.raises(ValueError, match="vector actions"):
        SacAgent().initialize(bad)
    discrete = EnvSpaces(observation=FloatBox(-1, 1, (3,)), action=IntBox(0, 3, (2,)))
    with pytest.raises(ValueError, match="float"):
        DdpgAgent().initialize(discrete)


def test_infinite_action_bounds_are_refused():
    spaces = EnvSpaces(observation=FloatBox(-1, 1, (3,)), action=FloatBox(-np.inf, np.inf, (2,)))
    with pytest.raises(ValueError, match="finite"):
        _agent(SacAgent, spaces)


def test_action_scaling():
    scaling = ActionScaling([-1.0, 0.0], [3.0, 1.0])
    a = torch.tensor([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]])
    assert_close(scaling.to_env(a), torch.tensor([[-1.0, 0.0], [1.0, 0.5], [3.0, 1.0]]))
    assert_close(scaling.to_normalized(scaling.to_env(a)), a)
    assert scaling.log_scale == pytest.approx(math.log(2.0) + math.log(0.5))
    assert_close(scaling.to_env(torch.full((1, 2), 1.5), clamp=True), torch.tensor([[3.0, 1.0]]))
    pendulum = ActionScaling(-2.0, 2.0)
    assert pendulum._center is None and pendulum._half == 2.0  # one scalar multiply
    unit = ActionScaling([-1.0, -1.0], [1.0, 1.0])
    assert unit.to_env(a) is a and unit.log_scale == 0.0


# --- shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", AGENTS)
@pytest.mark.parametrize("lead", [(), (B,), (T, B)])
def test_critic_and_policy_shapes(cls, lead):
    agent = _agent(cls)
    agent.train_mode(0)
    inputs = _inputs(lead)
    for q in _all_q(agent, *inputs, _action(lead)):
        assert q.shape == lead and q.requires_grad
    if cls is SacAgent:
        action, log_pi, dist_info = agent.pi(*inputs)
        assert action.shape == lead + (2,) and log_pi.shape == lead
        assert isinstance(dist_info, DistInfoStd) and dist_info.mean.shape == lead + (2,)
        assert all(q.shape == lead for q in agent.target_q(*inputs, action))
    else:
        assert agent.q_at_mu(*inputs).shape == lead
        target = agent.target_q_at_mu(*inputs)
        target = target if isinstance(target, tuple) else (target,)
        assert len(target) == agent.n_q
        assert all(q.shape == lead and not q.requires_grad for q in target)


@pytest.mark.parametrize("cls", AGENTS)
def test_step_outputs(cls):
    agent = _agent(cls)
    agent.sample_mode(0)
    step = agent.step(*_inputs((B,)))
    assert isinstance(step, AgentStep)
    assert step.action.shape == (B, 2) and step.action.device.type == "cpu"
    assert not step.action.requires_grad
    assert ((step.action >= LOW) & (step.action <= HIGH)).all()
    if cls is SacAgent:
        assert isinstance(step.agent_info, SacAgentInfo)
        assert step.agent_info.dist_info.log_std.shape == (B, 2)
    else:
        assert isinstance(step.agent_info, DdpgAgentInfo)
        assert step.agent_info.mu.shape == (B, 2)


# --- exploration and evaluation ----------------------------------------------------------------


@pytest.mark.parametrize("cls", AGENTS)
def test_eval_is_deterministic_and_sampling_is_not(cls):
    agent = _agent(cls)
    inputs = _inputs((B,))
    agent.eval_mode(0)
    a1, a2 = agent.step(*inputs).action, agent.step(*inputs).action
    assert torch.equal(a1, a2)
    with torch.no_grad():
        if cls is SacAgent:
            mean, _ = agent.model(*inputs)
            expected = CENTER + HALF * torch.tanh(mean)
        else:
            expected = CENTER + HALF * agent.model(*inputs)
    assert_close(a1, expected)
    agent.sample_mode(1)
    s1, s2 = agent.step(*inputs).action, agent.step(*inputs).action
    assert not torch.equal(s1, s2)


def test_sac_eval_uses_action_squash():
    agent = _agent(SacAgent, action_squash=0.5)
    agent.eval_mode(0)
    inputs = _inputs((B,))
    with torch.no_grad():
        mean, _ = agent.model(*inputs)
    assert_close(agent.step(*inputs).action, CENTER + HALF * 0.5 * torch.tanh(mean))


def test_ddpg_noise_and_action_clip():
    agent = _agent(DdpgAgent, action_std=5.0, action_noise_clip=0.3)
    agent.sample_mode(0)
    inputs = _inputs((200,))
    step = agent.step(*inputs)
    mu = agent.action_scaling.to_normalized(step.agent_info.mu)
    noise = agent.action_scaling.to_normalized(step.action) - mu
    assert noise.abs().max() <= 0.3 + 1e-5
    # std 5 clipped at 0.3: most draws are at the clip, unless the action clip cut them.
    at_clip = (noise.abs() - 0.3).abs() < 1e-4
    inside = (mu + noise).abs() < 1 - 1e-4
    assert at_clip[inside].float().mean() > 0.9
    unclipped = _agent(DdpgAgent, action_std=5.0)
    unclipped.sample_mode(0)
    action = unclipped.step(*inputs).action
    assert ((action >= LOW) & (action <= HIGH)).all()
    assert ((action == LOW) | (action == HIGH)).float().mean() > 0.5  # clipped to the bounds


def test_td3_pretrain_std_before_min_itr_learn():
    agent = _agent(Td3Agent)
    agent.give_min_itr_learn(5)
    agent.sample_mode(0)
    assert agent.distribution.std == 0.5
    agent.sample_mode(5)
    assert agent.distribution.std == 0.1
    agent.eval_mode(5)
    assert agent.distribution.std == 0.0


class ActionEchoQ(torch.nn.Module):
    """A critic whose value is its action's first entry, to see the actions critics get."""

    def __init__(self, observation_shape, action_size, hidden_sizes=None):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, observation, prev_action, prev_reward, action):
        return action[..., 0] + self.dummy


def test_td3_target_policy_smoothing_noise_is_clipped():
    agent = _agent(Td3Agent, QModelCls=ActionEchoQ, target_noise_std=3.0, target_noise_clip=0.2)
    inputs = _inputs((500,))
    q1, q2 = agent.target_q_at_mu(*inputs)
    assert torch.equal(q1, q2)  # one smoothed action for both critics
    with torch.no_grad():
        mu = agent.target_model(*inputs)[:, 0]
    noise = agent.action_scaling.to_normalized(torch.stack([q1, q1], -1))[:, 0] - mu
    assert noise.abs().max() <= 0.2 + 1e-5 and noise.abs().min() < 0.2 - 1e-3
    assert ((q1 >= LOW[0]) & (q1 <= HIGH[0])).all()
    agent.set_target_noise(0.0)
    q1, _ = agent.target_q_at_mu(*inputs)
    assert_close(q1, CENTER[0] + HALF[0] * mu)


def test_ddpg_critic_calls_use_env_units():
    agent = _agent(DdpgAgent, QModelCls=ActionEchoQ)
    inputs = _inputs((B,))
    with torch.no_grad():
        mu = agent.model(*inputs)
    assert_close(agent.q_at_mu(*inputs), CENTER[0] + HALF[0] * mu[:, 0])
    assert_close(agent.target_q_at_mu(*inputs), CENTER[0] + HALF[0] * mu[:, 0])
    action = _action((B,))
    assert_close(agent.q(*inputs, action), action[:, 0])


class ConstantPi(torch.nn.Module):
    """A policy with fixed (learnable) mean and log-std, whatever the observation."""

    def __init__(self, observation_shape, action_size, mean, log_std):
        super().__init__()
        self.mean = torch.nn.Parameter(torch.tensor(mean))
        self.log_std = torch.nn.Parameter(torch.tensor(log_std))

    def forward(self, observation, prev_action, prev_reward):
        lead = observation.shape[: observation.dim() - 2]
        return self.mean.expand(lead + (2,)), self.log_std.expand(lead + (2,))


def test_sac_pretrain_std_before_min_itr_learn():
    pi_kwargs = dict(mean=[0.0, 0.0], log_std=[-15.0, -15.0])
    agent = _agent(SacAgent, ModelCls=ConstantPi, model_kwargs=pi_kwargs)
    agent.give_min_itr_learn(3)
    inputs = _inputs((1000,))
    agent.sample_mode(0)
    normalized = agent.action_scaling.to_normalized(agent.step(*inputs).action)
    # tanh(N(0, 0.75)): spread over the box (std of about 0.56).
    assert 0.45 < normalized.std() < 0.65
    agent.sample_mode(3)
    normalized = agent.action_scaling.to_normalized(agent.step(*inputs).action)
    assert normalized.abs().max() < 1e-4  # the learned std, exp(-15)


# --- SAC log-likelihoods ---------------------------------------------------------------------


@pytest.mark.parametrize("squash", [1.0, 0.7])
def test_sac_log_pi_matches_torch_distributions(squash):
    pi_kwargs = dict(mean=[0.3, -0.8], log_std=[-0.5, 0.2])
    agent = _agent(SacAgent, ModelCls=ConstantPi, model_kwargs=pi_kwargs, action_squash=squash)
    torch.manual_seed(1)
    action, log_pi, dist_info = agent.pi(*_inputs((T, B)))
    assert ((action > LOW) & (action < HIGH)).all()
    reference = TransformedDistribution(
        Normal(dist_info.mean.double(), dist_info.log_std.double().exp()),
        [TanhTransform(), AffineTransform(loc=CENTER.double(), scale=squash * HALF.double())],
    )
    expected = reference.log_prob(action.double()).sum(-1)
    assert_close(log_pi.double(), expected, atol=1e-4, rtol=1e-4)
    # Reparameterised: gradients reach the policy's mean and log-std.
    (log_pi.sum() + action.sum()).backward()
    model = agent.model
    assert model.mean.grad.abs().sum() > 0 and model.log_std.grad.abs().sum() > 0


def test_sac_log_pi_with_default_model_on_pendulum_box():
    spaces = EnvSpaces(observation=FloatBox(-1, 1, (3,)), action=FloatBox(-2, 2, (1,)))
    agent = _agent(SacAgent, spaces)
    action, log_pi, dist_info = agent.pi(*_inputs((64,), spaces))
    std = dist_info.log_std.clamp(-20, 2).exp()
    reference = TransformedDistribution(
        Normal(dist_info.mean.double(), std.double()),
        [TanhTransform(), AffineTransform(loc=0.0, scale=2.0)],
    )
    expected = reference.log_prob(action.detach().double()).sum(-1)
    assert_close(log_pi.double(), expected, atol=1e-3, rtol=1e-4)
    assert (action.abs() <= 2).all()


# --- twin critics ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Td3Agent, SacAgent])
def test_twin_critics_are_fused_and_named(cls):
    agent = _agent(cls)
    assert isinstance(agent.q_models, QofMuEnsembleMlpModel)
    names = ("q_model", "q2_model") if cls is Td3Agent else ("q1_model", "q2_model")
    inputs, action = _inputs((T, B)), _action((T, B))
    q = agent.q(*inputs, action)
    for j, name in enumerate(names):
        member = getattr(agent, name)
        assert_close(member(*inputs, action), q[j])
        target = getattr(agent, "target_" + name)
        assert_close(target(*inputs, action), q[j])  # targets start as copies
    assert {id(p) for p in agent.q_parameters()} == {id(p) for p in agent.q_models.parameters()}
    assert not any(p.requires_grad for p in agent.target_q_models.parameters())


def test_td3_q_at_mu_is_the_first_critic():
    agent = _agent(Td3Agent)
    inputs = _inputs((T, B))
    with torch.no_grad():
        mu = agent.action_scaling.to_env(agent.model(*inputs))
    assert_close(agent.q_at_mu(*inputs), agent.q(*inputs, mu)[0])


@pytest.mark.parametrize("cls", [Td3Agent, SacAgent])
def test_fused_and_separate_critics_agree(cls):
    fused = _agent(cls)
    separate = _agent(cls, QModelCls=MyQ, seed=1)
    assert isinstance(separate.q_models, SeparateQEnsemble)
    separate.load_state_dict(fused.state_dict())  # snapshots are interchangeable
    inputs, action = _inputs((T, B)), _action((T, B))
    for a, b in zip(fused.q(*inputs, action), separate.q(*inputs, action)):
        assert_close(a, b)
    fused_back = _agent(cls, seed=2)
    fused_back.load_state_dict(separate.state_dict())
    for a, b in zip(fused_back.q(*inputs, action), separate.q(*inputs, action)):
        assert_close(a, b)


def test_sac_q1_q2_parameters():
    with pytest.raises(RuntimeError, match="q_parameters"):
        _agent(SacAgent).q1_parameters()
    agent = _agent(SacAgent, QModelCls=MyQ)
    q1, q2 = list(agent.q1_parameters()), list(agent.q2_parameters())
    assert q1 and {id(p) for p in q1}.isdisjoint(id(p) for p in q2)
    assert len(list(agent.q_parameters())) == len(q1) + len(q2)
    assert agent.models.pi is agent.model and agent.models.q2 is agent.q2_model


# --- target updates --------------------------------------------------------------------------


def _online_and_target_tensors(agent):
    pairs = [(agent.q_models, agent.target_q_models)]
    if agent.target_model is not None:
        pairs.append((agent.model, agent.target_model))
    online = [t for m, _ in pairs for t in m.state_dict().values()]
    target = [t for _, m in pairs for t in m.state_dict().values()]
    return online, target


@pytest.mark.parametrize("cls", AGENTS)
def test_target_updates_hard_and_soft(cls):
    agent = _agent(cls)
    online, target = _online_and_target_tensors(agent)
    assert all(torch.equal(o, t) for o, t in zip(online, target))
    with torch.no_grad():
        for p in [*agent.model.parameters(), *agent.q_parameters()]:
            p.add_(torch.randn_like(p))
    online, before = ([t.clone() for t in ts] for ts in _online_and_target_tensors(agent))
    agent.update_target(tau=0.25)
    _, after = _online_and_target_tensors(agent)
    for o, b, a in zip(online, before, after):
        assert_close(a, 0.75 * b + 0.25 * o)
    assert not any(torch.equal(o, a) for o, a in zip(online, after))
    agent.update_target()  # tau=1: copy
    _, after = _online_and_target_tensors(agent)
    assert all(torch.equal(o, a) for o, a in zip(online, after))


def test_sac_has_no_target_policy():
    agent = _agent(SacAgent)
    assert agent.target_model is None
    before = [p.clone() for p in agent.model.parameters()]
    agent.update_target(0.5)
    assert all(torch.equal(b, p) for b, p in zip(before, agent.model.parameters()))


# --- state dicts and initial weights ---------------------------------------------------------


KEYS = {
    DdpgAgent: ["model", "q_model", "target_model", "target_q_model"],
    Td3Agent: ["model", "q_model", "q2_model", "target_model", "target_q_model", "target_q2_model"],
    SacAgent: ["model", "q1_model", "q2_model", "target_q1_model", "target_q2_model"],
}


@pytest.mark.parametrize("cls", AGENTS)
def test_state_dict_round_trip(cls):
    agent = _agent(cls)
    with torch.no_grad():
        for p in agent.q_parameters():
            p.add_(1.0)  # online and target critics differ
    state = agent.state_dict()
    assert sorted(state) == sorted(KEYS[cls])
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    other = _agent(cls, seed=1)
    other.load_state_dict(loaded)
    for key, value in other.state_dict().items():
        assert_close(value, state[key], msg=key)
    restored = _agent(cls, seed=2, initial_model_state_dict=loaded)
    inputs, action = _inputs((B,)), _action((B,))
    for a, b in zip(_all_q(restored, *inputs, action), _all_q(agent, *inputs, action)):
        assert_close(a, b)
    with pytest.raises(KeyError, match="missing"):
        other.load_state_dict({k: v for k, v in state.items() if k != KEYS[cls][-1]})


def test_policy_only_state_dicts():
    agent = _agent(DdpgAgent)
    other = _agent(DdpgAgent, seed=1)
    other.load_state_dict(agent.model.state_dict())  # a plain policy state dict
    assert_close(other.model.state_dict(), agent.model.state_dict())
    initial = _agent(
        Td3Agent,
        seed=3,
        initial_model_state_dict=agent.model.state_dict(),
        initial_q_model_state_dict=agent.q_model.state_dict(),
        initial_q2_model_state_dict=agent.q_model.state_dict(),
    )
    assert_close(initial.model.state_dict(), agent.model.state_dict())
    assert_close(initial.target_model.state_dict(), agent.model.state_dict())
    inputs, action = _inputs((B,)), _action((B,))
    q1, q2 = initial.q(*inputs, action)
    assert_close(q1, agent.q(*inputs, action))
    assert_close(q2, q1)
    assert_close(initial.target_q2_model(*inputs, action), q1)


# --- processes and devices ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", AGENTS)
def test_shared_memory_and_worker_copies(cls):
    agent = cls(model_kwargs=SMALL, q_model_kwargs=SMALL)
    agent.initialize(SPACES, share_memory=True)
    assert type(agent.shared_model) is type(agent.model)
    with torch.no_grad():
        next(agent.model.parameters()).add_(1.0)
    agent.sync_shared_memory()
    assert_close(agent.shared_model.state_dict(), agent.model.state_dict())
    worker = pickle.loads(pickle.dumps(detach_model(agent)))
    assert worker.q_models is None and worker.target_q_models is None
    worker.model = copy.deepcopy(worker.shared_model)
    worker.sample_mode(0)
    assert worker.step(*_inputs((B,))).action.shape == (B, 2)
    master = pickle.loads(pickle.dumps(agent))  # a full copy keeps everything
    master.update_target(0.5)
    assert isinstance(master.q_models, type(agent.q_models))


def test_to_device_without_gpu_is_a_no_op():
    agent = _agent(SacAgent)
    agent.to_device(None)
    assert agent.device.type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            agent.to_device(0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("cls", AGENTS)
def test_to_device_cuda(cls):
    agent = _agent(cls)
    agent.to_device(0)
    inputs = [x.cuda() for x in _inputs((T, B))]
    assert all(q.is_cuda for q in _all_q(agent, *inputs, _action((T, B)).cuda()))
    agent.update_target(0.1)
    agent.sample_mode(0)
    step = agent.step(*_inputs((B,)))
    assert step.action.device.type == "cpu"
    assert ((step.action >= LOW) & (step.action <= HIGH)).all()


def test_data_parallel_on_cpu(tmp_path):
    agent = _agent(Td3Agent)
    assert agent.data_parallel() is False  # no process group
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    try:
        assert agent.data_parallel() is True
        assert isinstance(agent._q_forward, torch.nn.parallel.DistributedDataParallel)
        assert sorted(agent.state_dict()) == sorted(KEYS[Td3Agent])
        inputs = _inputs((T, B))
        q1, q2 = agent.q(*inputs, _action((T, B)))
        (q1 + q2).sum().backward()
        assert all(p.grad is not None for p in agent.q_parameters())
        agent.update_target(0.5)
    finally:
        dist.destroy_process_group()


# --- Pendulum-v1 in the SerialSampler ----------------------------------------------------------


@pytest.mark.parametrize("cls", AGENTS)
def test_agents_on_pendulum_in_serial_sampler(cls):
    from rlpyt.samplers.serial.sampler import SerialSampler

    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="Pendulum-v1"),
        batch_T=5,
        batch_B=2,
        max_decorrelation_steps=0,
    )
    agent = cls(model_kwargs=SMALL, q_model_kwargs=SMALL)  # no model class written
    sampler.initialize(agent, seed=0)
    assert agent.env_model_kwargs == dict(observation_shape=(3,), action_size=1)
    agent.give_min_itr_learn(1)
    for itr in range(2):
        agent.sample_mode(itr)
        samples, _ = sampler.obtain_samples(itr)
        action = samples.agent.action
        assert action.shape == (5, 2, 1)
        assert (action.abs() <= 2).all() and action.abs().max() > 0
        assert_close(samples.agent.prev_action[1:], action[:-1])
    # The sampled batch runs through the critics as it would come out of a replay buffer.
    obs, prev_action, prev_reward = (
        samples.env.observation,
        samples.agent.prev_action,
        samples.env.prev_reward,
    )
    assert all(q.shape == (5, 2) for q in _all_q(agent, obs, prev_action, prev_reward, action))
    sampler.shutdown()
