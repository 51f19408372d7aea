"""CategoricalDQN: the C51 projection by hand, target action choice, loss, priorities, runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.agents.dqn.catdqn_agent import CatDqnAgent
from rlpyt.algos.dqn.cat_dqn import CategoricalDQN, project_distribution
from rlpyt.envs.gym import gym_make
from rlpyt.replays.non_sequence.n_step import SamplesFromReplay, SamplesFromReplayPri
from rlpyt.replays.non_sequence.time_limit import SamplesFromReplayTL
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

Z = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])  # delta_z = 1


def reference_projection(target_p, return_, discount, z):
    """Algorithm 1 of Bellemare et al. 2017, one atom at a time."""
    n = len(z)
    v_min, v_max = float(z[0]), float(z[-1])
    dz = (v_max - v_min) / (n - 1)
    out = np.zeros((len(return_), n))
    for i in range(len(return_)):
        for j in range(n):
            tz = min(max(float(return_[i]) + float(discount[i]) * float(z[j]), v_min), v_max)
            b = (tz - v_min) / dz
            lo, hi = int(np.floor(b)), int(np.ceil(b))
            if lo == hi:
                out[i, lo] += target_p[i, j]
            else:
                out[i, lo] += target_p[i, j] * (hi - b)
                out[i, hi] += target_p[i, j] * (b - lo)
    return torch.tensor(out, dtype=torch.float32)


def project(p, return_, discount):
    return project_distribution(
        torch.tensor(p, dtype=torch.float32),
        torch.tensor(return_, dtype=torch.float32),
        torch.tensor(discount, dtype=torch.float32),
        Z,
    )


def test_projection_terminal_between_atoms_splits_by_distance():
    # Terminal (discount 0): all mass at the return, 0.25 -> 3/4 on atom 0, 1/4 on atom 1.
    m = project([[0.2, 0.2, 0.2, 0.2, 0.2]], [0.25], [0.0])
    torch.testing.assert_close(m, torch.tensor([[0, 0, 0.75, 0.25, 0]]))


def test_projection_exactly_on_atoms_keeps_all_mass_there():
    # Return 1 with discount 1 shifts every atom exactly one atom up; the top one is clipped.
    m = project([[0.1, 0.2, 0.3, 0.25, 0.15]], [1.0], [1.0])
    torch.testing.assert_close(m, torch.tensor([[0, 0.1, 0.2, 0.3, 0.4]]))
    # Terminal return exactly on an atom, and on both edges.
    m = project([[0.2] * 5] * 3, [-1.0, -2.0, 2.0], [0.0] * 3)
    expected = torch.tensor([[0, 1.0, 0, 0, 0], [1.0, 0, 0, 0, 0], [0, 0, 0, 0, 1.0]])
    torch.testing.assert_close(m, expected)


def test_projection_clips_at_the_support_edges():
    m = project([[0.5, 0, 0, 0, 0.5]] * 2, [7.0, -30.0], [0.5, 0.9])
    torch.testing.assert_close(m, torch.tensor([[0, 0, 0, 0, 1.0], [1.0, 0, 0, 0, 0]]))
    # Only the atoms pushed past the top edge pile up there.
    m = project([[0.2] * 5], [1.5], [1.0])  # Tz = -0.5, 0.5, 1.5, 2.5 (->2), 3.5 (->2)
    torch.testing.assert_close(m, torch.tensor([[0, 0.1, 0.2, 0.2, 0.5]]))


def test_projection_n_step_discount():
    # One-hot at z = 1, return 0.25, discount**n = 0.5: Tz = 0.75 -> 1/4 on 0, 3/4 on 1.
    m = project([[0, 0, 0, 1.0, 0]], [0.25], [0.5])
    torch.testing.assert_close(m, torch.tensor([[0, 0, 0.25, 0.75, 0]]))


def test_projection_matches_reference_and_conserves_mass():
    gen = torch.Generator().manual_seed(0)
    B, n_atoms = 64, 11
    z = torch.linspace(-3, 7, n_atoms)  # delta_z = 1
    p = torch.softmax(torch.randn(B, n_atoms, generator=gen), dim=-1)
    return_ = torch.randn(B, generator=gen) * 4
    return_[:8] = torch.arange(-4, 4).float()  # on atoms
    discount = torch.rand(B, generator=gen)
    discount[8:16] = 0  # terminal
    discount[16:24] = 1  # exact shifts by the integer returns below
    return_[16:24] = torch.arange(-3, 5).float()
    m = project_distribution(p, return_, discount, z)
    torch.testing.assert_close(m, reference_projection(p, return_, discount, z))
    torch.testing.assert_close(m.sum(-1), torch.ones(B))
    # Scalar bootstrap discount broadcasts.
    torch.testing.assert_close(
        project_distribution(p, return_, 0.9, z),
        reference_projection(p, return_, torch.full((B,), 0.9), z),
    )


class TableCatAgent:
    """Return distributions from two tables ``[n_obs, A, n_atoms]`` indexed by observation."""

    recurrent = False

    def __init__(self, logits_online, p_target):
        self.logits = torch.nn.Parameter(torch.as_tensor(logits_online, dtype=torch.float32))
        self.p_target = torch.as_tensor(p_target, dtype=torch.float32)
        self.V = None

    def __call__(self, observation, prev_action, prev_reward):
        return torch.softmax(self.logits[observation.long()], dim=-1)

    def target(self, observation, prev_action, prev_reward):
        return self.p_target[observation.long()]

    def parameters(self):
        return iter([self.logits])

    def give_V_min_max(self, V_min, V_max):
        self.V = (V_min, V_max)


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


def _one_hot_rows(*idxs):
    return torch.nn.functional.one_hot(torch.tensor(idxs), 5).float()


# Online distributions at obs 1 put action 0 high (E = 2 vs -2); the target network's put
# action 1 higher (E = 1 vs 0): double DQN bootstraps from the target's action-0 distribution.
LOGITS = torch.zeros(2, 2, 5)
LOGITS[1, 0, 4] = LOGITS[1, 1, 0] = 20.0
P_TARGET = torch.full((2, 2, 5), 0.2)
P_TARGET[1] = _one_hot_rows(2, 3)


def _algo(agent, time_limit=False, **kwargs):
    kwargs.setdefault("V_min", -2)
    kwargs.setdefault("V_max", 2)
    algo = CategoricalDQN(**kwargs)
    algo.agent = agent
    algo.time_limit = time_limit
    return algo


@pytest.mark.parametrize("double_dqn", [False, True])
def test_target_action_choice(double_dqn):
    agent = TableCatAgent(LOGITS, P_TARGET)
    algo = _algo(agent, discount=0.5, double_dqn=double_dqn)
    batch = _batch([0], [0], [0.0], [False], [1])
    m = algo.target_distribution(batch, Z)
    # Double: action 0 (online) -> target atom z=0 -> Tz = 0. Else action 1 -> z=1 -> 0.5.
    expected = (
        torch.tensor([[0, 0, 1.0, 0, 0]]) if double_dqn else torch.tensor([[0, 0, 0.5, 0.5, 0]])
    )
    torch.testing.assert_close(m, expected)


def test_loss_is_weighted_cross_entropy_and_priorities_are_kl():
    agent = TableCatAgent(LOGITS, P_TARGET)
    algo = _algo(agent, discount=0.5, n_step_return=2, prioritized_replay=True)
    weights = torch.tensor([1.0, 0.5])
    batch = _batch([0, 1], [1, 0], [0.5, -1.0], [False, True], [1, 0], is_weights=weights)
    loss, kl = algo.loss(batch)
    # Sample 0: target action 1 at obs 1 (z = 1): Tz = 0.5 + 0.25 -> 1/4 on 0, 3/4 on 1.
    # Sample 1: terminal at -1.
    m = torch.tensor([[0, 0, 0.25, 0.75, 0], [0, 1.0, 0, 0, 0]])
    p = torch.stack([torch.full((5,), 0.2), torch.softmax(LOGITS[1, 0], -1)])
    ce = -(m * p.clamp(min=1e-6).log()).sum(-1)
    expected_kl = (m * (m.clamp(min=1e-6).log() - p.clamp(min=1e-6).log())).sum(-1)
    torch.testing.assert_close(loss, (ce * weights).mean())
    torch.testing.assert_close(kl, expected_kl)
    assert not kl.requires_grad and (kl >= 0).all()
    loss.backward()
    assert agent.logits.grad is not None and agent.logits.grad[1, 1].abs().sum() == 0


def test_time_limit_batch_uses_bootstrap_discount_and_masks_timeouts():
    agent = TableCatAgent(LOGITS, P_TARGET)
    algo = _algo(agent, time_limit=True, discount=0.5, n_step_return=3)
    batch = _batch(
        obs=[0, 0],
        action=[0, 0],
        return_=[0.0, 1.0],
        done_n=[False, True],
        next_obs=[1, 1],
        timeout=torch.tensor([False, True]),
        timeout_n=torch.tensor([True, False]),
        bootstrap_discount=torch.tensor([0.5, 0.125]),
    )
    loss, _ = algo.loss(batch)
    # Sample 0 was cut after one step: bootstrap discount 0.5 (not 0.125) -> Tz = 0.5.
    m = torch.tensor([0, 0, 0.5, 0.5, 0])
    expected = -(m * torch.log(torch.tensor(0.2))).sum()  # sample 1 (a timeout) is masked
    torch.testing.assert_close(loss, expected)


def test_invalid_support_raises():
    with pytest.raises(ValueError, match="V_max"):
        CategoricalDQN(V_min=1, V_max=1)


@pytest.fixture
def quiet():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("quiet")
def test_rainbow_configuration_runs_and_updates_priorities():
    sampler = SerialSampler(
        EnvCls=gym_make, env_kwargs=dict(id="CartPole-v1"), batch_T=8, batch_B=2
    )
    agent = CatDqnAgent(
        n_atoms=11,
        model_kwargs=dict(hidden_sizes=[16], dueling=True, noisy=True),
        eps_init=0,
        eps_final=0,
        eps_eval=0,
    )
    algo = CategoricalDQN(
        V_min=0,
        V_max=50,
        batch_size=16,
        min_steps_learn=64,
        replay_size=256,
        replay_ratio=4,
        target_update_interval=5,
        n_step_return=3,
        double_dqn=True,
        prioritized_replay=True,
    )
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=400,
        seed=2,
        log_interval_steps=400,
        progress_bar=False,
    )
    runner.train()
    torch.testing.assert_close(agent.distribution.z, torch.linspace(0, 50, 11))
    assert algo.update_counter == 4 * (400 // 16 - 4)  # 4 per itr from itr 4
    assert "Prioritized" in type(algo.replay_buffer).__name__
    values = algo.replay_buffer.priority_tree.values
    assert np.any((values > 0) & (np.abs(values - 1) > 1e-6))  # KL priorities were set
