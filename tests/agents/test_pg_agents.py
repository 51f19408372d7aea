"""Policy-gradient agents on rlpyt and Gymnasium spaces: step, training forward, value."""

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.agents.base import (
    AgentStep,
    model_ignores_prev_inputs,
    space_n,
    space_shape,
    space_size,
)
from rlpyt.agents.pg.atari import AtariFfAgent, AtariLstmAgent
from rlpyt.agents.pg.base import AgentInfo, AgentInfoRnn
from rlpyt.agents.pg.categorical import CategoricalPgAgent, RecurrentCategoricalPgAgent
from rlpyt.agents.pg.gaussian import GaussianPgAgent, RecurrentGaussianPgAgent
from rlpyt.agents.pg.mujoco import MujocoFfAgent, MujocoLstmAgent
from rlpyt.distributions.categorical import DistInfo
from rlpyt.distributions.gaussian import DistInfoStd
from rlpyt.envs.base import EnvSpaces
from rlpyt.envs.gym import gym_make
from rlpyt.models.pg.mlp_model import CategoricalPgLstmModel, CategoricalPgMlpModel
from rlpyt.models.pg.mujoco_ff_model import MujocoFfModel
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox

B, T = 3, 4
DISCRETE = EnvSpaces(observation=FloatBox(-1, 1, (5,)), action=IntBox(0, 3))
CONTINUOUS = EnvSpaces(observation=FloatBox(-1, 1, (5,)), action=FloatBox(-1, 1, (2,)))
IMAGES = EnvSpaces(observation=IntBox(0, 256, (2, 32, 32), "uint8"), action=IntBox(0, 3))
SMALL_ATARI = dict(fc_sizes=16, channels=[4, 4], lstm_size=8)
SMALL_ATARI_FF = dict(fc_sizes=16, channels=[4, 4])


@pytest.fixture(scope="module")
def gym_spaces():
    cartpole, pendulum = gym_make("CartPole-v1"), gym_make("Pendulum-v1")
    yield {"cartpole": cartpole.spaces, "pendulum": pendulum.spaces}
    cartpole.close()
    pendulum.close()


def _inputs(spaces, lead):
    obs_space = spaces.observation
    obs = torch.as_tensor(np.stack([obs_space.sample() for _ in range(int(np.prod(lead)))]))
    obs = obs.reshape(lead + space_shape(obs_space))
    act = torch.as_tensor(np.stack([spaces.action.sample() for _ in range(int(np.prod(lead)))]))
    return obs, act.reshape(lead + space_shape(spaces.action)), torch.randn(lead)


def _check_agent(agent, spaces, discrete):
    torch.manual_seed(0)
    agent.initialize(spaces)
    agent.sample_mode(0)
    obs, prev_action, prev_reward = _inputs(spaces, (B,))
    step = agent.step(obs, prev_action, prev_reward)
    assert isinstance(step, AgentStep)
    info = step.agent_info
    assert isinstance(info, AgentInfoRnn if agent.recurrent else AgentInfo)
    assert info.value.shape == (B,)
    assert not step.action.requires_grad and not info.value.requires_grad
    assert step.action.device.type == "cpu"
    if discrete:
        assert step.action.shape == (B,) and step.action.dtype == torch.long
        assert ((step.action >= 0) & (step.action < space_n(spaces.action))).all()
        assert isinstance(info.dist_info, DistInfo)
        assert info.dist_info.prob.shape == (B, space_n(spaces.action))
    else:
        assert step.action.shape == (B, space_size(spaces.action))
        assert isinstance(info.dist_info, DistInfoStd)
    assert agent.value(obs, prev_action, prev_reward).shape == (B,)

    agent.train_mode(0)
    inputs = _inputs(spaces, (T, B))
    if agent.recurrent:
        dist_info, value, state = agent(*inputs, None)
        assert state.h.shape[1] == B
    else:
        dist_info, value = agent(*inputs)
    assert value.shape == (T, B) and value.requires_grad
    loss = value.sum() + sum(x.sum() for x in dist_info)
    loss.backward()
    assert all(p.grad is not None for p in agent.parameters())


@pytest.mark.parametrize(
    "make, spaces, discrete",
    [
        (lambda: CategoricalPgAgent(), DISCRETE, True),
        (lambda: RecurrentCategoricalPgAgent(), DISCRETE, True),
        (lambda: GaussianPgAgent(), CONTINUOUS, False),
        (lambda: RecurrentGaussianPgAgent(), CONTINUOUS, False),
        (lambda: MujocoFfAgent(), CONTINUOUS, False),
        (
            lambda: MujocoLstmAgent(model_kwargs=dict(hidden_sizes=[8], lstm_size=8)),
            CONTINUOUS,
            False,
        ),
        (lambda: AtariFfAgent(model_kwargs=SMALL_ATARI_FF), IMAGES, True),
        (lambda: AtariLstmAgent(model_kwargs=SMALL_ATARI), IMAGES, True),
    ],
    ids=["cat", "cat_rnn", "gauss", "gauss_rnn", "mujoco", "mujoco_lstm", "atari", "atari_lstm"],
)
def test_agents_on_rlpyt_spaces(make, spaces, discrete):
    _check_agent(make(), spaces, discrete)


@pytest.mark.parametrize(
    "make, env, discrete",
    [
        (CategoricalPgAgent, "cartpole", True),
        (RecurrentCategoricalPgAgent, "cartpole", True),
        (GaussianPgAgent, "pendulum", False),
        (RecurrentGaussianPgAgent, "pendulum", False),
    ],
)
def test_agents_on_gym_spaces(make, env, discrete, gym_spaces):
    _check_agent(make(), gym_spaces[env], discrete)


def test_space_helpers_read_wrapped_and_plain_spaces(gym_spaces):
    cartpole, pendulum = gym_spaces["cartpole"], gym_spaces["pendulum"]
    assert space_n(cartpole.action) == space_n(cartpole.action.space) == 2
    assert space_shape(cartpole.observation) == (4,)
    assert space_size(pendulum.action) == 1
    with pytest.raises(ValueError):
        space_n(IntBox(0, [2, 3]))


def test_default_models_and_user_models():
    agent = CategoricalPgAgent()
    agent.initialize(DISCRETE)
    assert isinstance(agent.model, CategoricalPgMlpModel)
    assert agent.env_model_kwargs == dict(observation_shape=(5,), action_size=3)
    # A user's ModelCls gets only model_kwargs, as in rlpyt.
    kwargs = dict(observation_shape=(5,), action_size=3, hidden_sizes=[7])
    agent = CategoricalPgAgent(ModelCls=CategoricalPgMlpModel, model_kwargs=kwargs)
    agent.initialize(DISCRETE)
    assert agent.env_model_kwargs == {} and agent.model.mlp.weights[0].shape == (2, 5, 7)
    agent = GaussianPgAgent()
    agent.initialize(CONTINUOUS)
    assert isinstance(agent.model, MujocoFfModel)
    with pytest.raises(ValueError):
        GaussianPgAgent().initialize(EnvSpaces(CONTINUOUS.observation, FloatBox(-1, 1, (2, 2))))


def test_update_obs_rms_through_agent():
    agent = GaussianPgAgent()
    agent.initialize(CONTINUOUS)
    agent.update_obs_rms(torch.randn(T, B, 5))
    assert agent.model.obs_rms.count.item() == T * B
    agent = CategoricalPgAgent()
    agent.initialize(DISCRETE)
    agent.update_obs_rms(torch.randn(T, B, 5))  # no normalisation: no-op


def test_categorical_agent_one_hot_prev_action():
    seen = {}

    class Spy(CategoricalPgMlpModel):
        def forward(self, observation, prev_action, prev_reward):
            seen["prev_action"] = prev_action
            return super().forward(observation, prev_action, prev_reward)

    agent = CategoricalPgAgent(
        ModelCls=Spy, model_kwargs=dict(observation_shape=(5,), action_size=3)
    )
    agent.initialize(DISCRETE)
    agent.step(torch.zeros(B, 5), torch.tensor([0, 2, 1]), torch.zeros(B))
    assert_close(seen["prev_action"], torch.eye(3)[[0, 2, 1]])


def test_models_that_ignore_prev_inputs_get_them_unencoded():
    seen = {}

    class Ignoring(CategoricalPgMlpModel):
        ignores_prev_inputs = True  # declared again with the overriding forward

        def forward(self, observation, prev_action, prev_reward):
            seen["prev_action"] = prev_action
            return super().forward(observation, prev_action, prev_reward)

    class Inheriting(CategoricalPgMlpModel):  # same forward: the flag is inherited
        pass

    kwargs = dict(observation_shape=(5,), action_size=3)
    agent = CategoricalPgAgent(ModelCls=Ignoring, model_kwargs=kwargs)
    agent.initialize(DISCRETE)
    prev_action = torch.tensor([0, 2, 1])
    obs = torch.randn(B, 5)
    with torch.no_grad():
        step_info = agent.step(obs, prev_action, torch.zeros(B)).agent_info
        assert seen["prev_action"] is prev_action  # passed through, no one-hot made
        # The outputs are those of the model called with the one-hot codes.
        pi, value = agent.model(obs, torch.eye(3)[prev_action], torch.zeros(B))
    assert_close(step_info.dist_info.prob, pi)
    assert_close(step_info.value, value)

    assert model_ignores_prev_inputs(CategoricalPgMlpModel((5,), 3))
    assert model_ignores_prev_inputs(Inheriting((5,), 3))
    assert not model_ignores_prev_inputs(CategoricalPgLstmModel((5,), 3))
    assert not model_ignores_prev_inputs(torch.nn.Linear(2, 2))
