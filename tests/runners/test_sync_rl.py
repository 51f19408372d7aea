"""SyncRl / SyncRlEval: two CPU replicas over Gloo train with identical parameters, aggregate
trajectories from both, resume from rank 0's snapshot, fail fast and clean, and run an
rlpyt-style script unchanged, locally and under torchrun."""

import csv
import multiprocessing as mp
import os
import sys
import time

import psutil
import pytest
import torch
import torch.distributed as dist

from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.agents.pg.mujoco import MujocoFfAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.algos.pg.a2c import A2C
from rlpyt.envs.gym import gym_make
from rlpyt.runners import sync_replicas
from rlpyt.runners.sync_rl import (
    ReplicaError,
    SyncRl,
    _interleave,
    launched_affinity,
    replica_affinities,
    torchrun_env,
)
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.utils.launching.affinity import make_affinity
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context
from tests import subprocesses
from tests.runners._sync.common import (
    PRELOAD,
    B,
    RecordingSyncRl,
    RecordingSyncRlEval,
    T,
    cartpole_sampler,
    pendulum_sampler,
)

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process checks"),
]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "tests", "runners", "_sync", "sync_script.py")
TORCHRUN = os.path.join(os.path.dirname(sys.executable), "torchrun")
ITR_STEPS = 2 * T * B  # both replicas' env steps per iteration


@pytest.fixture(autouse=True)
def quiet_logger():
    with logger.preserved_state():
        logger.set_log_tabular_only(False)
        logger.disable()
        yield


@pytest.fixture(autouse=True)
def child_exit_report_within_test_timeout(monkeypatch):
    # A child that does not exit after training turns into a ReplicaError carrying its stacks
    # before this module's 90 s test timeout would end the test without them.
    monkeypatch.setattr(sync_replicas, "_STACK_DUMP_AFTER_S", 20.0)
    monkeypatch.setattr(sync_replicas, "_FINISH_TIMEOUT_S", 45.0)


@pytest.fixture(scope="module", autouse=True)
def forkserver_preload():
    # Child replicas fork from a server that imported torch and rlpyt once: each then starts
    # in milliseconds instead of seconds (the default start method, spawn, is tested by the
    # script tests below).
    mp.get_context("forkserver").set_forkserver_preload(PRELOAD)


def make_runner(algo, agent, sampler, n_itr, record_dir, cls=RecordingSyncRl, **kwargs):
    runner = cls(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_itr * ITR_STEPS,
        seed=5,
        affinity=[dict(master_torch_threads=1), dict(master_torch_threads=1)],
        log_interval_steps=2 * ITR_STEPS,
        progress_bar=False,
        dist_timeout=60,
        **kwargs,
    )
    runner.start_method = "forkserver"
    runner.record_dir = str(record_dir)
    return runner


def a2c_runner(n_itr, record_dir, **kwargs):
    return make_runner(
        A2C(learning_rate=1e-2),
        CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[16])),
        cartpole_sampler(),
        n_itr,
        record_dir,
        **kwargs,
    )


def records(record_dir):
    return [torch.load(os.path.join(record_dir, f"rank{r}.pt")) for r in range(2)]


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def assert_replicas_trained_alike(record_dir):
    rank0, rank1 = records(record_dir)
    assert rank0["pid"] != rank1["pid"]
    assert rank0["obs_sum"] != rank1["obs_sum"], "the replicas sampled the same data"
    torch.testing.assert_close(rank1["final"], rank0["final"], rtol=0, atol=0)
    assert not torch.equal(rank0["final"], rank0["init"]), "training did not change parameters"
    return rank0, rank1


def assert_gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break  # not yet reaped by its parent (the forkserver); it holds nothing
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    if psutil.pid_exists(pid):
        assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, f"replica {pid} still runs"


# -- training ---------------------------------------------------------------------------------


def test_a2c_replicas_identical_logs_both_and_resume(tmp_path):
    run_dir = tmp_path / "run"
    rec1, rec2 = tmp_path / "rec1", tmp_path / "rec2"
    rec1.mkdir()
    rec2.mkdir()
    runner = a2c_runner(4, rec1)
    with logger_context(str(run_dir), 0, "sync", snapshot_mode="last", override_prefix=True) as d:
        runner.train()
    rank0, rank1 = assert_replicas_trained_alike(rec1)
    # After training the process group is gone: the agent is left unwrapped, usable alone.
    assert not isinstance(runner.agent.model, torch.nn.parallel.DistributedDataParallel)
    assert not dist.is_initialized()
    rows = read_csv(os.path.join(d, "progress.csv"))
    assert [int(r["Diagnostics/Iteration"]) for r in rows] == [1, 3]
    assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [2 * ITR_STEPS, 4 * ITR_STEPS]
    # Trajectory statistics come from both replicas.
    assert int(rows[-1]["Diagnostics/CumCompletedTrajs"]) == rank0["trajs"] + rank1["trajs"]
    assert rank1["trajs"] > 0
    assert int(rows[-1]["Diagnostics/CumUpdates"]) == 4

    # Resume from rank 0's snapshot: every replica continues from the same parameters and
    # optimiser state (else they would drift apart), the log continues.
    with logger_context(str(run_dir), 0, "sync", snapshot_mode="last", override_prefix=True):
        a2c_runner(6, rec2).train(resume_from=d)
    new0, new1 = assert_replicas_trained_alike(rec2)
    torch.testing.assert_close(new0["resumed"], rank0["final"], rtol=0, atol=0)
    torch.testing.assert_close(new1["resumed"], rank0["final"], rtol=0, atol=0)
    rows = read_csv(os.path.join(d, "progress.csv"))
    assert [int(r["Diagnostics/Iteration"]) for r in rows] == [1, 3, 5]
    assert int(rows[-1]["Diagnostics/CumUpdates"]) == 6


def test_dqn_replicas_identical(tmp_path):
    algo = DQN(
        batch_size=16, min_steps_learn=2 * T * B, replay_size=512, replay_ratio=16,
        target_update_interval=4, learning_rate=1e-3, eps_steps=1000,
    )  # fmt: skip
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=[16]))
    make_runner(algo, agent, cartpole_sampler(), 5, tmp_path).train()
    assert_replicas_trained_alike(tmp_path)


def test_sac_replicas_identical_policy_and_critics_wrapped(tmp_path):
    SAC = pytest.importorskip("rlpyt.algos.qpg.sac").SAC
    SacAgent = pytest.importorskip("rlpyt.agents.qpg.sac_agent").SacAgent

    algo = SAC(batch_size=16, min_steps_learn=2 * T * B, replay_size=512, replay_ratio=16)
    agent = SacAgent(model_kwargs=dict(hidden_sizes=[16]), q_model_kwargs=dict(hidden_sizes=[16]))
    make_runner(algo, agent, pendulum_sampler(), 5, tmp_path).train()
    rank0, _ = assert_replicas_trained_alike(tmp_path)  # policy, both critics and targets


def test_sync_rl_eval_only_rank0_evaluates_with_model_buffers(tmp_path):
    # The model normalises observations with running statistics (DDP buffers, which a DDP
    # forward pass broadcasts from rank 0): evaluating on rank 0 alone must not hang.
    sampler = pendulum_sampler(eval_n_envs=1, eval_max_steps=250)
    agent = MujocoFfAgent(model_kwargs=dict(hidden_sizes=[16]))
    runner = make_runner(A2C(), agent, sampler, 2, tmp_path, cls=RecordingSyncRlEval)
    with logger_context(str(tmp_path / "run"), 0, "eval", override_prefix=True) as d:
        runner.train()
    rows = read_csv(os.path.join(d, "progress.csv"))
    assert len(rows) == 2  # before training and after the only log interval
    assert [int(r["Diagnostics/StepsInEval"]) for r in rows] == [200, 200]
    rank0, rank1 = records(tmp_path)
    torch.testing.assert_close(rank1["params"], rank0["params"], rtol=0, atol=0)
    assert rank0["eval_trajs"] == 2 and rank1.get("eval_trajs", 0) == 0


def test_joins_a_process_group_the_caller_opened(tmp_path):
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        runner = a2c_runner(2, tmp_path)
        with logger_context(str(tmp_path / "run"), 0, "group", override_prefix=True) as d:
            runner.train()
        assert dist.is_initialized(), "the caller's group was closed"
        assert runner.world_size == 1 and runner._replicas is not None
    finally:
        dist.destroy_process_group()
    rows = read_csv(os.path.join(d, "progress.csv"))
    assert int(rows[-1]["Diagnostics/CumSteps"]) == 2 * ITR_STEPS  # n_steps, one replica


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["kill", "raise"])
def test_failing_child_replica_makes_rank0_raise_fast(tmp_path, how):
    runner = a2c_runner(200, tmp_path)
    runner.fail = (1, 3, how)
    with pytest.raises(ReplicaError, match="replica 1") as info:
        runner.train()
    assert time.time() - float((tmp_path / "failed_at").read_text()) < 5
    if how == "kill":
        assert "SIGKILL" in str(info.value)
    else:
        assert "boom in rank 1 at itr 3" in str(info.value)
    assert info.value.rank == 1
    assert_gone(info.value.pid)
    assert not os.path.exists(tmp_path / "rank1.pt") or how == "raise"


@pytest.mark.parametrize("how, error", [("raise", ValueError), ("interrupt", KeyboardInterrupt)])
def test_failing_or_interrupted_rank0_reaps_children(tmp_path, how, error):
    runner = a2c_runner(200, tmp_path)
    runner.fail = (0, 2, how)
    with pytest.raises(error):
        runner.train()
    assert time.time() - float((tmp_path / "failed_at").read_text()) < 5
    child_pid = runner._replicas.children[0].pid
    assert_gone(child_pid)


# -- scripts: spawn (the default) and torchrun -----------------------------------------------


def run_script(args, tmp_path, timeout=150):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocesses.run_script(args, timeout, cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    # Every process cleaned up its named semaphores (the resource tracker warns otherwise).
    assert "leaked" not in proc.stderr, proc.stderr[-5000:]
    return proc


@pytest.mark.timeout(200)  # above run_script's own limit, so its message (with output) shows
def test_rlpyt_style_script_with_make_affinity_list_and_gpu_sampler(tmp_path):
    run_script([sys.executable, SCRIPT, str(tmp_path / "log"), "list"], tmp_path)
    rows = read_csv(tmp_path / "log" / "run_0" / "progress.csv")
    assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [128, 256]
    assert float(rows[-1]["ReturnAverage"]) > 0
    assert "SyncRl: 2 replicas (gloo)" in (tmp_path / "log" / "run_0" / "debug.log").read_text()


def test_make_affinity_dict_is_one_replica_with_gpu_sampler(tmp_path):
    sampler = GpuSampler(
        EnvCls=gym_make, env_kwargs=dict(id="CartPole-v1"), batch_T=T, batch_B=B,
        max_decorrelation_steps=0,
    )  # fmt: skip
    runner = SyncRl(
        algo=A2C(),
        agent=CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[16])),
        sampler=sampler,
        n_steps=4 * T * B,
        affinity=make_affinity(n_cpu_core=2, n_gpu=0, cpu_per_run=2, set_affinity=False),
        log_interval_steps=2 * T * B,
        progress_bar=False,
    )
    with logger_context(str(tmp_path), 0, "dict", override_prefix=True) as d:
        runner.train()
    assert runner.world_size == 1 and runner._replicas is None
    rows = read_csv(os.path.join(d, "progress.csv"))
    assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [2 * T * B, 4 * T * B]


@pytest.mark.skipif(not os.path.exists(TORCHRUN), reason="torchrun not installed")
@pytest.mark.timeout(200)
def test_script_under_torchrun(tmp_path):
    args = [TORCHRUN, "--standalone", "--nproc_per_node", "2", SCRIPT, str(tmp_path / "log"),
            "list"]  # fmt: skip
    run_script(args, tmp_path)
    rows = read_csv(tmp_path / "log" / "run_0" / "progress.csv")
    assert [int(r["Diagnostics/CumSteps"]) for r in rows] == [128, 256]
    assert "SyncRl: 2 replicas (gloo)" in (tmp_path / "log" / "run_0" / "debug.log").read_text()


# -- units ------------------------------------------------------------------------------------


def test_replica_affinities():
    assert replica_affinities(None) == [{}]
    assert replica_affinities(dict(cuda_idx=None)) == [dict(cuda_idx=None)]
    listed = [make_affinity(run_slot=r, n_cpu_core=2, n_gpu=0, cpu_per_run=1) for r in range(2)]
    assert [a["master_cpus"] for a in replica_affinities(listed)] == [(0,), (1,)]
    with pytest.raises(ValueError, match="empty"):
        replica_affinities([])
    with pytest.raises(ValueError, match="AsyncRl"):
        replica_affinities(dict(optimizer=[], sampler={}))
    runner = SyncRl(A2C(), CategoricalPgAgent(), cartpole_sampler(), 100, affinity=listed)
    assert runner.affinity == listed[0] and len(runner.affinities) == 2


def test_launched_affinity_by_local_rank():
    gpus = [dict(cuda_idx=0, master_cpus=(0,)), dict(cuda_idx=1, master_cpus=(1,))]
    assert launched_affinity(gpus, 1, 2) == gpus[1]
    with pytest.raises(ValueError, match="local rank 2"):
        launched_affinity(gpus, 2, 3)
    shared = launched_affinity([dict(cuda_idx=0, master_cpus=(0, 1))], 3, 4)
    assert shared["cuda_idx"] == 3 and shared["set_affinity"] is False
    assert launched_affinity([dict(cuda_idx=5)], 0, 1) == dict(cuda_idx=5)


def test_torchrun_env(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    assert torchrun_env() is None
    env = dict(RANK="3", WORLD_SIZE="4", LOCAL_RANK="1", MASTER_ADDR="h", MASTER_PORT="1")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert torchrun_env() == dict(rank=3, world_size=4, local_rank=1, local_world_size=2)


def test_interleave_keeps_newest_of_every_replica_last():
    assert _interleave([["a0", "a1"], ["b0", "b1"]]) == ["a0", "b0", "a1", "b1"]
    assert _interleave([["a0", "a1", "a2"], ["b0"]]) == ["a0", "a1", "a2", "b0"]
    assert _interleave([[], ["b0"]]) == ["b0"]


def test_child_slow_to_exit_reports_its_stacks(tmp_path, capfd, monkeypatch):
    # A child still alive a while after training is asked (SIGUSR1) for its threads' stacks,
    # which rank 0 logs; the child carries on and the run ends normally, leaving no file.
    monkeypatch.setattr(sync_replicas, "_STACK_DUMP_AFTER_S", 0.5)
    runner = a2c_runner(2, tmp_path)
    runner.slow_exit_s = 4.0
    logger.enable()
    runner.train()
    out = capfd.readouterr().out
    assert "has not exited" in out and "most recent call first" in out, out[-3000:]
    assert "in shutdown" in out, out[-3000:]  # where the child was: Recording.shutdown's sleep
    rank0, rank1 = records(tmp_path)
    assert not os.path.exists(sync_replicas.stacks_path(rank1["pid"]))
