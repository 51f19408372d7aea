"""GpuSampler and the alternating samplers: actions served by the master, CPU or CUDA agents."""

import sys

import pytest
import torch
from numpy.testing import assert_array_equal

from rlpyt.samplers.parallel.gpu.alternating_sampler import (
    AlternatingSampler,
    NoOverlapAlternatingSampler,
)
from rlpyt.samplers.parallel.gpu.collectors import (
    GpuEvalCollector,
    GpuResetCollector,
    GpuWaitResetCollector,
)
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeAgent, FakeModelAgent, FakeRecurrentAgent
from tests.samplers.proc_utils import our_children

pytestmark = [pytest.mark.timeout(60), pytest.mark.skipif(sys.platform == "win32", reason="")]


def make_sampler(SamplerCls=GpuSampler, **kwargs):
    settings = dict(
        EnvCls=CountingEnv,
        env_kwargs=dict(done_every=3),
        batch_T=4,
        batch_B=3,
        max_decorrelation_steps=0,
    )
    settings.update(kwargs)
    return SamplerCls(**settings)


def test_defaults():
    sampler = make_sampler()
    assert sampler.CollectorCls is GpuResetCollector and sampler.mid_batch_reset is True
    assert sampler.eval_CollectorCls is GpuEvalCollector
    assert make_sampler(CollectorCls=GpuWaitResetCollector).mid_batch_reset is False
    with pytest.raises(ValueError, match="'thread'"):
        make_sampler(start_method="thread")


@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
def test_samples_layout_and_eval(start_method):
    sampler = make_sampler(start_method=start_method, eval_n_envs=3, eval_max_steps=21)
    agent = FakeAgent()
    sampler.initialize(agent, seed=0, bootstrap_value=True)
    try:
        assert agent.init_args == dict(share_memory=False, global_B=3, env_ranks=[0, 1, 2])
        samples, infos = sampler.obtain_samples(0)
        assert_array_equal(samples.env.observation[:, :, 0].T, [[0, 1, 2, 0]] * 3)
        assert_array_equal(samples.agent.action.T, [[0, 2, 1, 0]] * 3)
        assert_array_equal(samples.agent.bootstrap_value, [[1.5] * 3])
        assert [i.Length for i in infos] == [3] * 3
        # One batched agent.step for all envs per time step, plus the probe step.
        assert agent.step_batch_sizes == [1] + [3] * 4
        assert agent.reset_ones == [0, 1, 2]
        eval_infos = sampler.evaluate_agent(1)
        assert [i.Length for i in eval_infos] == [3] * 6 and agent.modes[-1] == ("eval", 1)
        samples, _ = sampler.obtain_samples(2)
        assert agent.modes[-1] == ("sample", 2)
        assert_array_equal(samples.env.observation[:, :, 0].T, [[1, 2, 0, 1]] * 3)
    finally:
        sampler.shutdown()
    assert not our_children()


@pytest.mark.parametrize("max_trajectories", [1, 4])
def test_eval_max_trajectories_stops_exactly_like_serial(max_trajectories):
    def run(SamplerCls):
        sampler = make_sampler(
            SamplerCls,
            env_kwargs=dict(done_every=4),
            eval_n_envs=3,
            eval_max_steps=300,
            eval_max_trajectories=max_trajectories,
        )
        sampler.initialize(FakeAgent(), seed=0)
        try:
            return [dict(i) for i in sampler.evaluate_agent(0)]
        finally:
            sampler.shutdown()

    expected = run(SerialSampler)
    got = run(GpuSampler)
    assert len(expected) == 3 * -(-max_trajectories // 3)  # the 3 envs finish together
    assert sorted(map(sorted, (i.items() for i in got))) == sorted(
        map(sorted, (i.items() for i in expected))
    )


def test_master_agent_parameters_used_directly():
    sampler = make_sampler(batch_B=2)
    agent = FakeModelAgent()
    sampler.initialize(agent, seed=0)
    try:
        assert agent.shared_model is None
        samples, _ = sampler.obtain_samples(0)
        assert_array_equal(samples.agent.action.T, [[0, 2, 1, 0]] * 2)
        with torch.no_grad():
            agent.model.offset += 1.0
        samples, _ = sampler.obtain_samples(1)
        assert_array_equal(samples.agent.agent_info.value.T, [[2, 3, 1, 2]] * 2)
    finally:
        sampler.shutdown()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_agent_on_cuda():
    sampler = make_sampler(batch_B=2, eval_n_envs=1, eval_max_steps=6)
    agent = FakeModelAgent()
    sampler.initialize(agent, seed=0, bootstrap_value=True)
    try:
        agent.to_device(0)
        samples, infos = sampler.obtain_samples(0)
        assert samples.agent.action.device.type == "cpu"
        assert_array_equal(samples.agent.action.T, [[0, 2, 1, 0]] * 2)
        assert_array_equal(samples.agent.bootstrap_value, [[1.0, 1.0]])
        assert [i.Length for i in sampler.evaluate_agent(1)] == [3, 3]
    finally:
        sampler.shutdown()


@pytest.mark.parametrize("SamplerCls", [AlternatingSampler, NoOverlapAlternatingSampler])
def test_alternating_serves_halves_in_turn(SamplerCls):
    sampler = make_sampler(SamplerCls, batch_B=5)
    agent = FakeAgent()
    sampler.initialize(agent, affinity=dict(workers_cpus=[None]), seed=0, bootstrap_value=True)
    try:
        assert sampler.alternating and sampler.n_worker == 2  # a second worker was added
        assert sampler._env_counts == [3, 2]
        samples, infos = sampler.obtain_samples(0)
        assert agent.step_batch_sizes == [1] + [3, 2] * 4  # the probe, then halves in turn
        assert_array_equal(samples.env.observation[:, :, 0].T, [[0, 1, 2, 0]] * 5)
        assert_array_equal(samples.agent.bootstrap_value, [[1.5] * 5])
        assert sorted(agent.reset_ones) == [0, 1, 2, 3, 4] and len(infos) == 5
    finally:
        sampler.shutdown()


def test_alternating_checks():
    with pytest.raises(ValueError, match="batch_B >= 2"):
        make_sampler(AlternatingSampler, batch_B=1).initialize(FakeAgent(), seed=0)
    with pytest.raises(TypeError, match="not alternating"):
        make_sampler(AlternatingSampler).initialize(FakeRecurrentAgent(), seed=0)
    assert not our_children()
