"""SerialSampler: construction errors, sampling, evaluation, and exact save/resume."""

import io
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from rlpyt.envs.gym import gym_make
from rlpyt.samplers.buffer import leaves_to_tensors
from rlpyt.samplers.collections import TrajInfo
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.serial.collectors import SerialEvalCollector
from rlpyt.samplers.serial.sampler import SerialSampler
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeAgent


class UnpicklableCountingEnv(CountingEnv):
    def __reduce__(self):
        raise TypeError("this env holds an emulator handle")


def make_sampler(**kwargs):
    settings = dict(
        EnvCls=CountingEnv,
        env_kwargs=dict(done_every=3),
        batch_T=4,
        batch_B=2,
        max_decorrelation_steps=0,
    )
    settings.update(kwargs)
    return SerialSampler(**settings)


@pytest.mark.parametrize(
    "name, value", [("batch_T", 0), ("batch_B", -1), ("batch_B", 1.5), ("batch_T", None)]
)
def test_bad_batch_sizes(name, value):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1, got {value}"):
        make_sampler(**{name: value})


def test_eval_needs_max_steps():
    with pytest.raises(ValueError, match="eval_max_steps"):
        make_sampler(eval_n_envs=2)


def test_use_before_initialize():
    sampler = make_sampler()
    with pytest.raises(RuntimeError, match=r"obtain_samples\(\) called before initialize"):
        sampler.obtain_samples(0)
    with pytest.raises(RuntimeError, match="before initialize"):
        sampler.state_dict()


def test_defaults_and_batch_spec():
    sampler = make_sampler(eval_n_envs=2, eval_max_steps=9)
    assert sampler.CollectorCls is CpuResetCollector and sampler.mid_batch_reset is True
    assert sampler.eval_CollectorCls is SerialEvalCollector and sampler.eval_max_T == 5
    assert sampler.batch_spec == (4, 2) and sampler.batch_size == 8
    assert sampler.max_decorrelation_steps == 0 and sampler.TrajInfoCls is TrajInfo
    assert make_sampler(CollectorCls=CpuWaitResetCollector).mid_batch_reset is False


def test_obtain_samples():
    sampler = make_sampler(eval_n_envs=2, eval_max_steps=9)
    agent = FakeAgent()
    examples = sampler.initialize(
        agent, seed=0, bootstrap_value=True, traj_info_kwargs=dict(discount=0.5)
    )
    assert agent.init_args == dict(share_memory=False, global_B=2, env_ranks=[0, 1])
    assert agent.collector_init == (2, [0, 1])
    assert set(examples) == {"observation", "reward", "done", "env_info", "action", "agent_info"}
    samples, infos = sampler.obtain_samples(0)
    assert isinstance(samples.env.observation, torch.Tensor)
    assert_array_equal(samples.env.observation[:, :, 0].T, [[0, 1, 2, 0]] * 2)
    assert_array_equal(samples.agent.prev_action[1:], samples.agent.action[:-1])
    assert_array_equal(samples.agent.bootstrap_value, [[1.5, 1.5]])
    assert [(i.Length, i.Return, i.DiscountedReturn) for i in infos] == [(3, 6.0, 2.75)] * 2
    samples2, infos = sampler.obtain_samples(1)
    assert samples2 is samples and [i.Length for i in infos] == [3, 3]
    assert_array_equal(samples.env.observation[:, :, 0].T, [[1, 2, 0, 1]] * 2)
    eval_infos = sampler.evaluate_agent(2)
    assert [i.Length for i in eval_infos] == [3, 3] and agent.modes[-1] == ("eval", 2)
    assert eval_infos[0]._discount == 0.5
    sampler.obtain_samples(3)
    assert agent.modes[-1] == ("sample", 3)
    sampler.shutdown()


def test_evaluate_without_eval_envs():
    sampler = make_sampler()
    sampler.initialize(FakeAgent(), seed=0)
    with pytest.raises(RuntimeError, match="eval_n_envs > 0"):
        sampler.evaluate_agent(0)


def test_seeds_and_decorrelation_follow_seed():
    def first_obs(seed):
        sampler = make_sampler(env_kwargs={}, batch_B=6, max_decorrelation_steps=20)
        sampler.initialize(FakeAgent(), seed=seed)
        return sampler.agent_inputs.observation[:, 0].copy(), sampler.envs

    a, envs = first_obs(3)
    b, _ = first_obs(3)
    c, _ = first_obs(4)
    assert_array_equal(a, b) and not np.array_equal(a, c)
    assert a.max() <= 20 and len(set(a.tolist())) > 1
    assert [env._seed for env in envs] == [3, 4, 5, 6, 7, 8]


def _roundtrip(state):
    f = io.BytesIO()
    torch.save(state, f)
    f.seek(0)
    return torch.load(f, weights_only=True)


def _assert_same_leaves(xs, ys):
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert_array_equal(x.numpy(), y.numpy())  # bit for bit


def _infos(infos):
    return [dict(i) for i in infos]


@pytest.mark.parametrize("CollectorCls", [CpuResetCollector, CpuWaitResetCollector])
@pytest.mark.parametrize(
    "EnvCls, env_kwargs, scale",
    [
        (CountingEnv, dict(done_every=5), 1.0),
        (gym_make, dict(id="CartPole-v1", max_episode_steps=12), 100.0),
    ],
)
def test_resume_is_exact(CollectorCls, EnvCls, env_kwargs, scale):
    def make(seed):
        sampler = make_sampler(
            EnvCls=EnvCls,
            env_kwargs=env_kwargs,
            batch_T=6,
            batch_B=3,
            CollectorCls=CollectorCls,
            max_decorrelation_steps=7,
        )
        sampler.initialize(FakeAgent(scale), seed=seed, bootstrap_value=True)
        return sampler

    original = make(seed=1)
    original.obtain_samples(0)
    state = _roundtrip(original.state_dict())
    assert state["envs"] is not None and state["envs_unpicklable"] is None
    resumed = make(seed=99)
    resumed.load_state_dict(state)
    n_done = 0
    for itr in (1, 2, 3):
        samples, infos = original.obtain_samples(itr)
        n_done += len(infos)
        expected = (leaves_to_tensors(samples), _infos(infos))
        samples, infos = resumed.obtain_samples(itr)
        _assert_same_leaves(expected[0], leaves_to_tensors(samples))
        assert _infos(infos) == expected[1]
    assert _infos(resumed.traj_infos) == _infos(original.traj_infos)
    assert n_done > 0  # trajectories ended (and envs were reset) after the resume


def test_resume_without_picklable_envs_warns_and_redecorrelates():
    def make():
        sampler = make_sampler(
            EnvCls=UnpicklableCountingEnv, env_kwargs={}, batch_B=4, max_decorrelation_steps=9
        )
        sampler.initialize(FakeAgent(), seed=5)
        return sampler

    original = make()
    original.obtain_samples(0)
    state = original.state_dict()
    assert state["envs"] is None and "emulator handle" in state["envs_unpicklable"]
    with pytest.raises(TypeError):
        pickle.dumps(original.envs)
    observations = []
    for _ in range(2):
        resumed = make()
        with pytest.warns(UserWarning, match="envs were not saved.*emulator handle"):
            resumed.load_state_dict(state)
        samples, _ = resumed.obtain_samples(1)
        observations.append(samples.env.observation[..., 0].clone())
    assert_array_equal(observations[0], observations[1])  # from the snapshot's RNG state
    assert (observations[0][0] <= 9).all() and observations[0][0].unique().numel() > 1


def test_categorical_pg_agent_on_cartpole():
    categorical = pytest.importorskip("rlpyt.agents.pg.categorical")
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=8,
        batch_B=2,
        max_decorrelation_steps=5,
        eval_n_envs=1,
        eval_max_steps=20,
    )
    agent = categorical.CategoricalPgAgent()
    examples = sampler.initialize(agent, seed=0, bootstrap_value=True)
    samples, _ = sampler.obtain_samples(0)
    assert samples.env.observation.shape == (8, 2, 4)
    assert samples.agent.action.shape == (8, 2) and samples.agent.action.dtype == torch.int64
    assert set(samples.agent.action.unique().tolist()) <= {0, 1}
    assert_array_equal(samples.agent.prev_action[1:], samples.agent.action[:-1])
    np.testing.assert_allclose(samples.agent.agent_info.dist_info.prob.sum(-1), 1.0, rtol=1e-6)
    assert samples.agent.agent_info.value.shape == (8, 2)
    assert samples.agent.bootstrap_value.shape == (1, 2)
    assert samples.agent.bootstrap_value.abs().sum() > 0
    assert examples["agent_info"].value.shape == ()
    assert all(i.Length <= 20 for i in sampler.evaluate_agent(1))
    sampler.shutdown()


def test_recurrent_agent_state_across_batches_and_eval():
    categorical = pytest.importorskip("rlpyt.agents.pg.categorical")
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1", max_episode_steps=6),
        batch_T=4,
        batch_B=2,
        max_decorrelation_steps=0,
        CollectorCls=CpuWaitResetCollector,
        eval_n_envs=1,
        eval_max_steps=10,
    )
    agent = categorical.RecurrentCategoricalPgAgent()
    sampler.initialize(agent, seed=0, bootstrap_value=True)
    samples, _ = sampler.obtain_samples(0)  # no env reaches step 6: nothing frozen
    h = samples.agent.agent_info.prev_rnn_state.h
    assert h.shape[:2] == (4, 2) and (h[0] == 0).all() and (h[1] != 0).any()
    carried = agent.prev_rnn_state.h.clone()  # batch-major [B, N, H]
    assert [i.Length for i in sampler.evaluate_agent(1)] == [6]
    samples, _ = sampler.obtain_samples(2)  # eval did not disturb the sampler's state
    assert_array_equal(h[0], carried)
    assert_array_equal(samples.env.done.T, [[0, 1, 1, 1]] * 2)  # timeout at step 6, frozen
    assert (h[2:] == 0).all()  # blank rows of frozen envs
    sampler.obtain_samples(3)
    assert (h[0] == 0).all()  # state reset between batches after the done
    sampler.shutdown()


class ValueTrajInfo(TrajInfo):
    """Reads agent_info: collectors must hand it the env's slice, not the base's None."""

    def step(self, observation, action, reward, done, agent_info, env_info):
        super().step(observation, action, reward, done, agent_info, env_info)
        self["ValueSum"] = self.get("ValueSum", 0.0) + float(agent_info.value)


@pytest.mark.parametrize("CollectorCls", [CpuResetCollector, CpuWaitResetCollector])
def test_traj_infos_that_read_agent_info_get_it(CollectorCls):
    from rlpyt.samplers.collectors import traj_info_reads_agent_info

    assert not traj_info_reads_agent_info(TrajInfo)
    assert traj_info_reads_agent_info(ValueTrajInfo)
    sampler = make_sampler(TrajInfoCls=ValueTrajInfo, CollectorCls=CollectorCls)
    sampler.initialize(FakeAgent(), seed=0)
    samples, completed = sampler.obtain_samples(0)
    assert completed
    for info in completed:
        assert info["ValueSum"] != 0.0 or info["Length"] == 0
