"""DQN: targets and loss by hand, schedules, replay choice, state, and runs with both collectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.agents.base import AgentInputs
from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.gym import gym_make
from rlpyt.replays import factory
from rlpyt.replays.non_sequence.n_step import SamplesFromReplay, SamplesFromReplayPri
from rlpyt.replays.non_sequence.time_limit import SamplesFromReplayTL
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.collections import namedarraytuple

EnvInfo = namedarraytuple("EnvInfo", ["timeout", "traj_done"])


class TableAgent:
    """Q-values from two fixed tables indexed by an integer observation (online, target)."""

    recurrent = False

    def __init__(self, q_online, q_target):
        self.q_online = torch.nn.Parameter(torch.as_tensor(q_online, dtype=torch.float32))
        self.q_target = torch.as_tensor(q_target, dtype=torch.float32)
        self.targets_updated = []

    def __call__(self, observation, prev_action, prev_reward):
        return self.q_online[observation.long()]

    def target(self, observation, prev_action, prev_reward):
        return self.q_target[observation.long()]

    def parameters(self):
        return iter([self.q_online])

    def resample_noise(self):
        pass

    def update_target(self, tau=1):
        self.targets_updated.append(tau)

    def set_epsilon_itr_min_max(self, itr_min, itr_max):
        self.eps_itr = (itr_min, itr_max)


def _inputs(obs):
    obs = torch.as_tensor(obs)
    return AgentInputs(obs, torch.zeros_like(obs), torch.zeros(obs.shape))


def _batch(obs, action, return_, done_n, next_obs, **extra):
    fields = dict(
        agent_inputs=_inputs(obs),
        action=torch.as_tensor(action),
        return_=torch.as_tensor(return_, dtype=torch.float32),
        done=torch.zeros(len(obs), dtype=torch.bool),
        done_n=torch.as_tensor(done_n),
        target_inputs=_inputs(next_obs),
    )
    if "is_weights" in extra:
        return SamplesFromReplayPri(**fields, **extra)
    if extra:
        return SamplesFromReplayTL(**fields, **extra)
    return SamplesFromReplay(**fields)


Q_ONLINE = [[1.0, 2.0], [3.0, 0.5], [0.0, -1.0]]
Q_TARGET = [[0.5, 4.0], [1.0, 2.0], [7.0, 0.0]]


def _algo(agent, time_limit=False, **kwargs):
    algo = DQN(**kwargs)
    algo.agent = agent
    algo.time_limit = time_limit
    return algo


@pytest.mark.parametrize("double_dqn", [False, True])
@pytest.mark.parametrize("delta_clip", [None, 1.0])
def test_loss_matches_hand_computation(double_dqn, delta_clip):
    agent = TableAgent(Q_ONLINE, Q_TARGET)
    algo = _algo(agent, discount=0.9, n_step_return=2, double_dqn=double_dqn, delta_clip=delta_clip)
    batch = _batch(
        obs=[0, 1], action=[1, 0], return_=[1.0, -0.5], done_n=[False, True], next_obs=[1, 2]
    )
    loss, td = algo.loss(batch)
    q = torch.tensor([2.0, 3.0])
    if double_dqn:  # online argmax at next obs 1 -> action 0 -> target q 1.0; obs 2 -> action 0
        next_q = torch.tensor([1.0, 7.0])
    else:  # target max
        next_q = torch.tensor([2.0, 7.0])
    y = torch.tensor([1.0, -0.5]) + torch.tensor([1.0, 0.0]) * 0.81 * next_q
    delta = y - q
    if delta_clip is None:
        expected = (0.5 * delta**2).mean()
        expected_td = delta.abs()
    else:
        a = delta.abs()
        expected = torch.where(a <= 1, 0.5 * delta**2, a - 0.5).mean()
        expected_td = a.clamp(max=1)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(td, expected_td)
    loss.backward()
    assert agent.q_online.grad is not None and agent.q_online.grad[2].abs().sum() == 0


def test_prioritized_loss_is_weighted():
    agent = TableAgent(Q_ONLINE, Q_TARGET)
    algo = _algo(agent, discount=0.5, prioritized_replay=True, delta_clip=None)
    weights = torch.tensor([1.0, 0.25])
    batch = _batch([0, 1], [0, 1], [0.0, 0.0], [True, True], [0, 0], is_weights=weights)
    loss, _ = algo.loss(batch)
    delta = torch.tensor([-1.0, -0.5])
    torch.testing.assert_close(loss, (0.5 * delta**2 * weights).mean())


def test_time_limit_batch_bootstraps_with_its_discount_and_masks_timeouts():
    agent = TableAgent(Q_ONLINE, Q_TARGET)
    algo = _algo(agent, time_limit=True, discount=0.9, n_step_return=3, delta_clip=None)
    batch = _batch(
        obs=[0, 1, 2],
        action=[0, 0, 1],
        return_=[1.0, 2.0, 3.0],
        done_n=[False, False, True],
        next_obs=[2, 1, 0],
        timeout=torch.tensor([False, False, True]),
        timeout_n=torch.tensor([True, False, False]),
        bootstrap_discount=torch.tensor([0.9, 0.729, 0.729]),
    )
    loss, _ = algo.loss(batch)
    # Sample 0 was cut by a time limit after one step: it bootstraps with discount**1.
    y = torch.tensor([1.0 + 0.9 * 7.0, 2.0 + 0.729 * 2.0])
    delta = y - torch.tensor([1.0, 3.0])
    torch.testing.assert_close(loss, (0.5 * delta**2).mean())  # sample 2 (a timeout) masked


def test_invalid_arguments_name_the_value():
    with pytest.raises(ValueError, match="batch_size"):
        DQN(batch_size=0)
    with pytest.raises(ValueError, match="replay_ratio"):
        DQN(replay_ratio=0)
    with pytest.raises(ValueError, match="target_update_tau"):
        DQN(target_update_tau=1.5)


@pytest.mark.parametrize(
    "frames, time_limit, prioritized, name",
    [
        (False, False, False, "UniformReplayBuffer"),
        (False, True, True, "TlPrioritizedReplayBuffer"),
        (True, False, True, "PrioritizedReplayFrameBuffer"),
    ],
)
def test_replay_choice(frames, time_limit, prioritized, name):
    from rlpyt.replays.base import SamplesToBuffer, SamplesToBufferTl

    obs = np.zeros((4, 5, 5), np.uint8) if frames else np.zeros(3, np.float32)
    fields = dict(observation=obs, action=np.int64(0), reward=np.float32(0), done=False)
    example = (
        SamplesToBufferTl(**fields, timeout=False) if time_limit else SamplesToBuffer(**fields)
    )
    kwargs = dict(example=example, size=64, B=2)
    if prioritized:
        kwargs.update(alpha=0.6, beta=0.4)
    buffer = factory.make_replay_buffer(
        None, frames=frames, time_limit=time_limit, prioritized=prioritized, **kwargs
    )
    assert type(buffer).__name__ == name
    async_buffer = factory.make_replay_buffer(
        None, frames=frames, time_limit=time_limit, prioritized=prioritized, async_=True, **kwargs
    )
    assert type(async_buffer).__name__ == "Async" + name and async_buffer.async_
    composed = (
        factory.make_replay_buffer(
            None,
            frames=True,
            time_limit=True,
            prioritized=False,
            **{
                **kwargs,
                "example": SamplesToBufferTl(
                    observation=np.zeros((4, 5, 5), np.uint8),
                    action=np.int64(0),
                    reward=np.float32(0),
                    done=False,
                    timeout=False,
                ),
            },
        )
        if not prioritized
        else None
    )
    if composed is not None:
        assert composed.time_limit and composed.n_frames == 4


def _run(CollectorCls, n_steps=600, **algo_kwargs):
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=8,
        batch_B=2,
        CollectorCls=CollectorCls,
    )
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=[16]))
    kwargs = dict(
        batch_size=16,
        min_steps_learn=64,
        replay_size=256,
        replay_ratio=4,
        target_update_interval=3,
        eps_steps=200,
    )
    kwargs.update(algo_kwargs)
    algo = DQN(**kwargs)
    runner = MinibatchRl(
        algo=algo, agent=agent, sampler=sampler, n_steps=n_steps, seed=3, log_interval_steps=n_steps
    )
    runner.train()
    return algo, agent


@pytest.mark.parametrize("CollectorCls", [CpuResetCollector, CpuWaitResetCollector])
@pytest.mark.parametrize("prioritized", [False, True])
def test_runs_and_counts_updates(CollectorCls, prioritized):
    algo, agent = _run(CollectorCls, prioritized_replay=prioritized)
    # 16 steps per iteration; 4 updates per iteration from itr 4 (64 steps) on.
    n_itr = algo.n_itr
    assert n_itr * 16 >= 600
    assert algo.updates_per_optimize == 4 and algo.min_itr_learn == 4
    assert algo.update_counter == 4 * (n_itr - 4)
    assert algo.time_limit  # CartPole reports timeouts: time-limit-aware replay
    assert "Tl" in type(algo.replay_buffer).__name__
    assert agent.eps_itr_min == 4 and agent.eps_itr_max == 12
    state = algo.optim_state_dict()
    assert state["update_counter"] == algo.update_counter
    other = DQN()
    other.agent = agent
    other.OptimCls, other.learning_rate, other.optim_kwargs = algo.OptimCls, 1e-3, {}
    other.optim_initialize()
    other.load_optim_state_dict(state)
    assert other.update_counter == algo.update_counter
    assert (
        other.optimizer.state_dict()["state"].keys() == algo.optimizer.state_dict()["state"].keys()
    )


def test_replay_ratio_below_one_update_per_iteration_spreads_the_updates():
    # 16 steps per iteration, replay_ratio 0.25, batches of 16: one update every 4 iterations.
    algo, _ = _run(CpuResetCollector, n_steps=640, replay_ratio=0.25)
    assert algo.update_schedule.fractional and algo.min_itr_learn == 4
    assert algo.update_counter == len(range(0, algo.n_itr - 4, 4)) == 9


def test_target_updates_every_interval():
    agent = TableAgent(Q_ONLINE, Q_TARGET)
    algo = _algo(agent, target_update_interval=3, target_update_tau=0.5, batch_size=2)
    algo.updates_per_optimize, algo.min_itr_learn, algo.clip_grad_norm = 7, 0, 10.0
    algo.optim_initialize()

    class OneBatch:
        def sample_batch(self, batch_B):
            return _batch([0, 1], [0, 1], [0.0, 1.0], [True, False], [2, 2])

    algo.replay_buffer = OneBatch()
    info = algo.optimize_agent(itr=5)
    assert len(info.loss) == 7 and len(info.gradNorm) == 7
    assert agent.targets_updated == [0.5, 0.5]  # after updates 3 and 6


def _mlp_agent(**model_kwargs):
    torch.manual_seed(0)
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=[16, 16], **model_kwargs))
    agent.initialize(gym_make("CartPole-v1").spaces)
    with torch.no_grad():  # make the target differ from the online network
        for p in agent.target_model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return agent


def _mlp_batch(kind, n=12):
    g = torch.Generator().manual_seed(3)
    obs, next_obs = torch.randn(n, 4, generator=g), torch.randn(n, 4, generator=g)
    extra = {}
    if kind == "prioritized":
        extra = dict(is_weights=torch.rand(n, generator=g) + 0.5)
    elif kind == "time_limit":
        extra = dict(
            timeout=torch.rand(n, generator=g) < 0.3,
            timeout_n=torch.rand(n, generator=g) < 0.3,
            bootstrap_discount=torch.full((n,), 0.9),
        )
    batch = _batch(
        obs=[0] * n,
        action=torch.randint(2, (n,), generator=g),
        return_=(3 * torch.randn(n, generator=g)).tolist(),  # large TD errors: Huber's both arms
        done_n=torch.rand(n, generator=g) < 0.2,
        next_obs=[0] * n,
        **extra,
    )
    return batch._replace(
        agent_inputs=batch.agent_inputs._replace(observation=obs),
        target_inputs=batch.target_inputs._replace(observation=next_obs),
    )


@pytest.mark.parametrize("kind", ["plain", "prioritized", "time_limit"])
@pytest.mark.parametrize("delta_clip", [None, 1.0])
@pytest.mark.parametrize("double_dqn", [False, True])
def test_explicit_gradients_equal_autograd(kind, delta_clip, double_dqn):
    agent = _mlp_agent()
    algo = _algo(
        agent,
        time_limit=kind == "time_limit",
        prioritized_replay=kind == "prioritized",
        delta_clip=delta_clip,
        double_dqn=double_dqn,
        n_step_return=2,
    )
    batch = _mlp_batch(kind)
    params = list(agent.parameters())
    loss, td = algo.loss(batch)
    expected = torch.autograd.grad(loss, params)
    explicit_loss, explicit_td = algo.loss_and_grads(batch)
    assert not explicit_loss.requires_grad  # the explicit path ran
    assert_close(explicit_loss, loss.detach())
    assert_close(explicit_td, td)
    for param, want in zip(params, expected):
        assert_close(param.grad, want, atol=1e-6, rtol=1e-5)


def test_autograd_path_for_other_models_and_overridden_losses():
    class MyDQN(DQN):
        def loss(self, batch):
            loss, td = super().loss(batch)
            return 2 * loss, td

    class MyAgent(DqnAgent):
        def target(self, observation, prev_action, prev_reward):
            return 2 * super().target(observation, prev_action, prev_reward)

    torch.manual_seed(0)
    own_target = MyAgent(model_kwargs=dict(hidden_sizes=[16, 16]))
    own_target.initialize(gym_make("CartPole-v1").spaces)
    batch = _mlp_batch("plain")
    cases = [(_mlp_agent(dueling=True), DQN), (_mlp_agent(), MyDQN), (own_target, DQN)]
    for agent, AlgoCls in cases:
        algo = AlgoCls()
        algo.agent, algo.time_limit = agent, False
        loss, _ = algo.loss_and_grads(batch)
        assert loss.requires_grad
        assert all(p.grad is not None for p in agent.parameters())
