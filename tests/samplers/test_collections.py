"""Tests for Samples types, BatchSpec and TrajInfo."""

import pickle

import numpy as np
import pytest

from rlpyt.samplers.collections import (
    AgentSamples,
    AgentSamplesBsv,
    BatchSpec,
    EnvSamples,
    Samples,
    TrajInfo,
)


def test_batch_spec():
    spec = BatchSpec(T=5, B=3)
    assert spec.size == 15 and tuple(spec) == (5, 3)
    assert pickle.loads(pickle.dumps(spec)).size == 15


def test_sample_fields():
    assert AgentSamples._fields == ("action", "prev_action", "agent_info")
    assert AgentSamplesBsv._fields == ("action", "prev_action", "agent_info", "bootstrap_value")
    assert EnvSamples._fields == ("observation", "reward", "prev_reward", "done", "env_info")
    assert Samples._fields == ("agent", "env")
    agent = AgentSamples(np.arange(6).reshape(3, 2), np.zeros((3, 2)), None)
    samples = Samples(agent, EnvSamples(np.ones((3, 2, 4)), None, None, None, None))
    row = samples[1]
    np.testing.assert_array_equal(row.agent.action, [2, 3])
    assert row.env.observation.shape == (2, 4) and row.agent.agent_info is None


def test_traj_info_accumulates():
    info = TrajInfo(discount=0.9)
    for r in (1.0, 0.0, np.float32(-2.0)):
        info.step(None, 0, r, False, None, None)
    assert info.Length == 3 and info.Return == -1.0 and info.NonzeroRewards == 2
    assert info.DiscountedReturn == pytest.approx(1.0 + 0.81 * -2.0)
    assert info.terminate(None) is info
    assert type(info.Return) is float and type(info.NonzeroRewards) is int


def test_traj_info_copy_pickle_and_public_keys():
    info = TrajInfo(discount=0.5, Extra=7)
    info.step(None, 0, 2.0, False, None, None)
    copied = info.copy()
    assert type(copied) is TrajInfo and copied == info and copied is not info
    copied.step(None, 0, 2.0, False, None, None)
    assert info.Length == 1 and copied.Length == 2 and copied.DiscountedReturn == 3.0
    loaded = pickle.loads(pickle.dumps(info))
    assert type(loaded) is TrajInfo and loaded == info
    public = sorted(k for k in info if not k.startswith("_"))
    assert public == ["DiscountedReturn", "Extra", "Length", "NonzeroRewards", "Return"]


def test_atari_traj_info_subclasses_traj_info():
    atari_env = pytest.importorskip("rlpyt.envs.atari.atari_env")
    info = atari_env.AtariTrajInfo(discount=0.5)
    assert isinstance(info, TrajInfo)
    info.step(None, 0, 1.0, False, None, atari_env.EnvInfo(np.float32(5), False, False))
    assert info.GameScore == 5.0 and info.Return == 1.0 and info.Length == 1
