"""Tests for get_example_outputs and build_samples_buffer (layout, dtypes, aliasing, sharing)."""

import numpy as np
import torch

from rlpyt.samplers.buffer import (
    build_samples_buffer,
    copy_leaves_into,
    get_example_outputs,
    leaves_to_tensors,
)
from rlpyt.samplers.collections import AgentSamples, AgentSamplesBsv, BatchSpec
from rlpyt.utils.buffer import is_shared
from tests.fakes import CountingEnv, CountingEnvInfo
from tests.samplers.fake_agent import FakeAgent, FakeRecurrentAgent


def _agent_env(AgentCls=FakeAgent):
    env = CountingEnv(done_every=3)
    agent = AgentCls()
    agent.initialize(env.spaces)
    return agent, env


def test_get_example_outputs():
    agent, env = _agent_env()
    ex = get_example_outputs(agent, env, {})
    assert set(ex) == {"observation", "reward", "done", "env_info", "action", "agent_info"}
    np.testing.assert_array_equal(ex["observation"], [0.0, 0.0])  # the reset observation
    assert ex["reward"].dtype == np.float32 and ex["reward"] == 1.0
    assert ex["done"].dtype == bool and not ex["done"]
    assert type(ex["env_info"]) is CountingEnvInfo and ex["env_info"].k == 1
    assert ex["action"].dtype == np.int64 and ex["action"].shape == ()
    assert ex["agent_info"].value.shape == () and ex["agent_info"].value == 0.5
    assert isinstance(ex["agent_info"].value, np.ndarray)
    assert agent.step_batch_sizes == [1] and agent.n_resets == 2  # reset before and after
    assert env.k == 1


def test_example_drops_batch_dim_of_recurrent_state():
    agent, env = _agent_env(FakeRecurrentAgent)
    ex = get_example_outputs(agent, env, {})
    assert ex["agent_info"].prev_rnn_state.shape == (2, 3)
    _, samples_np, _ = build_samples_buffer(agent, env, BatchSpec(4, 5), subprocess=False)
    assert samples_np.agent.agent_info.prev_rnn_state.shape == (4, 5, 2, 3)


def test_buffer_layout_and_dtypes():
    agent, env = _agent_env()
    samples_pyt, samples_np, ex = build_samples_buffer(
        agent, env, BatchSpec(4, 3), agent_shared=False, env_shared=False, subprocess=False
    )
    a, e = samples_np.agent, samples_np.env
    assert type(a) is AgentSamples
    assert a.action.shape == (4, 3) and a.action.dtype == np.int64
    assert a.prev_action.shape == (4, 3) and a.agent_info.value.shape == (4, 3)
    assert e.observation.shape == (4, 3, 2) and e.observation.dtype == np.float32
    assert e.reward.shape == (4, 3) and e.reward.dtype == np.float32
    assert e.prev_reward.dtype == np.float32 and e.done.dtype == bool
    assert e.env_info.k.shape == (4, 3) and e.env_info.timeout.dtype == bool
    assert all(x.sum() == 0 for x in (a.action, e.observation, e.reward, e.done))
    assert isinstance(samples_pyt.env.observation, torch.Tensor)
    assert not is_shared(a.action) and not is_shared(e.observation)


def test_prev_fields_alias_shifted_arrays():
    agent, env = _agent_env()
    samples_pyt, samples_np, _ = build_samples_buffer(agent, env, BatchSpec(4, 2), subprocess=False)
    a, e = samples_np.agent, samples_np.env
    a.action[:] = np.arange(8).reshape(4, 2)
    e.reward[:] = np.arange(8).reshape(4, 2) + 0.5
    np.testing.assert_array_equal(a.prev_action[1:], a.action[:-1])
    np.testing.assert_array_equal(e.prev_reward[1:], e.reward[:-1])
    np.testing.assert_array_equal(a.prev_action[0], [0, 0])  # leading entry stays separate
    samples_pyt.agent.prev_action[0] = torch.tensor([7, 9])
    np.testing.assert_array_equal(a.prev_action[0], [7, 9])  # torch and NumPy share memory
    np.testing.assert_array_equal(a.action[0], [0, 1])


def test_bootstrap_value_and_shared_groups():
    agent, env = _agent_env()
    _, samples_np, _ = build_samples_buffer(
        agent, env, BatchSpec(3, 2), bootstrap_value=True, env_shared=False, subprocess=False
    )
    a = samples_np.agent
    assert type(a) is AgentSamplesBsv
    assert a.bootstrap_value.shape == (1, 2) and a.bootstrap_value.dtype == np.float32
    assert is_shared(a.action) and is_shared(a.bootstrap_value) and is_shared(a.agent_info.value)
    assert not is_shared(samples_np.env.observation)
    a.action[-1] = 4
    np.testing.assert_array_equal(a.prev_action[-1], [0, 0])


def test_subprocess_examples_match_and_leave_parent_untouched():
    agent, env = _agent_env()
    _, _, ex_child = build_samples_buffer(agent, env, BatchSpec(2, 2), subprocess=True)
    assert env.k == 0 and env.n_resets == 0  # the probe ran on the child's copy
    assert agent.step_batch_sizes == [] and agent.n_resets == 0
    ex_here = get_example_outputs(agent, env, {})
    for key in ex_here:
        for x, y in zip(leaves_to_tensors(ex_here[key]), leaves_to_tensors(ex_child[key])):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_leaves_roundtrip():
    agent, env = _agent_env()
    _, samples_np, _ = build_samples_buffer(agent, env, BatchSpec(2, 2), subprocess=False)
    samples_np.env.observation[:] = 3.0
    samples_np.env.env_info.k[1, 1] = 8
    tensors = leaves_to_tensors(samples_np)
    _, other, _ = build_samples_buffer(agent, env, BatchSpec(2, 2), subprocess=False)
    copy_leaves_into(other, tensors)
    np.testing.assert_array_equal(other.env.observation, 3.0)
    assert other.env.env_info.k[1, 1] == 8
