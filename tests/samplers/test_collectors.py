"""Exact [T, B] layouts written by the collectors on counting envs, and the eval collectors."""

import queue

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from rlpyt.envs.base import EnvStep
from rlpyt.samplers.buffer import build_samples_buffer
from rlpyt.samplers.collections import BatchSpec, TrajInfo
from rlpyt.samplers.parallel.cpu.collectors import (
    CpuEvalCollector,
    CpuResetCollector,
    CpuWaitResetCollector,
)
from rlpyt.samplers.serial.collectors import SerialEvalCollector
from rlpyt.utils.collections import namedarraytuple
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeAgent, FakeRecurrentAgent

KOnlyInfo = namedarraytuple("KOnlyInfo", ["k"])


class LifeLossEnv(CountingEnv):
    """``done`` every 2 steps, but the trajectory ends (``traj_done``) only every 4."""

    def __init__(self) -> None:
        super().__init__(done_every=2)

    def step(self, action):
        o, r, d, info = super().step(action)
        return EnvStep(o, r, d, info._replace(traj_done=bool(d and self.k % 4 == 0)))


class NoTrajDoneEnv(CountingEnv):
    """A counting env whose ``env_info`` has no ``traj_done`` (reset on every ``done``)."""

    def step(self, action):
        o, r, d, info = super().step(action)
        return EnvStep(o, r, d, KOnlyInfo(k=info.k))


def make_collector(CollectorCls, envs, T=4, bootstrap_value=False, AgentCls=FakeAgent):
    B = len(envs)
    agent = AgentCls()
    agent.initialize(envs[0].spaces, global_B=B, env_ranks=list(range(B)))
    _, samples_np, _ = build_samples_buffer(
        agent, envs[0], BatchSpec(T, B), bootstrap_value, False, False, subprocess=False
    )
    collector = CollectorCls(
        rank=0,
        envs=envs,
        samples_np=samples_np,
        batch_T=T,
        TrajInfoCls=TrajInfo,
        agent=agent,
        global_B=B,
        env_ranks=list(range(B)),
    )
    agent_inputs, traj_infos = collector.start_envs(0)
    collector.start_agent()
    return collector, agent, samples_np, agent_inputs, traj_infos


def lengths_returns(infos):
    return [(i.Length, i.Return) for i in infos]


def test_reset_collector_layout():
    envs = [CountingEnv(done_every=3), CountingEnv(timeout_every=2)]
    collector, agent, s, inputs, infos = make_collector(CpuResetCollector, envs, 4, True)
    assert agent.collector_init == (2, [0, 1]) and agent.modes == [("sample", 0)]
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, itr=3)
    a, e = s.agent, s.env
    # env 0 terminates at k=3 and is reset; env 1 times out at k=2 (twice).
    assert_array_equal(e.observation[..., 0].T, [[0, 1, 2, 0], [0, 1, 0, 1]])
    assert_array_equal(e.observation[..., 1], e.observation[..., 0])
    assert_array_equal(e.reward.T, [[1, 2, 3, 1], [1, 2, 1, 2]])
    assert_array_equal(e.done.T, [[0, 0, 1, 0], [0, 1, 0, 1]])
    assert_array_equal(e.env_info.timeout.T, [[0, 0, 0, 0], [0, 1, 0, 1]])
    assert_array_equal(e.env_info.traj_done, e.done)
    assert_array_equal(e.env_info.k.T, [[1, 2, 3, 1], [1, 2, 1, 2]])
    assert_array_equal(a.action.T, [[0, 2, 1, 0], [0, 2, 0, 2]])  # 2k % 3
    assert_array_equal(a.prev_action.T, [[0, 0, 2, 1], [0, 0, 2, 0]])
    assert_array_equal(e.prev_reward.T, [[0, 1, 2, 3], [0, 1, 2, 1]])
    assert_array_equal(a.agent_info.value.T, [[0.5, 1.5, 2.5, 0.5], [0.5, 1.5, 0.5, 1.5]])
    assert_array_equal(a.bootstrap_value, [[1.5, 0.5]])  # value of the next observations
    assert lengths_returns(done_infos) == [(2, 3.0), (3, 6.0), (2, 3.0)]
    assert lengths_returns(infos) == [(1, 1.0), (0, 0.0)]
    assert agent.reset_ones == [1, 0, 1]
    assert agent.step_batch_sizes == [1, 2, 2, 2, 2]  # example probe, then one call per step
    assert agent.modes[-1] == ("sample", 3)
    assert_array_equal(inputs.observation[:, 0], [1, 0])
    assert_array_equal(inputs.prev_action, [0, 2]) and assert_array_equal(
        inputs.prev_reward, [1, 2]
    )
    # The next batch continues: its leading prev_* entries are the last action/reward.
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, itr=4)
    assert_array_equal(e.observation[..., 0].T, [[1, 2, 0, 1], [0, 1, 0, 1]])
    assert_array_equal(a.prev_action[0], [0, 2]) and assert_array_equal(e.prev_reward[0], [1, 2])
    assert lengths_returns(done_infos) == [(3, 6.0), (2, 3.0), (2, 3.0)]


def test_reset_collector_resets_on_traj_done_only():
    envs = [LifeLossEnv()]
    collector, agent, s, inputs, infos = make_collector(CpuResetCollector, envs, 5)
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, 0)
    e = s.env
    # Life loss: done at k=2 without a reset; the trajectory ends (and resets) at k=4.
    assert_array_equal(e.observation[:, 0, 0], [0, 1, 2, 3, 0])
    assert_array_equal(e.done[:, 0], [0, 1, 0, 1, 0])
    assert_array_equal(e.env_info.traj_done[:, 0], [0, 0, 0, 1, 0])
    assert lengths_returns(done_infos) == [(4, 10.0)]
    assert agent.reset_ones == [0, 0]  # every done resets the agent's per-env state
    assert envs[0].n_resets == 3  # example probe, start, k=4


def test_reset_collector_without_traj_done_field_resets_on_done():
    envs = [NoTrajDoneEnv(done_every=2), NoTrajDoneEnv(done_every=3)]
    collector, agent, s, inputs, infos = make_collector(CpuResetCollector, envs, 5)
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, 0)
    assert s.env.env_info._fields == ("k",)
    assert_array_equal(s.env.observation[..., 0].T, [[0, 1, 0, 1, 0], [0, 1, 2, 0, 1]])
    assert_array_equal(s.env.done.T, [[0, 1, 0, 1, 0], [0, 0, 1, 0, 0]])
    assert lengths_returns(done_infos) == [(2, 3.0), (3, 6.0), (2, 3.0)]
    assert agent.reset_ones == [0, 1, 0]


def test_wait_reset_collector_freezes_done_envs():
    envs = [CountingEnv(done_every=3), CountingEnv(timeout_every=2)]
    collector, agent, s, inputs, infos = make_collector(CpuWaitResetCollector, envs, 4, True)
    n_resets = [env.n_resets for env in envs]
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, 0)
    a, e = s.agent, s.env
    assert_array_equal(e.observation[..., 0].T, [[0, 1, 2, 0], [0, 1, 0, 0]])
    assert_array_equal(e.reward.T, [[1, 2, 3, 0], [1, 2, 0, 0]])
    assert_array_equal(e.done.T, [[0, 0, 1, 1], [0, 1, 1, 1]])
    assert_array_equal(e.env_info.timeout.T, [[0, 0, 0, 0], [0, 1, 0, 0]])
    assert_array_equal(e.env_info.k.T, [[1, 2, 3, 0], [1, 2, 0, 0]])
    assert_array_equal(a.action.T, [[0, 2, 1, 0], [0, 2, 0, 0]])
    assert_array_equal(a.prev_action.T, [[0, 0, 2, 1], [0, 0, 2, 0]])
    assert_array_equal(e.prev_reward.T, [[0, 1, 2, 3], [0, 1, 2, 0]])
    assert_array_equal(a.agent_info.value.T, [[0.5, 1.5, 2.5, 0], [0.5, 1.5, 0, 0]])
    assert_array_equal(a.bootstrap_value, [[0.5, 0.5]])
    assert [env.k for env in envs] == [3, 2]  # frozen envs were not stepped
    assert lengths_returns(done_infos) == [(2, 3.0), (3, 6.0)]
    assert agent.reset_ones == [] and [env.n_resets for env in envs] == n_resets
    collector.reset_if_needed(inputs)
    assert agent.reset_ones == [0, 1]
    assert [env.n_resets - n for env, n in zip(envs, n_resets)] == [1, 1]
    assert_array_equal(inputs.observation, 0) and assert_array_equal(inputs.prev_action, 0)
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, 1)
    assert_array_equal(e.observation[..., 0].T, [[0, 1, 2, 0], [0, 1, 0, 0]])
    assert_array_equal(e.done.T, [[0, 0, 1, 1], [0, 1, 1, 1]])


def test_wait_reset_life_loss_continues_without_reset():
    envs = [LifeLossEnv()]
    collector, agent, s, inputs, infos = make_collector(CpuWaitResetCollector, envs, 3)
    n_resets = envs[0].n_resets
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, 0)
    assert_array_equal(s.env.observation[:, 0, 0], [0, 1, 0])
    assert_array_equal(s.env.done[:, 0], [0, 1, 1]) and done_infos == []
    collector.reset_if_needed(inputs)
    assert envs[0].n_resets == n_resets and agent.reset_ones == [0]
    assert_array_equal(inputs.observation[0], [2, 2])  # the observation of the done step
    inputs, infos, done_infos = collector.collect_batch(inputs, infos, 1)
    assert_array_equal(s.env.observation[:, 0, 0], [2, 3, 0])
    assert lengths_returns(done_infos) == [(4, 10.0)]


def test_wait_reset_recurrent_state_rows_blank_then_reset():
    envs = [CountingEnv(done_every=2), CountingEnv()]
    collector, agent, s, inputs, infos = make_collector(
        CpuWaitResetCollector, envs, 3, AgentCls=FakeRecurrentAgent
    )
    inputs, infos, _ = collector.collect_batch(inputs, infos, 0)
    rnn = s.agent.agent_info.prev_rnn_state
    assert rnn.shape == (3, 2, 2, 3)
    assert_array_equal(rnn[:, 0, 0, 0], [0, 1, 0])  # frozen row blanked
    assert_array_equal(rnn[:, 1, 0, 0], [0, 1, 2])
    collector.reset_if_needed(inputs)
    collector.collect_batch(inputs, infos, 1)
    assert_array_equal(rnn[:, 0, 0, 0], [0, 1, 0])  # state of env 0 reset between batches
    assert_array_equal(rnn[:, 1, 0, 0], [3, 4, 5])


@pytest.mark.parametrize("done_every", [None, 3])
def test_decorrelation_is_random_and_bounded(done_every):
    envs = [CountingEnv(done_every=done_every) for _ in range(16)]
    collector = CpuResetCollector(0, envs, None, 4, TrajInfo)
    rng = np.random.default_rng(5)
    inputs, infos = collector.start_envs(10, rng=rng)
    draws = np.random.default_rng(5)
    n = np.array([draws.integers(0, 11) for _ in range(16)])
    assert len(set(n.tolist())) > 3 and n.min() >= 0 and n.max() <= 10
    k = n if done_every is None else n % done_every
    assert_array_equal(inputs.observation[:, 0], k)
    assert_array_equal([i.Length for i in infos], k)
    last_reward = k  # reward k; after a done (k == 0): reward 0 and the null action
    assert_array_equal(inputs.prev_reward, last_reward)
    assert inputs.prev_reward.dtype == np.float32 and inputs.prev_action.dtype == np.int64
    assert_array_equal(inputs.prev_action[n == 0], 0)


def test_no_decorrelation():
    envs = [CountingEnv(done_every=3) for _ in range(3)]
    inputs, infos = CpuResetCollector(0, envs, None, 4, TrajInfo).start_envs(0)
    assert_array_equal(inputs.observation, 0) and [i.Length for i in infos] == [0, 0, 0]


def _eval_envs():
    return [CountingEnv(done_every=3), CountingEnv(done_every=5)]


def test_serial_eval_collector_max_T():
    agent = FakeAgent()
    agent.initialize(_eval_envs()[0].spaces)
    collector = SerialEvalCollector(_eval_envs(), agent, TrajInfo, max_T=7)
    infos = collector.collect_evaluation(itr=9)
    assert lengths_returns(infos) == [(3, 6.0), (5, 15.0), (3, 6.0)]
    assert agent.step_batch_sizes == [2] * 7 and agent.modes == [("eval", 9)]
    assert agent.reset_ones == [0, 1, 0] and agent.n_resets == 1


def test_serial_eval_collector_max_trajectories():
    agent = FakeAgent()
    agent.initialize(_eval_envs()[0].spaces)
    envs = _eval_envs()
    infos = SerialEvalCollector(envs, agent, TrajInfo, 100, max_trajectories=2).collect_evaluation(
        0
    )
    assert lengths_returns(infos) == [(3, 6.0), (5, 15.0)]
    assert len(agent.step_batch_sizes) == 5 and [env.k for env in envs] == [2, 0]
    # Trajectories finishing on the same step are all kept.
    same = [CountingEnv(done_every=3), CountingEnv(done_every=3)]
    infos = SerialEvalCollector(same, agent, TrajInfo, 100, max_trajectories=1).collect_evaluation(
        0
    )
    assert lengths_returns(infos) == [(3, 6.0), (3, 6.0)]


def test_cpu_eval_collector_queue_and_stop():
    agent = FakeAgent()
    agent.initialize(_eval_envs()[0].spaces)
    q = queue.Queue()
    CpuEvalCollector(0, _eval_envs(), TrajInfo, q, max_T=6, agent=agent).collect_evaluation(2)
    got = [q.get_nowait() for _ in range(q.qsize())]
    assert got[-1] is None and lengths_returns(got[:-1]) == [(3, 6.0), (5, 15.0), (3, 6.0)]

    class Flag:
        value = True

    class Sync:
        stop_eval = Flag()

    CpuEvalCollector(0, _eval_envs(), TrajInfo, q, 6, agent, sync=Sync()).collect_evaluation(3)
    assert q.get_nowait() is None and q.empty()  # stopped after the first step
