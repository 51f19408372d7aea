"""CpuSampler: [T, B] layout under every start method, parameter sync, affinity, snapshots."""

import io
import os
import signal
import sys

import numpy as np
import psutil
import pytest
import torch
from numpy.testing import assert_array_equal

from rlpyt.samplers.buffer import leaves_to_tensors
from rlpyt.samplers.parallel.base import resolve_start_method, split_counts
from rlpyt.samplers.parallel.cpu.collectors import (
    CpuEvalCollector,
    CpuResetCollector,
    CpuWaitResetCollector,
)
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeAgent, FakeModelAgent
from tests.samplers.proc_utils import our_children

pytestmark = [pytest.mark.timeout(60), pytest.mark.skipif(sys.platform == "win32", reason="")]


def make_sampler(SamplerCls=CpuSampler, **kwargs):
    settings = dict(
        EnvCls=CountingEnv,
        env_kwargs=dict(done_every=3),
        batch_T=4,
        batch_B=3,
        max_decorrelation_steps=0,
    )
    settings.update(kwargs)
    return SamplerCls(**settings)


def test_constructor_defaults_and_start_method():
    sampler = make_sampler()
    assert sampler.CollectorCls is CpuResetCollector and sampler.mid_batch_reset is True
    assert sampler.eval_CollectorCls is CpuEvalCollector
    assert sampler.start_method == ("fork" if sys.platform.startswith("linux") else "spawn")
    assert make_sampler(CollectorCls=CpuWaitResetCollector).mid_batch_reset is False
    with pytest.raises(ValueError, match="'threads'"):
        make_sampler(start_method="threads")
    with pytest.raises(ValueError, match="batch_T"):
        make_sampler(batch_T=0)
    assert resolve_start_method("spawn") == "spawn"


def test_split_counts():
    assert split_counts(7, 3) == [3, 2, 2]
    assert split_counts(4, 2) == [2, 2] and split_counts(2, 4) == [1, 1, 0, 0]


@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
def test_samples_layout_and_eval(start_method):
    sampler = make_sampler(start_method=start_method, eval_n_envs=3, eval_max_steps=21)
    agent = FakeAgent()
    examples = sampler.initialize(
        agent,
        affinity=dict(workers_cpus=[None, None]),
        seed=0,
        bootstrap_value=True,
        traj_info_kwargs=dict(discount=0.5),
    )
    try:
        assert sampler.n_worker == 2 and sampler._env_counts == [2, 1]  # uneven split
        assert agent.init_args == dict(share_memory=True, global_B=3, env_ranks=[0, 1, 2])
        assert set(examples) >= {"observation", "action", "agent_info"}
        samples, infos = sampler.obtain_samples(0)
        assert isinstance(samples.env.observation, torch.Tensor)
        assert_array_equal(samples.env.observation[:, :, 0].T, [[0, 1, 2, 0]] * 3)
        assert_array_equal(samples.agent.action.T, [[0, 2, 1, 0]] * 3)  # 2k % 3
        assert_array_equal(samples.agent.prev_action[1:], samples.agent.action[:-1])
        assert_array_equal(samples.env.done.T, [[0, 0, 1, 0]] * 3)
        assert_array_equal(samples.agent.bootstrap_value, [[1.5] * 3])
        assert [(i.Length, i.Return, i.DiscountedReturn) for i in infos] == [(3, 6.0, 2.75)] * 3
        samples2, infos = sampler.obtain_samples(1)
        assert samples2 is samples and [i.Length for i in infos] == [3] * 3
        assert_array_equal(samples.env.observation[:, :, 0].T, [[1, 2, 0, 1]] * 3)
        assert_array_equal(samples.agent.action[0], [2] * 3)
        eval_infos = sampler.evaluate_agent(2)  # 3 envs x 7 steps: 2 trajectories each
        assert [i.Length for i in eval_infos] == [3] * 6 and eval_infos[0]._discount == 0.5
    finally:
        sampler.shutdown()
    assert not our_children()


def test_eval_max_trajectories_stops_workers():
    sampler = make_sampler(eval_n_envs=2, eval_max_steps=2000, eval_max_trajectories=3)
    sampler.initialize(FakeAgent(), seed=0)
    try:
        # Up to 2 x 1000 steps (666 trajectories) without the stop; workers stop soon after
        # the master has seen the 3rd trajectory (how soon depends on the machine's load).
        infos = sampler.evaluate_agent(0)
        assert 3 <= len(infos) < 200
        infos = sampler.evaluate_agent(1)  # the stop flag is cleared for the next one
        assert 3 <= len(infos) < 200
        with pytest.raises(RuntimeError, match="eval_n_envs > 0"):
            noeval = make_sampler(batch_B=1)
            noeval.initialize(FakeAgent(), seed=0)
            try:
                noeval.evaluate_agent(0)
            finally:
                noeval.shutdown()
    finally:
        sampler.shutdown()


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_act_with_published_parameters(start_method):
    sampler = make_sampler(start_method=start_method, batch_B=2)
    agent = FakeModelAgent()
    sampler.initialize(agent, seed=0)
    try:
        samples, _ = sampler.obtain_samples(0)
        assert_array_equal(samples.agent.action.T, [[0, 2, 1, 0]] * 2)
        with torch.no_grad():
            agent.model.offset += 1.0  # "training" in the master
        samples, _ = sampler.obtain_samples(1)  # observations 1, 2, 0, 1
        assert_array_equal(samples.agent.action.T, [[0, 2, 1, 0]] * 2)  # (2k + 1) % 3
        assert_array_equal(samples.agent.agent_info.value.T, [[2, 3, 1, 2]] * 2)
        assert agent.model.offset.item() == 1.0  # workers never write the master's model
    finally:
        sampler.shutdown()


def test_worker_affinity_threads_and_trimming():
    cpus = sorted(psutil.Process().cpu_affinity())
    sampler = make_sampler(batch_B=2)
    affinity = dict(workers_cpus=[cpus[0], [cpus[-1]], [cpus[0]]], worker_torch_threads=1)
    sampler.initialize(FakeAgent(), affinity=affinity, seed=0)  # 3 CPU sets, 2 envs
    try:
        assert sampler.n_worker == 2
        pinned = [psutil.Process(w.process.pid).cpu_affinity() for w in sampler.workers]
        assert pinned == [[cpus[0]], [cpus[-1]]]
    finally:
        sampler.shutdown()
    sampler = make_sampler(batch_B=2)
    sampler.initialize(FakeAgent(), affinity=dict(workers_cpus=[[cpus[0]]], set_affinity=False))
    try:
        assert sorted(psutil.Process(sampler.workers[0].process.pid).cpu_affinity()) == cpus
    finally:
        sampler.shutdown()


def test_workers_ignore_sigint():
    sampler = make_sampler(batch_B=2)
    sampler.initialize(FakeAgent(), seed=0)
    try:
        for worker in sampler.workers:
            os.kill(worker.process.pid, signal.SIGINT)
        samples, _ = sampler.obtain_samples(0)
        assert all(w.process.is_alive() for w in sampler.workers)
        assert_array_equal(samples.env.observation[:, :, 0].T, [[0, 1, 2, 0]] * 2)
    finally:
        sampler.shutdown()


def _roundtrip(state):
    f = io.BytesIO()
    torch.save(state, f)
    f.seek(0)
    return torch.load(f, weights_only=True)


@pytest.mark.parametrize("CollectorCls", [CpuResetCollector, CpuWaitResetCollector])
@pytest.mark.parametrize(
    "first, second", [(CpuSampler, SerialSampler), (SerialSampler, CpuSampler)]
)
def test_snapshot_resumes_across_samplers(CollectorCls, first, second):
    def make(SamplerCls, seed):
        sampler = make_sampler(
            SamplerCls,
            env_kwargs=dict(done_every=5),
            batch_T=6,
            batch_B=3,
            CollectorCls=CollectorCls,
            max_decorrelation_steps=7,
        )
        sampler.initialize(FakeAgent(), seed=seed, bootstrap_value=True)
        return sampler

    original, resumed = make(first, 1), make(second, 99)
    try:
        original.obtain_samples(0)
        state = _roundtrip(original.state_dict())
        assert state["envs"] is not None and len(state["traj_infos"]) == 3
        resumed.load_state_dict(state)
        for itr in (1, 2):
            samples, infos = original.obtain_samples(itr)
            expected = [t.clone() for t in leaves_to_tensors(samples)]
            expected_infos = sorted(sorted(dict(i).items()) for i in infos)
            samples, infos = resumed.obtain_samples(itr)
            for x, y in zip(expected, leaves_to_tensors(samples)):
                assert_array_equal(x.numpy(), y.numpy())
            assert sorted(sorted(dict(i).items()) for i in infos) == expected_infos
        with pytest.raises(ValueError, match="envs"):
            bad = dict(state, traj_infos=state["traj_infos"][:2])
            resumed.load_state_dict(bad)
    finally:
        original.shutdown()
        resumed.shutdown()


def test_uneven_split_seeds_like_serial():
    def first_obs(SamplerCls):
        sampler = make_sampler(SamplerCls, env_kwargs={}, batch_B=5, max_decorrelation_steps=20)
        sampler.initialize(FakeAgent(), seed=3)
        try:
            samples, _ = sampler.obtain_samples(0)
            return samples.env.observation[0, :, 0].numpy().copy()
        finally:
            sampler.shutdown()

    serial = first_obs(SerialSampler)
    assert_array_equal(first_obs(CpuSampler), serial)
    assert len(np.unique(serial)) > 1
