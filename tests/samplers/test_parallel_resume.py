"""Exact resume of parallel samplers with recurrent agents: sampler snapshots and the runner.

``CpuSampler`` workers each keep the recurrent state of their envs in their own agent copy and
draw actions from their own RNGs; the sampler's snapshot must carry both, so that a fresh
sampler loaded from it continues with exactly the samples the original would have produced.
GPU samplers keep the state in the master's agent. The agent here is a real (stochastic)
``RecurrentCategoricalPgAgent`` with a tiny LSTM, on CartPole cut to 25 steps so that
episodes end (and recurrent states are reset) inside batches.
"""

import csv
import io
import os
import sys

import pytest
import torch
from numpy.testing import assert_array_equal

from rlpyt.agents.pg.categorical import RecurrentCategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.buffer import leaves_to_tensors
from rlpyt.samplers.parallel.base import join_env_major, split_env_major
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.collectors import GpuResetCollector, GpuWaitResetCollector
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context
from rlpyt.utils.seed import get_rng_states, set_rng_states
from tests.samplers.proc_utils import our_children

pytestmark = [pytest.mark.timeout(120), pytest.mark.skipif(sys.platform == "win32", reason="")]

ENV_KWARGS = dict(id="CartPole-v1", max_episode_steps=25)
T, B = 8, 5
GPU_COLLECTORS = {
    CpuResetCollector: GpuResetCollector,
    CpuWaitResetCollector: GpuWaitResetCollector,
}


def _cpu(CollectorCls, **kwargs):
    return CpuSampler(CollectorCls=CollectorCls, start_method="fork", **kwargs)


def _gpu(CollectorCls, **kwargs):
    return GpuSampler(CollectorCls=GPU_COLLECTORS[CollectorCls], start_method="fork", **kwargs)


def _serial(CollectorCls, **kwargs):
    return SerialSampler(CollectorCls=CollectorCls, **kwargs)


SAMPLERS = {"cpu": _cpu, "gpu": _gpu, "serial": _serial}


@pytest.fixture(autouse=True)
def seeded():
    """Model initialisation and the master's draws (GPU sampler) independent of test order."""
    torch.manual_seed(0)


def make_agent():
    return RecurrentCategoricalPgAgent(model_kwargs=dict(hidden_sizes=[8], lstm_size=4))


def make_sampler(kind, CollectorCls, n_workers, seed, agent=None):
    """An initialized sampler (with a new agent, unless given one)."""
    sampler = SAMPLERS[kind](
        CollectorCls,
        EnvCls=gym_make,
        env_kwargs=ENV_KWARGS,
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=6,
        eval_n_envs=2,
        eval_max_steps=40,
    )
    agent = make_agent() if agent is None else agent
    affinity = None if kind == "serial" else dict(workers_cpus=[0] * n_workers)
    sampler.initialize(agent, affinity=affinity, seed=seed, bootstrap_value=True)
    return sampler


def roundtrip(obj):
    """``obj`` after ``torch.save`` / ``torch.load(weights_only=True)``, as in snapshots."""
    f = io.BytesIO()
    torch.save(obj, f)
    f.seek(0)
    return torch.load(f, weights_only=True)


def batch(sampler, itr):
    """One batch: its leaves, its completed trajectory infos, and where it started (the
    observations and recorded recurrent states at ``t = 0``)."""
    sampler.agent.sample_mode(itr)
    samples, infos = sampler.obtain_samples(itr)
    start = dict(
        observation=samples.env.observation[0].clone(),
        rnn=[v[0].clone() for v in samples.agent.agent_info.prev_rnn_state],
    )
    leaves = [t.clone() for t in leaves_to_tensors(samples)]
    return leaves, sorted(sorted(dict(i).items()) for i in infos), start


def assert_same_batches(expected, got):
    for (xs, x_infos, _), (ys, y_infos, _) in zip(expected, got, strict=True):
        for x, y in zip(xs, ys, strict=True):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert_array_equal(x.numpy(), y.numpy())
        assert x_infos == y_infos


def assert_same_start(expected, got):
    for x, y in zip([expected["observation"], *expected["rnn"]], [got["observation"], *got["rnn"]]):
        assert_array_equal(x.numpy(), y.numpy())


def snapshot_and_continue(kind, CollectorCls, n_workers=2):
    """Sample 2 batches, evaluate, snapshot as the runner does, sample 2 more.

    Returns ``(snapshot, continuation batches)``; the snapshot holds the sampler state, the
    agent's parameters, the master's RNG states and the agent runtime state the runner would
    save (the sampler's ``agent_runtime_state`` where it has one, else the agent's own).
    """
    sampler = make_sampler(kind, CollectorCls, n_workers, seed=5)
    agent = sampler.agent
    try:
        for itr in range(2):
            batch(sampler, itr)
        agent.eval_mode(2)
        assert sampler.evaluate_agent(2)
        state = sampler.state_dict()
        runtime = state.get("agent_runtime_state", agent.runtime_state_dict())
        snapshot = roundtrip(
            dict(
                sampler=state,
                agent_runtime=runtime,
                params=agent.state_dict(),
                rng=get_rng_states(),
            )
        )
        continuation = [batch(sampler, itr) for itr in (2, 3)]
    finally:
        sampler.shutdown()
    return snapshot, continuation


def resume(kind, CollectorCls, snapshot, n_workers=2, itrs=(2, 3)):
    """A fresh sampler (another seed, another initial model) restored from ``snapshot`` in
    the runner's order; its next batches."""
    sampler = make_sampler(kind, CollectorCls, n_workers, seed=99)
    agent = sampler.agent
    try:
        agent.load_state_dict(snapshot["params"])
        if snapshot["agent_runtime"] is not None:
            agent.load_runtime_state_dict(snapshot["agent_runtime"])
        sampler.load_state_dict(snapshot["sampler"])
        set_rng_states(snapshot["rng"])
        return [batch(sampler, itr) for itr in itrs]
    finally:
        sampler.shutdown()


# -- joining and splitting runtime states -----------------------------------------------------


def test_join_and_split_env_major_roundtrip():
    h = torch.arange(5 * 2 * 3, dtype=torch.float32).reshape(5, 2, 3)
    state = {"rnn_state": {"fields": ["h", "c"], "values": [h, -h]}}
    parts = split_env_major(state, [3, 2])
    assert [p["rnn_state"]["fields"] for p in parts] == [["h", "c"]] * 2
    assert_array_equal(parts[1]["rnn_state"]["values"][1].numpy(), -h[3:].numpy())
    joined = join_env_major(parts, [3, 2])
    for x, y in zip(joined["rnn_state"]["values"], state["rnn_state"]["values"]):
        assert_array_equal(x.numpy(), y.numpy())
    assert split_env_major({"rnn_state": None}, [2, 2]) == [{"rnn_state": None}] * 2
    assert join_env_major([{"rnn_state": None}] * 2, [2, 2]) == {"rnn_state": None}


def test_join_fills_a_missing_part_with_zeros_and_split_checks_sizes():
    joined = join_env_major([{"s": None}, {"s": torch.ones(2, 3)}], [1, 2])
    assert_array_equal(joined["s"].numpy(), [[0, 0, 0], [1, 1, 1], [1, 1, 1]])
    with pytest.raises(ValueError, match="expected 4 envs"):
        split_env_major({"s": torch.ones(3, 2)}, [2, 2])
    with pytest.raises(ValueError, match="differing"):
        join_env_major([{"n": 0}, {"n": 1}], [1, 1])


# -- sampler snapshots --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "CollectorCls", [CpuResetCollector, CpuWaitResetCollector], ids=["reset", "waitreset"]
)
@pytest.mark.parametrize("kind", ["cpu", "gpu"])
def test_recurrent_snapshot_resumes_exactly(kind, CollectorCls):
    snapshot, expected = snapshot_and_continue(kind, CollectorCls)
    state = snapshot["sampler"]
    runtime = state["agent_runtime_state"]["rnn_state"]
    assert [v.shape[0] for v in runtime["values"]] == [B, B]  # every env's (h, c)
    assert runtime["values"][0].abs().sum() > 0  # a state, not the zero start
    assert len(state["worker_rng_states"]) == 2
    assert_same_batches(expected, resume(kind, CollectorCls, snapshot))
    assert not our_children()


def test_cpu_resume_without_the_recurrent_state_differs():
    # The control for the test above: the same snapshot without the recurrent states (the
    # workers then start from zeros) must not reproduce the continuation.
    snapshot, expected = snapshot_and_continue("cpu", CpuWaitResetCollector)
    del snapshot["sampler"]["agent_runtime_state"]
    snapshot["agent_runtime"] = None
    got = resume("cpu", CpuWaitResetCollector, snapshot, itrs=(2,))
    assert any(not torch.equal(x, y) for x, y in zip(expected[0][0], got[0][0], strict=True))
    assert all(r.abs().sum() == 0 for r in got[0][2]["rnn"])


def test_cpu_resume_with_other_worker_rng_states_differs():
    # The workers' RNG states matter too: without them (another seed's streams), a
    # stochastic agent draws other actions.
    snapshot, expected = snapshot_and_continue("cpu", CpuResetCollector)
    del snapshot["sampler"]["worker_rng_states"]
    got = resume("cpu", CpuResetCollector, snapshot, itrs=(2,))
    assert_same_start(expected[0][2], got[0][2])
    assert any(not torch.equal(x, y) for x, y in zip(expected[0][0], got[0][0], strict=True))


@pytest.mark.parametrize(
    "first, second, n_workers",
    [("cpu", "cpu", 3), ("cpu", "serial", 0), ("serial", "cpu", 2), ("cpu", "gpu", 3)],
    ids=["cpu2-cpu3", "cpu-serial", "serial-cpu", "cpu-gpu3"],
)
def test_recurrent_state_moves_across_samplers_and_worker_counts(first, second, n_workers):
    # Another sampler or worker count draws other random numbers, so only what the snapshot
    # fixes is compared: the observations and recurrent states the next batch starts from.
    snapshot, expected = snapshot_and_continue(first, CpuWaitResetCollector)
    got = resume(second, CpuWaitResetCollector, snapshot, n_workers=n_workers, itrs=(2,))
    assert expected[0][2]["rnn"][0].abs().sum() > 0
    assert_same_start(expected[0][2], got[0][2])


# -- the runner ---------------------------------------------------------------------------------


@pytest.fixture
def quiet_logger():
    with logger.preserved_state():
        logger.set_log_tabular_only(False)
        logger.disable()
        yield


def make_runner(kind, n_itr=5):
    sampler = SAMPLERS[kind](
        CpuWaitResetCollector,
        EnvCls=gym_make,
        env_kwargs=ENV_KWARGS,
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=6,
    )
    algo = PPO(epochs=2, minibatches=1, learning_rate=1e-3)
    return MinibatchRl(
        algo=algo,
        agent=make_agent(),
        sampler=sampler,
        n_steps=n_itr * T * B,
        seed=7,
        affinity=dict(workers_cpus=[0, 0], master_torch_threads=1),
        log_interval_steps=T * B,
        progress_bar=False,
    )


def read_rows(run_dir):
    with open(os.path.join(run_dir, "progress.csv")) as f:
        return list(csv.DictReader(f))


@pytest.mark.usefixtures("quiet_logger")
@pytest.mark.parametrize("kind", ["cpu", "gpu"])
def test_runner_resumes_recurrent_ppo_exactly(tmp_path, kind):
    straight = make_runner(kind)
    with logger_context(str(tmp_path / "a"), 0, "test", snapshot_mode="all") as run_a:
        straight.train()
    with logger_context(str(tmp_path / "b"), 0, "test", snapshot_mode="all") as run_b:
        make_runner(kind).train()  # the same n_itr: PPO's learning rate decays over it
        snapshot = logger.load_snapshot(os.path.join(run_b, "itr_1.pkl"))
        # The state the runner resumes the agent with is that of the agents that act.
        sampler_runtime = snapshot["sampler_state"]["agent_runtime_state"]["rnn_state"]
        top_runtime = snapshot["agent_runtime_state"]["rnn_state"]
        for x, y in zip(sampler_runtime["values"], top_runtime["values"], strict=True):
            assert x.shape[0] == B and x.abs().sum() > 0
            assert_array_equal(x.numpy(), y.numpy())
        resumed = make_runner(kind)
        resumed.train(resume_from=os.path.join(run_b, "itr_1.pkl"))
    expected, got = straight.agent.state_dict(), resumed.agent.state_dict()
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=0, atol=0)
    rows_a, rows_b = read_rows(run_a), read_rows(run_b)[5:]  # the resumed session's rows
    assert [r["Diagnostics/Iteration"] for r in rows_b] == ["2", "3", "4"]
    for ra, rb in zip(rows_a[2:], rows_b, strict=True):
        for key in ("ReturnAverage", "LengthAverage", "lossAverage", "Diagnostics/CumSteps",
                    "Diagnostics/CumCompletedTrajs"):  # fmt: skip
            assert ra[key] == rb[key], key
    assert not our_children()
