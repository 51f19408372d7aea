"""Contract over every sampler: the same seed and a deterministic agent give the same data.

Each sampler kind must reproduce ``SerialSampler`` exactly: every leaf of every batch, the
completed trajectory infos of every batch (as a multiset: parallel samplers report them
grouped by worker), evaluation trajectories, and a snapshot taken from it must resume
``SerialSampler`` exactly. Samplers are called with the CPU collector classes; GPU-style
samplers map them to their own (``GpuResetCollector`` for ``CpuResetCollector``, ...).
"""

import functools
import sys

import pytest
import torch
from numpy.testing import assert_array_equal

from rlpyt.agents.base import AgentStep, AlternatingRecurrentAgentMixin
from rlpyt.envs.gym import gym_make
from rlpyt.samplers.buffer import leaves_to_tensors
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import (
    AlternatingSampler,
    NoOverlapAlternatingSampler,
)
from rlpyt.samplers.parallel.gpu.collectors import GpuResetCollector, GpuWaitResetCollector
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeAgent, FakeAgentInfoRnn, FakeRecurrentAgent, _main_leaf
from tests.samplers.proc_utils import PairObsEnv


class _FakeRnnCore(FakeAgent):
    """:class:`FakeRecurrentAgent`'s rule (the state of env ``b``, ``[N=2, H=3]``, counts its
    steps since its last reset) written against ``RecurrentAgentMixin``'s state interface."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__(scale)
        self._mode = None

    def initialize(self, env_spaces, share_memory=False, global_B=1, env_ranks=None):
        super().initialize(env_spaces, share_memory, global_B, env_ranks)
        self.collector_initialize(global_B=global_B, env_ranks=env_ranks)

    def step(self, observation, prev_action, prev_reward):
        action = super().step(observation, prev_action, prev_reward).action
        prev = self.prev_rnn_state  # [B, N, H]
        if prev is None:
            prev = torch.zeros(_main_leaf(observation).shape[0], 2, 3)
        self.advance_rnn_state(prev.transpose(0, 1) + 1)
        info = FakeAgentInfoRnn(value=self._value(observation), prev_rnn_state=prev.clone())
        return AgentStep(action=action, agent_info=info)

    def sample_mode(self, itr):
        self._mode = "sample"
        super().sample_mode(itr)

    def eval_mode(self, itr):
        self._mode = "eval"
        super().eval_mode(itr)

    def train_mode(self, itr):
        self._mode = "train"
        super().train_mode(itr)


class FakeAlternatingRecurrentAgent(AlternatingRecurrentAgentMixin, _FakeRnnCore):
    """:class:`FakeRecurrentAgent` with its state kept per half by the real mixin."""


AGENTS = {"ff": FakeAgent, "rnn": FakeRecurrentAgent}
# The alternating samplers need alternating recurrent agents; their samples must still equal
# SerialSampler's with the plain recurrent agent.
ALTERNATING_AGENTS = {"ff": FakeAgent, "rnn": FakeAlternatingRecurrentAgent}


def _gpu(CollectorCls, SamplerCls=GpuSampler, **kwargs):
    GpuCls = {CpuResetCollector: GpuResetCollector, CpuWaitResetCollector: GpuWaitResetCollector}
    return SamplerCls(CollectorCls=GpuCls[CollectorCls], start_method="fork", **kwargs)


def _alternating(CollectorCls, **kwargs):
    return _gpu(CollectorCls, SamplerCls=AlternatingSampler, **kwargs)


def _no_overlap(CollectorCls, **kwargs):
    return _gpu(CollectorCls, SamplerCls=NoOverlapAlternatingSampler, **kwargs)


SAMPLERS = {
    "serial": SerialSampler,
    "cpu": functools.partial(CpuSampler, start_method="fork"),
    "gpu": _gpu,
    "alternating": _alternating,
    "alternating_no_overlap": _no_overlap,
}

ENVS = {
    "counting": (CountingEnv, dict(done_every=5, timeout_every=4), 1.0),
    "cartpole": (gym_make, dict(id="CartPole-v1", max_episode_steps=15), 100.0),
    "pair_obs": (PairObsEnv, dict(done_every=4), 1.0),
}

N_ITR = 3


def _infos(infos):
    return sorted(sorted(dict(i).items()) for i in infos)


def _run(SamplerCls, CollectorCls, env, max_decorrelation_steps, agent):
    EnvCls, env_kwargs, scale = ENVS[env]
    sampler = SamplerCls(
        EnvCls=EnvCls,
        env_kwargs=env_kwargs,
        batch_T=5,
        batch_B=5,
        CollectorCls=CollectorCls,
        max_decorrelation_steps=max_decorrelation_steps,
        eval_n_envs=3,
        eval_max_steps=60,
    )
    out = dict(batches=[], infos=[])
    agents = ALTERNATING_AGENTS if getattr(sampler, "alternating", False) else AGENTS
    sampler.initialize(
        agents[agent](scale), seed=11, bootstrap_value=True, traj_info_kwargs=dict(discount=0.9)
    )
    try:
        for itr in range(N_ITR):
            samples, infos = sampler.obtain_samples(itr)
            out["batches"].append([t.clone() for t in leaves_to_tensors(samples)])
            out["infos"].append(_infos(infos))
        out["eval"] = _infos(sampler.evaluate_agent(N_ITR))
        out["state"] = sampler.state_dict()
        samples, infos = sampler.obtain_samples(N_ITR + 1)
        out["after_state"] = ([t.clone() for t in leaves_to_tensors(samples)], _infos(infos))
    finally:
        sampler.shutdown()
    return out


@functools.cache
def _reference(CollectorCls, env, max_decorrelation_steps, agent):
    return _run(SerialSampler, CollectorCls, env, max_decorrelation_steps, agent)


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="fork")
@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("max_decorrelation_steps", [0, 7])
@pytest.mark.parametrize("env", sorted(ENVS))
@pytest.mark.parametrize(
    "CollectorCls", [CpuResetCollector, CpuWaitResetCollector], ids=["reset", "waitreset"]
)
@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
class TestSamplerContract:
    def test_identical_samples_and_traj_infos(
        self, sampler, CollectorCls, env, max_decorrelation_steps, agent
    ):
        expected = _reference(CollectorCls, env, max_decorrelation_steps, agent)
        got = _run(SAMPLERS[sampler], CollectorCls, env, max_decorrelation_steps, agent)
        n_completed = 0
        for itr in range(N_ITR):
            for x, y in zip(expected["batches"][itr], got["batches"][itr], strict=True):
                assert x.dtype == y.dtype and x.shape == y.shape
                assert_array_equal(x.numpy(), y.numpy(), err_msg=f"batch {itr}")
            assert got["infos"][itr] == expected["infos"][itr]
            n_completed += len(got["infos"][itr])
        assert n_completed > 0
        assert got["eval"] == expected["eval"] and len(got["eval"]) > 0
        # The batch after the evaluation: sampling (recurrent state included) goes on as if
        # there had been no evaluation.
        for x, y in zip(expected["after_state"][0], got["after_state"][0], strict=True):
            assert_array_equal(x.numpy(), y.numpy(), err_msg="batch after evaluation")
        assert got["after_state"][1] == expected["after_state"][1]


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="fork")
@pytest.mark.parametrize("max_decorrelation_steps", [0, 7])
@pytest.mark.parametrize("env", sorted(ENVS))
@pytest.mark.parametrize(
    "CollectorCls", [CpuResetCollector, CpuWaitResetCollector], ids=["reset", "waitreset"]
)
@pytest.mark.parametrize("sampler", sorted(set(SAMPLERS) - {"serial"}))
def test_snapshot_resumes_serial_sampler(sampler, CollectorCls, env, max_decorrelation_steps):
    # Feed-forward agent only: a recurrent state belongs to the agent's snapshot.
    agent = "ff"
    got = _run(SAMPLERS[sampler], CollectorCls, env, max_decorrelation_steps, agent)
    EnvCls, env_kwargs, scale = ENVS[env]
    resumed = SerialSampler(
        EnvCls=EnvCls,
        env_kwargs=env_kwargs,
        batch_T=5,
        batch_B=5,
        CollectorCls=CollectorCls,
        max_decorrelation_steps=max_decorrelation_steps,
    )
    resumed.initialize(
        AGENTS[agent](scale), seed=0, bootstrap_value=True, traj_info_kwargs=dict(discount=0.9)
    )
    resumed.load_state_dict(got["state"])
    samples, infos = resumed.obtain_samples(N_ITR + 1)
    for x, y in zip(got["after_state"][0], leaves_to_tensors(samples), strict=True):
        assert_array_equal(x.numpy(), y.numpy())
    assert _infos(infos) == got["after_state"][1]


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="fork")
@pytest.mark.parametrize("env", ["counting", "cartpole"])
@pytest.mark.parametrize(
    "CollectorCls", [CpuResetCollector, CpuWaitResetCollector], ids=["reset", "waitreset"]
)
@pytest.mark.parametrize("sampler", ["alternating", "alternating_no_overlap"])
def test_alternating_snapshot_with_recurrent_agent_resumes(sampler, CollectorCls, env):
    # The snapshot carries both halves' recurrent states (the agent's runtime state).
    got = _run(SAMPLERS[sampler], CollectorCls, env, 7, "rnn")
    EnvCls, env_kwargs, scale = ENVS[env]
    resumed = SAMPLERS[sampler](
        EnvCls=EnvCls,
        env_kwargs=env_kwargs,
        batch_T=5,
        batch_B=5,
        CollectorCls=CollectorCls,
        max_decorrelation_steps=7,
    )
    resumed.initialize(
        ALTERNATING_AGENTS["rnn"](scale),
        seed=0,
        bootstrap_value=True,
        traj_info_kwargs=dict(discount=0.9),
    )
    try:
        resumed.load_state_dict(got["state"])
        samples, infos = resumed.obtain_samples(N_ITR + 1)
        for x, y in zip(got["after_state"][0], leaves_to_tensors(samples), strict=True):
            assert_array_equal(x.numpy(), y.numpy())
        assert _infos(infos) == got["after_state"][1]
    finally:
        resumed.shutdown()
