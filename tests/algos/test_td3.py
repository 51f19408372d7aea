"""TD3: defaults, the policy's own learning rate, twin-critic targets with target policy
smoothing (termination and time-limit cases by hand), the summed critic loss under one
optimizer, delayed policy and target updates, and exact optimizer-state round trips."""

import inspect

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.agents.qpg.td3_agent import Td3Agent
from rlpyt.algos.qpg.td3 import TD3
from tests.algos.test_ddpg import (
    NoSyncMode,
    append_stream,
    batch_at,
    check_critic_targets,
    defaults,
    make_algo,
    optimizer_round_trip,
)


def test_defaults_are_rlpyts():
    d = defaults(TD3)
    assert d == dict(
        batch_size=100, replay_ratio=100, target_update_tau=0.005, target_update_interval=2,
        policy_update_interval=2, mu_learning_rate=1e-3, q_learning_rate=1e-3,
        learning_rate=None,
    )  # fmt: skip
    algo = TD3()
    # The other arguments are DDPG's.
    assert algo.discount == 0.99 and algo.min_steps_learn == int(1e4) and algo.n_step_return == 1
    assert algo.batch_size == 100 and algo.learning_rate == algo.mu_learning_rate == 1e-3
    assert "kwargs" in inspect.signature(TD3.__init__).parameters


def test_policy_uses_its_own_learning_rate():
    # rlpyt's TD3 accepted mu_learning_rate but trained the policy at DDPG's 1e-4.
    algo, _ = make_algo(TD3, Td3Agent, mu_learning_rate=3e-3, q_learning_rate=2e-4)
    assert algo.mu_optimizer.param_groups[0]["lr"] == 3e-3
    assert algo.q_optimizer.param_groups[0]["lr"] == 2e-4
    algo, _ = make_algo(TD3, Td3Agent, learning_rate=5e-4)  # DDPG's name for it
    assert algo.mu_optimizer.param_groups[0]["lr"] == 5e-4
    with pytest.raises(ValueError, match="give one"):
        TD3(learning_rate=5e-4, mu_learning_rate=3e-3)


def test_one_critic_optimizer_over_both_critics():
    algo, agent = make_algo(TD3, Td3Agent)
    params = algo.q_optimizer.param_groups[0]["params"]
    assert {id(p) for p in params} == {id(p) for p in agent.q_models.parameters()}
    assert agent.q_models.ensemble_size == 2


@pytest.mark.parametrize("n_step_return", [1, 3])
@pytest.mark.parametrize("time_limit", [True, False])
def test_critic_target_by_hand(n_step_return, time_limit):
    algo, agent = make_algo(
        TD3, Td3Agent, n_step_return=n_step_return, bootstrap_timelimit=time_limit
    )
    append_stream(algo)

    def target_value(o):
        # Smallest target critic at the smoothed target action (the same noise draw: the
        # caller seeds the generator before this and before the algorithm's call).
        with torch.no_grad():
            mu = agent.target_model(o, None, None)
            noise = (torch.randn_like(mu) * 0.2).clamp(-0.5, 0.5)
            action = 2.0 * (mu + noise).clamp(-1, 1)
            q1 = agent.target_q_model(o, None, None, action)
            q2 = agent.target_q2_model(o, None, None, action)
            return torch.minimum(q1, q2)

    check_critic_targets(algo, n_step_return, time_limit, target_value)


def test_critic_loss_is_the_sum_over_both_critics():
    algo, agent = make_algo(TD3, Td3Agent)
    append_stream(algo)
    batch = batch_at(algo, [1, 2, 5, 9])
    torch.manual_seed(3)
    loss = algo.q_loss(batch)
    torch.manual_seed(3)
    y = algo.critic_target(batch)
    o, a = batch.agent_inputs.observation, batch.action
    q1 = agent.q_model(o, None, None, a)
    q2 = agent.q2_model(o, None, None, a)
    assert_close(loss, 0.5 * ((y - q1) ** 2).mean() + 0.5 * ((y - q2) ** 2).mean())


def test_policy_loss_uses_the_first_critic():
    algo, agent = make_algo(TD3, Td3Agent)
    append_stream(algo)
    batch = batch_at(algo, [1, 2, 5])
    o = batch.agent_inputs.observation
    expected = -agent.q_model(o, None, None, 2.0 * agent.model(o, None, None)).mean()
    assert_close(algo.mu_loss(batch), expected)


def test_delayed_policy_and_target_updates():
    algo, agent = make_algo(TD3, Td3Agent)
    append_stream(algo)
    changed = dict(policy=[], critic=[], target_policy=[], target_critic=[])
    modules = dict(
        policy=agent.model,
        critic=agent.q_models,
        target_policy=agent.target_model,
        target_critic=agent.target_q_models,
    )
    mu_losses = []
    for itr in range(6):
        before = {k: next(m.parameters()).clone() for k, m in modules.items()}
        info = algo.optimize_agent(itr)
        mu_losses.append(len(info.muLoss))
        for k, m in modules.items():
            changed[k].append(not torch.equal(before[k], next(m.parameters())))
    every_other = [False, True] * 3
    assert changed == dict(policy=every_other, critic=[True] * 6,
                           target_policy=every_other, target_critic=every_other)  # fmt: skip
    assert mu_losses == [0, 1] * 3
    assert int(algo.mu_optimizer.state_dict()["state"][0]["step"]) == 3
    assert int(algo.q_optimizer.state_dict()["state"][0]["step"]) == 6


def test_exploration_before_learning_uses_pretrain_std():
    algo, agent = make_algo(TD3, Td3Agent, min_steps_learn=10)
    assert agent.min_itr_learn == 10
    agent.sample_mode(0)
    assert agent.distribution.std == agent.pretrain_std
    agent.sample_mode(10)
    assert agent.distribution.std == agent.action_std


def test_update_has_no_host_sync():
    algo, _ = make_algo(TD3, Td3Agent)
    append_stream(algo)
    batch = algo.prepare_batch(algo.replay_buffer.sample_batch(8))
    with NoSyncMode():
        for _ in range(2):
            algo.update(batch)


def test_optimizer_state_round_trip():
    algo, twin = optimizer_round_trip(TD3, Td3Agent)
    assert algo.update_counter == twin.update_counter == 5
    info = algo.optimize_agent(9)
    assert all(np.isfinite(v).all() for v in info)
