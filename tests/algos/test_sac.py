"""SAC: defaults, the entropy target's units, critic targets by hand (termination and
time-limit cases), reward scale, the policy loss (with the updated critics, only the policy's
gradients, optional Gaussian prior), alpha tuning in the right direction, fixed alpha,
per-critic gradient clipping, and exact round trips of all optimizer state."""

import copy
import inspect
import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.algos.qpg.sac import SAC
from rlpyt.envs.base import EnvSpaces
from rlpyt.samplers.collections import BatchSpec
from rlpyt.spaces.float_box import FloatBox
from tests.algos.test_ddpg import (
    EXAMPLES,
    NoSyncMode,
    append_stream,
    batch_at,
    check_critic_targets,
    defaults,
    make_algo,
    optimizer_round_trip,
)


def test_defaults_are_rlpyts():
    d = defaults(SAC)
    assert d == dict(
        discount=0.99, batch_size=256, min_steps_learn=int(1e4), replay_size=int(1e6),
        replay_ratio=256, target_update_tau=0.005, target_update_interval=1,
        learning_rate=3e-4, OptimCls=torch.optim.Adam, optim_kwargs=None,
        initial_optim_state_dict=None, action_prior="uniform", reward_scale=1,
        target_entropy="auto", reparameterize=True, clip_grad_norm=1e9, n_step_return=1,
        updates_per_sync=1, bootstrap_timelimit=True, ReplayBufferCls=None,
        fixed_alpha=None, compile_update=False,
    )  # fmt: skip
    # rlpyt's positional order; fixed_alpha and compile_update are new, at the end.
    assert list(inspect.signature(SAC.__init__).parameters)[1:] == list(d)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(reparameterize=False), NotImplementedError),
        (dict(action_prior="laplace"), ValueError),
        (dict(target_entropy="high"), ValueError),
        (dict(fixed_alpha=0.0), ValueError),
    ],
)
def test_bad_arguments_raise(kwargs, error):
    with pytest.raises(error):
        SAC(**kwargs)


def test_auto_entropy_target_is_minus_action_dim_in_normalized_units():
    algo, agent = make_algo(SAC, SacAgent)  # one action dimension, bounds [-2, 2]
    assert agent.action_scaling.log_scale == pytest.approx(math.log(2))
    assert algo.target_entropy_env == pytest.approx(-1 + math.log(2))
    algo, _ = make_algo(SAC, SacAgent, target_entropy=-3.0)
    assert algo.target_entropy_env == pytest.approx(-3 + math.log(2))
    unit = EnvSpaces(observation=FloatBox(-1, 1, (2,)), action=FloatBox(-1, 1, (3,)))
    agent = SacAgent(model_kwargs=dict(hidden_sizes=[8]), q_model_kwargs=dict(hidden_sizes=[8]))
    agent.initialize(unit)
    examples = dict(EXAMPLES, action=np.zeros(3, np.float32))
    algo = SAC(min_steps_learn=0, replay_size=100)
    algo.initialize(agent, 10, BatchSpec(1, 1), True, examples)
    assert algo.target_entropy_env == -3


@pytest.mark.parametrize("n_step_return", [1, 3])
@pytest.mark.parametrize("time_limit", [True, False])
def test_critic_target_by_hand(n_step_return, time_limit):
    algo, agent = make_algo(
        SAC, SacAgent, n_step_return=n_step_return, bootstrap_timelimit=time_limit,
        fixed_alpha=0.3,
    )  # fmt: skip
    append_stream(algo)

    def target_value(o):
        # min_j Q'_j(s', a') - alpha * log_pi(a'|s'), a' drawn as the algorithm draws it.
        with torch.no_grad():
            mean, log_std = agent.model(o, None, None)
            u = mean + log_std.clamp(-20, 2).exp() * torch.randn_like(mean)
            action = 2.0 * torch.tanh(u)
            normal = torch.distributions.Normal(mean, log_std.clamp(-20, 2).exp())
            log_pi = normal.log_prob(u).sum(-1) - torch.log(2.0 * (1 - torch.tanh(u) ** 2)).sum(-1)
            q1 = agent.target_q1_model(o, None, None, action)
            q2 = agent.target_q2_model(o, None, None, action)
            return torch.minimum(q1, q2) - 0.3 * log_pi

    check_critic_targets(algo, n_step_return, time_limit, target_value)


def test_reward_scale_multiplies_returns_only():
    algo, _ = make_algo(SAC, SacAgent)
    scaled, _ = make_algo(SAC, SacAgent, reward_scale=5.0)
    for a in (algo, scaled):
        append_stream(a)
    steps = [2, 3, 9]  # step 3 terminates
    batch = batch_at(algo, steps)
    torch.manual_seed(0)
    y = algo.critic_target(batch)
    torch.manual_seed(0)
    y5 = scaled.critic_target(batch_at(scaled, steps))
    assert_close(y5 - y, 4.0 * batch.return_)


def test_policy_loss_uses_both_critics_and_prior():
    algo, agent = make_algo(SAC, SacAgent, fixed_alpha=0.5, action_prior="gaussian")
    append_stream(algo)
    batch = batch_at(algo, [1, 2, 5, 9])
    o = batch.agent_inputs.observation
    torch.manual_seed(0)
    action, log_pi, _ = agent.pi(o, None, None)
    loss = algo.pi_loss(batch, action, log_pi)
    q = torch.minimum(agent.q1_model(o, None, None, action), agent.q2_model(o, None, None, action))
    prior = torch.distributions.Normal(0.0, 1.0).log_prob(action).sum(-1)
    assert_close(loss, (0.5 * log_pi - q - prior).mean())


def test_policy_step_computes_no_critic_gradients():
    algo, agent = make_algo(SAC, SacAgent)
    append_stream(algo)
    saved = {}
    clip = algo._q_clip

    def clip_and_save(max_norm):
        norms = clip(max_norm)
        saved["grads"] = [p.grad.clone() for p in agent.q_models.parameters()]
        return norms

    algo._q_clip = clip_and_save
    algo.optimize_agent(0)
    for g, p in zip(saved["grads"], agent.q_models.parameters()):
        assert torch.equal(g, p.grad)  # the policy's backward added nothing
    assert all(p.grad is not None for p in agent.pi_parameters())


@pytest.mark.parametrize("target_entropy, direction", [(5.0, 1), (-50.0, -1)])
def test_alpha_moves_towards_the_entropy_target(target_entropy, direction):
    algo, agent = make_algo(SAC, SacAgent, target_entropy=target_entropy, learning_rate=1e-2)
    append_stream(algo)
    assert algo.alpha == 1.0
    alphas = []
    for itr in range(5):
        info = algo.optimize_agent(itr)
        alphas.append(algo.alpha)
        assert info.alpha == [pytest.approx(alphas[-2] if itr else 1.0)]  # alpha it used
    assert np.all(np.sign(np.diff([1.0] + alphas)) == direction), alphas


def test_fixed_alpha_and_no_target_entropy_keep_alpha():
    algo, _ = make_algo(SAC, SacAgent, fixed_alpha=0.2)
    append_stream(algo)
    for itr in range(3):
        info = algo.optimize_agent(itr)
    assert algo.alpha_optimizer is None and algo.alpha == pytest.approx(0.2)
    assert info.alpha == [pytest.approx(0.2)]
    assert algo.optim_state_dict()["alpha_optimizer"] is None
    algo, _ = make_algo(SAC, SacAgent, target_entropy=None)
    append_stream(algo)
    algo.optimize_agent(0)
    assert algo.alpha == 1.0 and algo.alpha_optimizer is None


def test_critics_are_clipped_each_on_its_own():
    algo, agent = make_algo(SAC, SacAgent, clip_grad_norm=1e-3)
    append_stream(algo)
    info = algo.optimize_agent(0)
    assert info.q1GradNorm[0] != info.q2GradNorm[0]
    for j in range(2):
        grads = [w.grad[j] for w in agent.q_models.mlp.weights]
        grads += [b.grad[j] for b in agent.q_models.mlp.biases]
        norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
        assert norm == pytest.approx(1e-3, rel=1e-3)  # clipped to the limit, each critic


def test_opt_info_fields():
    algo, _ = make_algo(SAC, SacAgent, batch_size=32, replay_ratio=64)
    append_stream(algo)
    info = algo.optimize_agent(0)
    assert algo.updates_per_optimize == 2
    lengths = {k: len(v) for k, v in info._asdict().items()}
    per_sample = dict(q1=8, q2=8, piMu=8, piLogStd=8)  # every 10th of 32 samples, 2 updates
    assert lengths == {k: per_sample.get(k, 2) for k in SAC.opt_info_fields}
    assert all(np.isfinite(v).all() for v in info)


def test_update_has_no_host_sync():
    algo, _ = make_algo(SAC, SacAgent)
    append_stream(algo)
    batch = algo.prepare_batch(algo.replay_buffer.sample_batch(8))
    with NoSyncMode():
        for _ in range(2):
            algo.update(batch)


def test_optimizer_state_round_trip_with_alpha():
    algo, twin = optimizer_round_trip(SAC, SacAgent, learning_rate=1e-2)
    state = algo.optim_state_dict()
    assert set(state) == {
        "pi_optimizer", "q_optimizer", "alpha_optimizer", "log_alpha", "update_counter"
    }  # fmt: skip
    assert state["log_alpha"] != 0.0 and state["update_counter"] == 5
    assert algo.alpha == twin.alpha
    assert torch.equal(algo._log_alpha, twin._log_alpha)
    a, b = algo.alpha_optimizer.state_dict(), twin.alpha_optimizer.state_dict()
    assert torch.equal(a["state"][0]["exp_avg"], b["state"][0]["exp_avg"])


def test_loads_rlpyt_snapshot_with_per_critic_optimizers():
    algo, _ = make_algo(SAC, SacAgent, learning_rate=1e-2)
    append_stream(algo)
    algo.optimize_agent(0)
    state = copy.deepcopy(algo.optim_state_dict())
    old = dict(
        pi_optimizer=state["pi_optimizer"],
        q1_optimizer={},
        q2_optimizer={},
        alpha_optimizer=state["alpha_optimizer"],
        log_alpha=state["log_alpha"],
    )
    twin, _ = make_algo(SAC, SacAgent, learning_rate=1e-2)
    twin.load_optim_state_dict(old)
    assert twin.alpha == algo.alpha and twin.update_counter == 0
    assert twin.pi_optimizer.state_dict()["state"][0]["step"] == 1
    assert twin.q_optimizer.state_dict()["state"] == {}
