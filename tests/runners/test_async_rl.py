"""AsyncRl / AsyncRlEval: every async sampler trains DQN, replay-ratio throttling, snapshots and
resume, and failures (a killed sampler process, a raising worker or copier, Ctrl-C) that end
the run within seconds with nothing left behind."""

import csv
import ctypes
import ctypes.util
import glob
import os
import signal
import sys
import textwrap
import threading
import time

import psutil
import pytest
import torch

from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.runners.async_rl import AsyncRl, AsyncRlEval, split_affinity
from rlpyt.samplers.async_.alternating_sampler import AsyncAlternatingSampler
from rlpyt.samplers.async_.base import AsyncSamplerError
from rlpyt.samplers.async_.cpu_sampler import AsyncCpuSampler
from rlpyt.samplers.async_.gpu_sampler import AsyncGpuSampler
from rlpyt.samplers.async_.serial_sampler import AsyncSerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context
from tests import subprocesses
from tests.fakes import CountingEnv
from tests.samplers.proc_utils import (
    BrokenConstructorEnv,
    FailingEnv,
    dev_shm,
    dev_shm_held,
    lasting_new_entries,
    our_children,
    rlpyt_blocks,
)

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process checks"),
]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KINDS = {
    "serial": AsyncSerialSampler,
    "cpu": AsyncCpuSampler,
    "gpu": AsyncGpuSampler,
    "alternating": AsyncAlternatingSampler,
}
T, B = 8, 2
BS = T * B
ENV_KWARGS = dict(done_every=10, timeout_every=None)
# replay_ratio 4 with batch 16 and 16 steps per batch: 4 updates per sampler iteration, from
# the third iteration on (min_steps_learn = 2 batches).
UPDATES_PER_ITR = 4


class SleepyEnv(CountingEnv):
    """A counting env whose every step takes ``sleep_s`` seconds (a slow simulator)."""

    def __init__(self, sleep_s: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.sleep_s = sleep_s

    def step(self, action):
        time.sleep(self.sleep_s)
        return super().step(action)


class SlowDQN(DQN):
    """DQN whose every ``optimize_agent`` call takes ``delay_s`` more (a slow optimizer)."""

    def __init__(self, delay_s: float = 0.0, fail_copy_at: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.delay_s = delay_s
        self.fail_copy_at = fail_copy_at
        self._copies = 0

    def optimize_agent(self, *args, **kwargs):
        time.sleep(self.delay_s)
        return super().optimize_agent(*args, **kwargs)

    def samples_to_buffer(self, samples):
        self._copies += 1
        if self._copies == self.fail_copy_at:
            raise RuntimeError("replay disk full")
        return super().samples_to_buffer(samples)


def make_runner(
    kind="serial",
    n_itr=12,
    log_itrs=4,
    start_method="fork",
    Runner=AsyncRl,
    EnvCls=CountingEnv,
    env_kwargs=None,
    algo_kwargs=None,
    sampler_kwargs=None,
    **runner_kwargs,
):
    sampler = KINDS[kind](
        EnvCls=EnvCls,
        env_kwargs=ENV_KWARGS if env_kwargs is None else env_kwargs,
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=0,
        start_method=start_method,
        **(sampler_kwargs or {}),
    )
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=[16]))
    algo = SlowDQN(
        **dict(
            dict(
                batch_size=16,
                min_steps_learn=2 * BS,
                replay_size=4000,
                replay_ratio=4,
                eps_steps=10 * BS,
                target_update_interval=20,
                learning_rate=1e-3,
            ),
            **(algo_kwargs or {}),
        )
    )
    runner_kwargs.setdefault("affinity", dict(optimizer=[dict(torch_threads=1)], sampler={}))
    return Runner(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_itr * BS,
        log_interval_steps=log_itrs * BS,
        seed=0,
        progress_bar=False,
        **runner_kwargs,
    )


def read_rows(run_dir):
    with open(os.path.join(run_dir, "progress.csv")) as f:
        return list(csv.DictReader(f))


def column(rows, key, cast=float):
    return [cast(float(row[f"Diagnostics/{key}"])) for row in rows]


def train(runner, tmp_path, name="run", run_ID=0, **kwargs):
    with logger_context(str(tmp_path), run_ID, name, snapshot_mode="last") as run_dir:
        runner.train(**kwargs)
    return run_dir


@pytest.fixture(autouse=True)
def quiet_logger():
    threads = torch.get_num_threads()
    with logger.preserved_state():
        logger.set_log_tabular_only(False)
        logger.disable()
        yield
    assert torch.get_num_threads() == threads  # the runner restores the thread count


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


# -- every sampler kind trains ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, start_method",
    [
        ("serial", "fork"),
        ("cpu", "fork"),
        ("cpu", "spawn"),
        ("gpu", "fork"),
        ("alternating", "fork"),
    ],
)
def test_every_sampler_fills_the_replay_and_the_optimizer_trains(
    kind, start_method, tmp_path, clean_process
):
    # Under spawn: the sampler process and its one worker are fresh interpreters.
    sampler_affinity = dict(workers_cpus=[None]) if start_method == "spawn" else {}
    affinity = dict(optimizer=[dict(torch_threads=1)], sampler=sampler_affinity)
    runner = make_runner(kind, n_itr=12, log_itrs=4, start_method=start_method, affinity=affinity)
    run_dir = train(runner, tmp_path)
    rows = read_rows(run_dir)
    assert column(rows, "SamplerIteration", int) == [3, 7, 11]
    assert column(rows, "CumSteps", int) == [64, 128, 192]
    # Updates as MinibatchRl would make them: 4 per iteration from iteration 2 on.
    assert column(rows, "CumUpdates", int) == [8, 24, 40]
    assert runner.algo.update_counter == (12 - 2) * UPDATES_PER_ITR
    assert runner.algo.replay_buffer.steps_written == 12 * T  # every batch, once
    # In the replay when the row was logged: the sampler may be up to 2 batches (its lead)
    # and one batch in flight ahead of the optimizer.
    for in_replay, steps in zip(column(rows, "StepsInReplay", int), [64, 128, 192]):
        assert steps <= in_replay <= min(steps + 3 * BS, 192)
    for key in ("ReturnAverage", "lossAverage", "Diagnostics/ReplayRatio",
                "Diagnostics/OptThrottle", "Diagnostics/SamplerThrottle"):  # fmt: skip
        assert key in rows[-1], key
    # The last update was published: the sampler side's parameters are the optimizer's.
    shared = runner.agent.shared_model.state_dict()
    for k, v in runner.agent.model.state_dict().items():
        assert torch.equal(shared[k], v), k
    snapshot = logger.load_snapshot(run_dir)
    assert snapshot["sampler_itr"] == 11 and snapshot["cum_updates"] == 40
    assert snapshot["optimizer_state_dict"]["update_counter"] == 40


def test_eval_runner_evaluates_in_the_sampler_process(tmp_path, clean_process):
    runner = make_runner(
        "cpu",
        n_itr=8,
        log_itrs=4,
        Runner=AsyncRlEval,
        sampler_kwargs=dict(eval_n_envs=2, eval_max_steps=40, eval_max_trajectories=4),
    )
    run_dir = train(runner, tmp_path)
    rows = read_rows(run_dir)
    assert column(rows, "SamplerIteration", int) == [0, 3, 7]  # before training, then each interval
    assert column(rows, "CumSteps", int) == [0, 64, 128]
    assert all(n >= 4 for n in column(rows, "TrajsInEval", int))
    assert all(float(r["ReturnAverage"]) == 55.0 for r in rows)  # 1 + ... + 10 per episode
    assert column(rows, "CumEvalTime")[-1] > 0


# -- throttling to the replay ratio -----------------------------------------------------------


def _assert_ratio_held(rows, tolerance=0.05):
    ratios = column(rows, "ReplayRatio")[1:]  # the first interval holds the warm-up
    assert all(abs(r - 4.0) <= 4.0 * tolerance for r in ratios), ratios


def test_slow_optimizer_throttles_the_sampler(tmp_path, clean_process):
    runner = make_runner("serial", n_itr=30, log_itrs=10, algo_kwargs=dict(delay_s=0.004))
    rows = read_rows(train(runner, tmp_path))
    _assert_ratio_held(rows)
    assert max(column(rows, "SamplerThrottle")[1:]) < 0.9  # the sampler waited
    assert runner.algo.update_counter == 28 * UPDATES_PER_ITR


def test_slow_sampler_throttles_the_optimizer(tmp_path, clean_process):
    runner = make_runner(
        "serial", n_itr=30, log_itrs=10, EnvCls=SleepyEnv, env_kwargs=dict(sleep_s=0.005)
    )
    rows = read_rows(train(runner, tmp_path))
    _assert_ratio_held(rows)
    assert max(column(rows, "OptThrottle")[1:]) < 0.9  # the optimizer waited for data
    assert runner.algo.update_counter == 28 * UPDATES_PER_ITR


def test_unthrottled_sampler_runs_ahead(tmp_path, clean_process):
    runner = make_runner(
        "serial", n_itr=30, log_itrs=10, algo_kwargs=dict(delay_s=0.004), max_sampler_lead=None
    )
    rows = read_rows(train(runner, tmp_path))
    assert min(column(rows, "SamplerThrottle")) > 0.98  # never waited for the optimizer
    assert runner.algo.update_counter == 28 * UPDATES_PER_ITR  # the optimizer still catches up
    _assert_ratio_held(rows)  # rows are logged once the optimizer has caught up


# -- snapshots and resume ---------------------------------------------------------------------


def test_resume_continues_counters_and_refills_the_replay(tmp_path, clean_process):
    run_dir = train(make_runner("serial", n_itr=8, log_itrs=4), tmp_path)
    first = logger.load_snapshot(run_dir)
    assert first["async_snapshot_format"] == 1 and first["next_sampler_itr"] == 8
    runner = make_runner("serial", n_itr=16, log_itrs=4)
    run_dir2 = train(runner, tmp_path, run_ID=1, resume_from=run_dir)
    rows = read_rows(run_dir2)
    assert column(rows, "SamplerIteration", int) == [11, 15]
    assert column(rows, "CumSteps", int) == [192, 256]
    # 24 updates before; after resuming, 2 batches refill the (unsaved) replay first.
    assert column(rows, "CumUpdates", int) == [24 + 8, 24 + 24]
    assert runner.algo.replay_buffer.steps_written == 8 * T


def test_split_affinity():
    assert split_affinity(None) == ({}, {})
    opt, smp = split_affinity(dict(optimizer=[dict(cpus=(0,), cuda_idx=None)], sampler=dict(a=1)))
    assert opt == dict(cpus=(0,), cuda_idx=None) and smp == dict(a=1)
    opt, smp = split_affinity(dict(master_cpus=(0,), cuda_idx=0))
    assert opt == dict(cuda_idx=0) and smp["master_cpus"] == (0,)
    with pytest.raises(ValueError, match="multi-GPU"):
        split_affinity(dict(optimizer=[{}, {}], sampler={}))


# -- failures ---------------------------------------------------------------------------------


_PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper(on: bool) -> None:
    """Adopt orphaned descendants (Linux), so the test can reap a killed sampler's workers."""
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl(
        _PR_SET_CHILD_SUBREAPER, int(on)
    )


def _reap_within(pids, seconds):
    deadline = time.monotonic() + seconds
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        still = []
        for pid in alive:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid if not psutil.pid_exists(pid) else 0
            if done != pid:
                still.append(pid)
        alive = still
        time.sleep(0.05)
    return alive


def test_killed_sampler_process_raises_within_seconds(tmp_path, clean_process):
    runner = make_runner("cpu", n_itr=10_000, EnvCls=SleepyEnv, env_kwargs=dict(sleep_s=0.005))
    found = {}

    def kill_sampler():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ctrl, proc = runner.ctrl, runner._sampler_proc
            if ctrl is not None and proc is not None and ctrl.sampler_itr.value >= 3:
                found["workers"] = [c.pid for c in psutil.Process(proc.pid).children()]
                found["pid"] = proc.pid
                found["at"] = time.monotonic()
                os.kill(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_sampler)
    _set_subreaper(True)
    try:
        killer.start()
        with pytest.raises(AsyncSamplerError) as excinfo:
            train(runner, tmp_path)
        raised_at = time.monotonic()
        killer.join()
        assert raised_at - found["at"] < 10
        assert f"async sampler process (pid {found['pid']}) died: killed by signal SIGKILL" in str(
            excinfo.value
        )
        assert len(found["workers"]) == 2
        # Its workers see their parent die (PR_SET_PDEATHSIG) and exit.
        assert not _reap_within(found["workers"], 10), "sampler workers outlived it"
    finally:
        _set_subreaper(False)
    del excinfo


def test_raising_worker_is_reported_with_its_traceback(tmp_path, clean_process):
    runner = make_runner(
        "cpu", n_itr=40, EnvCls=FailingEnv, env_kwargs=dict(fail_at=30, fail_seeds=(2,))
    )  # env 1 is seeded 1 + 1 = 2 (runner seed 0, envs from seed + 1)
    start = time.monotonic()
    with pytest.raises(AsyncSamplerError) as excinfo:
        train(runner, tmp_path)
    assert time.monotonic() - start < 30
    message = str(excinfo.value)
    assert "async sampler process" in message and "raised WorkerError: sampler worker 1" in message
    assert "env with seed 2 exploded at step 30" in message and "Traceback" in message
    del excinfo


def test_envs_failing_to_build_in_the_sampler_process(tmp_path, clean_process):
    runner = make_runner(
        "serial", EnvCls=BrokenConstructorEnv, env_kwargs=dict(master_pid=os.getpid())
    )
    with pytest.raises(AsyncSamplerError, match="raised OSError: no emulator licence"):
        train(runner, tmp_path)


def test_raising_copier_is_reported(tmp_path, clean_process):
    runner = make_runner("serial", n_itr=40, algo_kwargs=dict(fail_copy_at=5))
    with pytest.raises(AsyncSamplerError, match="memory copier thread .* replay disk full"):
        train(runner, tmp_path)


@pytest.mark.timeout(240)  # the first snapshot can take a minute on a loaded 2-core machine
def test_ctrl_c_stops_everything_and_keeps_the_last_snapshot(tmp_path, clean_process):
    """SIGINT to every process of the run (as a terminal sends it to its foreground job)."""
    runner = make_runner("cpu", n_itr=10_000, EnvCls=SleepyEnv, env_kwargs=dict(sleep_s=0.002))
    sent = {}

    def interrupt():
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if glob.glob(str(tmp_path / "run_0" / "params.pkl")):
                group = [psutil.Process(), *psutil.Process().children(recursive=True)]
                sent["pids"] = [p.pid for p in group]
                sent["at"] = time.monotonic()
                for p in group:
                    os.kill(p.pid, signal.SIGINT)
                return
            time.sleep(0.01)

    interrupter = threading.Thread(target=interrupt)
    interrupter.start()
    with subprocesses.sigint_raises_keyboard_interrupt(), pytest.raises(KeyboardInterrupt):
        train(runner, tmp_path, name="run", run_ID=0)
    assert time.monotonic() - sent["at"] < 10
    interrupter.join()
    assert len(sent["pids"]) >= 4  # this process, the sampler process, its two workers
    assert logger.load_snapshot(str(tmp_path / "run_0"))["cum_steps"] >= 4 * BS


# -- an rlpyt-style script, run as a script ---------------------------------------------------

_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from rlpyt.agents.dqn.dqn_agent import DqnAgent
    from rlpyt.algos.dqn.dqn import DQN
    from rlpyt.envs.gym import gym_make
    from rlpyt.runners.async_rl import AsyncRlEval
    from rlpyt.samplers.async_.collectors import DbCpuResetCollector
    from rlpyt.samplers.async_.cpu_sampler import AsyncCpuSampler
    from rlpyt.utils.launching.affinity import make_affinity
    from rlpyt.utils.logging.context import logger_context


    def build_and_train(n_steps, log_dir, run_ID=0):
        affinity = make_affinity(
            run_slot=0, n_cpu_core=2, n_gpu=0, async_sample=True, cpu_per_run=2, set_affinity=False
        )
        sampler = AsyncCpuSampler(
            EnvCls=gym_make,
            env_kwargs=dict(id="CartPole-v1"),
            eval_env_kwargs=dict(id="CartPole-v1"),
            CollectorCls=DbCpuResetCollector,
            batch_T=16,
            batch_B=2,
            max_decorrelation_steps=10,
            eval_n_envs=2,
            eval_max_steps=400,
            eval_max_trajectories=4,
        )
        algo = DQN(min_steps_learn=100, replay_size=5000, batch_size=32, replay_ratio=4)
        agent = DqnAgent(model_kwargs=dict(hidden_sizes=[32]))
        runner = AsyncRlEval(
            algo=algo,
            agent=agent,
            sampler=sampler,
            affinity=affinity,
            n_steps=n_steps,
            log_interval_steps=320,
            seed=1,
        )
        config = dict(algo="DQN", n_steps=n_steps)
        with logger_context(log_dir, run_ID, "async_dqn", config, snapshot_mode="last"):
            runner.train()


    if __name__ == "__main__":
        build_and_train(float(sys.argv[1]), sys.argv[2])
    """
)


def _script(tmp_path):
    path = tmp_path / "train_async_dqn.py"
    path.write_text(_SCRIPT.format(repo=REPO))
    return path


def test_rlpyt_style_script_runs(tmp_path):
    log_dir = tmp_path / "logs"
    result = subprocesses.run_script(
        [sys.executable, str(_script(tmp_path)), "960", str(log_dir)], 80, cwd=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_rows(log_dir / "run_0")
    assert column(rows, "CumSteps", int) == [0, 320, 640, 960]
    assert all(int(r["Diagnostics/TrajsInEval"]) >= 4 for r in rows)
    assert (log_dir / "run_0" / "params.pkl").exists()
