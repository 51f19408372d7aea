"""Async samplers, driven here as the runner's sampler process drives them.

``async_initialize`` runs in this process (the "training process"), then the sampler-process
half (``sampler_process_copy().initialize(...)``, ``obtain_samples(itr, itr % 2)``) runs here
too, with real worker processes for the parallel kinds. Checked: every kind writes exactly
``SerialSampler``'s batches into the right half of the double buffer (leaving the other half
alone), parameters published by the "optimizer" reach the agents that act (the sampler
process's for serial/GPU kinds, each worker's for the CPU kind) and only after a publish, and
everything is released afterwards.
"""

import sys

import pytest
import torch
from numpy.testing import assert_array_equal

from rlpyt.samplers.async_.alternating_sampler import AsyncAlternatingSampler
from rlpyt.samplers.async_.base import AsyncSamplerError, SharedParams
from rlpyt.samplers.async_.collectors import (
    DbCpuResetCollector,
    DbCpuWaitResetCollector,
    DbGpuResetCollector,
    DbGpuWaitResetCollector,
)
from rlpyt.samplers.async_.control import ReplayRatioSchedule
from rlpyt.samplers.async_.cpu_sampler import AsyncCpuSampler
from rlpyt.samplers.async_.gpu_sampler import AsyncGpuSampler
from rlpyt.samplers.async_.serial_sampler import AsyncSerialSampler
from rlpyt.samplers.parallel.base import WorkerError
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.buffer import buffer_func
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeModelAgent
from tests.samplers.proc_utils import (
    dev_shm,
    dev_shm_held,
    lasting_new_entries,
    our_children,
    rlpyt_blocks,
)

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process checks"),
]

KINDS = {
    "serial": AsyncSerialSampler,
    "cpu": AsyncCpuSampler,
    "gpu": AsyncGpuSampler,
    "alternating": AsyncAlternatingSampler,
}
T, B = 5, 3
ENV_KWARGS = dict(done_every=4, timeout_every=7)


@pytest.fixture
def clean_process():
    """No child process and no rlpyt shared memory left behind by the test."""
    blocks, shm, held = rlpyt_blocks(), dev_shm(), dev_shm_held()
    assert not our_children()
    yield
    assert not our_children(), "processes (or zombies) left behind"
    assert rlpyt_blocks() == blocks, "rlpyt shared-memory blocks left mapped"
    assert dev_shm_held() <= held, "/dev/shm files left open or mapped"
    assert not lasting_new_entries(shm), "new /dev/shm entries left behind"


def _leaves(samples):
    found = []
    buffer_func(
        samples, lambda x: found.append(x.numpy().copy() if torch.is_tensor(x) else x.copy())
    )
    return found


def _start(kind, start_method="fork", **kwargs):
    """``(main_agent, main_sampler, sampler_side)``: the training-process half initialized,
    the sampler-process half initialized here."""
    settings = dict(
        EnvCls=CountingEnv,
        env_kwargs=ENV_KWARGS,
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=3,
        start_method=start_method,
    )
    settings.update(kwargs)
    sampler = KINDS[kind](**settings)
    agent = FakeModelAgent()
    double_buffer, examples = sampler.async_initialize(agent, seed=7)
    assert len(double_buffer) == 2 and "observation" in examples
    assert agent.shared_model is not None  # parameters in shared memory
    side = sampler.sampler_process_copy()
    assert side.agent is not agent and side.agent.model is None  # detached from training
    side.initialize(affinity=dict(workers_cpus=[None, None]))
    return agent, sampler, side


def _serial_reference(n_batches, **kwargs):
    settings = dict(
        EnvCls=CountingEnv,
        env_kwargs=ENV_KWARGS,
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=3,
        CollectorCls=CpuResetCollector,
    )
    settings.update(kwargs)
    serial = SerialSampler(**settings)
    serial.initialize(FakeModelAgent(), seed=7)
    batches = []
    for itr in range(n_batches):
        samples, infos = serial.obtain_samples(itr)
        batches.append((_leaves(samples), sorted(info["Length"] for info in infos)))
    serial.shutdown()
    return batches


@pytest.mark.parametrize(
    "kind, start_method",
    [
        ("serial", "fork"),
        ("cpu", "fork"),
        ("gpu", "fork"),
        ("alternating", "fork"),
    ],
)
def test_batches_alternate_halves_and_match_serial(kind, start_method, clean_process):
    reference = _serial_reference(4)
    agent, sampler, side = _start(kind, start_method)
    try:
        for itr in range(4):
            infos = side.obtain_samples(itr, itr % 2)
            leaves, lengths = reference[itr]
            for got, want in zip(_leaves(sampler.double_buffer[itr % 2]), leaves):
                assert_array_equal(got, want)
            assert sorted(info["Length"] for info in infos) == lengths
            if itr > 0:  # the other half still holds the previous batch (being copied)
                for got, want in zip(
                    _leaves(sampler.double_buffer[(itr - 1) % 2]), reference[itr - 1][0]
                ):
                    assert_array_equal(got, want)
    finally:
        side.shutdown()
        sampler.release_async_buffers()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_published_parameters_reach_the_acting_agents(kind, clean_process):
    agent, sampler, side = _start(kind)
    try:
        side.obtain_samples(0, 0)
        with torch.no_grad():
            agent.model.offset.fill_(5.0)  # trained, not yet published
        side.obtain_samples(1, 1)
        info, obs = (
            sampler.double_buffer[1].agent.agent_info,
            sampler.double_buffer[1].env.observation,
        )
        assert_array_equal(info.value, obs[..., 0])  # the sampler side still has offset 0
        sampler.shared_params.publish(agent)
        side.obtain_samples(2, 0)
        info, obs = (
            sampler.double_buffer[0].agent.agent_info,
            sampler.double_buffer[0].env.observation,
        )
        # Every acting copy now computes exactly what the optimizer's model computes.
        assert_array_equal(info.value, obs[..., 0] + agent.model.offset.item())
        assert sampler.shared_params.version.value == 1
    finally:
        side.shutdown()
        sampler.release_async_buffers()


def test_evaluation_uses_the_newest_parameters(clean_process):
    agent, sampler, side = _start("cpu", eval_n_envs=2, eval_max_steps=8)
    try:
        with torch.no_grad():
            agent.model.offset.fill_(1.0)
        sampler.shared_params.publish(agent)
        infos = side.evaluate_agent(0)
        assert infos and all(info["Length"] <= 4 for info in infos)
        assert side.shared_params.version.value == 1
    finally:
        side.shutdown()
        sampler.release_async_buffers()


def test_wait_reset_collectors_and_db_names():
    assert issubclass(DbCpuResetCollector, CpuResetCollector)
    assert issubclass(DbCpuWaitResetCollector, CpuWaitResetCollector)
    assert DbCpuWaitResetCollector.mid_batch_reset is False
    assert DbGpuResetCollector.mid_batch_reset and not DbGpuWaitResetCollector.mid_batch_reset
    assert (
        AsyncSerialSampler(EnvCls=CountingEnv, env_kwargs={}, batch_T=2, batch_B=1).CollectorCls
        is DbCpuResetCollector
    )
    assert (
        AsyncGpuSampler(EnvCls=CountingEnv, env_kwargs={}, batch_T=2, batch_B=1).CollectorCls
        is DbGpuResetCollector
    )


def test_wait_reset_batches_match_serial(clean_process):
    reference = _serial_reference(3, CollectorCls=CpuWaitResetCollector)
    agent, sampler, side = _start("cpu", CollectorCls=DbCpuWaitResetCollector)
    try:
        for itr in range(3):
            side.obtain_samples(itr, itr % 2)
            for got, want in zip(_leaves(sampler.double_buffer[itr % 2]), reference[itr][0]):
                assert_array_equal(got, want)
    finally:
        side.shutdown()
        sampler.release_async_buffers()


def test_a_dead_worker_is_a_worker_error(clean_process):
    agent, sampler, side = _start("cpu")
    try:
        side.workers[1].process.kill()
        with pytest.raises(WorkerError, match="worker 1 .* SIGKILL"):
            side.obtain_samples(0, 0)
    finally:
        side.shutdown()
        sampler.release_async_buffers()


def test_shared_params_wait_is_bounded_and_checked():
    """A reader that died holding the lock: the publisher's liveness check decides."""
    import multiprocessing as mp

    params = SharedParams(mp.get_context("fork"))
    assert params.lock.acquire_read(0)  # a "sampler" holding the read lock forever
    calls = []

    def on_wait():
        calls.append(1)
        raise AsyncSamplerError("async sampler process", 123, "died: killed by signal SIGKILL")

    with pytest.raises(AsyncSamplerError, match="pid 123"):
        params.publish(FakeModelAgent(), on_wait=on_wait)
    assert calls == [1]


def test_replay_ratio_schedule():
    schedule = ReplayRatioSchedule(updates_per_itr=2.5, learn_start=4, start_updates=10, max_lead=2)
    assert schedule.credit(0) == schedule.credit(4) == 10
    assert schedule.credit(6) == 15
    assert schedule.sampler_may_start(6, progress=10)  # credit(4): nothing owed yet
    assert not schedule.sampler_may_start(7, progress=12)  # owes credit(5) = 12.5
    assert schedule.sampler_may_start(7, progress=12.5)
    free = ReplayRatioSchedule(updates_per_itr=1, learn_start=0, max_lead=None)
    assert free.sampler_may_start(10**6, progress=0)
