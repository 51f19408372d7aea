"""Parallel samplers fail fast and clean: dead or raising workers, shutdown, master death."""

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from rlpyt.samplers.parallel.base import WorkerError
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from tests.fakes import CountingEnv
from tests.samplers.fake_agent import FakeAgent
from tests.samplers.proc_utils import (
    BlockingEnv,
    BrokenConstructorEnv,
    FailingEnv,
    dev_shm,
    dev_shm_held,
    lasting_new_entries,
    our_children,
    rlpyt_blocks,
)
from tests.subprocesses import default_sigint

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process checks"),
]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


SAMPLERS = {"cpu": CpuSampler, "gpu": GpuSampler, "alternating": AlternatingSampler}


def make_sampler(EnvCls, env_kwargs, start_method="fork", kind="cpu", **kwargs):
    settings = dict(batch_T=8, batch_B=2, max_decorrelation_steps=0, start_method=start_method)
    settings.update(kwargs)
    return SAMPLERS[kind](EnvCls=EnvCls, env_kwargs=env_kwargs, **settings)


def _wait_for_file(directory, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = os.listdir(directory)
        if names:
            return int(names[0])
        time.sleep(0.02)
    raise AssertionError("the blocking env never reached its step")


@pytest.fixture
def clean_process():
    """Checks that a test leaves no child process and no rlpyt shared memory behind."""
    blocks, shm, held = rlpyt_blocks(), dev_shm(), dev_shm_held()
    assert not our_children()
    yield
    assert not our_children(), "worker processes (or zombies) left behind"
    assert rlpyt_blocks() == blocks, "rlpyt shared-memory blocks left mapped"
    assert dev_shm_held() <= held, "/dev/shm files left open or mapped"
    assert not lasting_new_entries(shm), "new /dev/shm entries left behind"


@pytest.mark.parametrize(
    "kind, start_method",
    [("cpu", "fork"), ("cpu", "spawn"), ("gpu", "fork"), ("gpu", "spawn"), ("alternating", "fork")],
)
def test_sigkill_mid_batch_raises_worker_error(tmp_path, kind, start_method, clean_process):
    env_kwargs = dict(block_at=5, block_seeds=(1,), marker=str(tmp_path))
    sampler = make_sampler(BlockingEnv, env_kwargs, start_method, kind)
    sampler.initialize(FakeAgent(), seed=0)  # env 1 (seed 1) lives in worker 1
    worker_pid = sampler.workers[1].process.pid

    def kill_when_blocked():
        pid = _wait_for_file(tmp_path)
        assert pid == worker_pid
        killed_at.append(time.monotonic())
        os.kill(pid, signal.SIGKILL)

    killed_at: list[float] = []
    killer = threading.Thread(target=kill_when_blocked)
    killer.start()
    with pytest.raises(WorkerError) as excinfo:
        sampler.obtain_samples(0)
    raised_at = time.monotonic()
    killer.join()
    error = excinfo.value
    assert raised_at - killed_at[0] < 10
    assert error.rank == 1 and error.pid == worker_pid
    assert f"worker 1 (pid {worker_pid})" in str(error) and "SIGKILL" in str(error)
    del excinfo, error
    sampler.shutdown()  # idempotent after the failure
    with pytest.raises(RuntimeError, match="shut down after a worker failure"):
        sampler.obtain_samples(1)


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_env_exception_is_reported_with_traceback(kind, clean_process):
    sampler = make_sampler(FailingEnv, dict(fail_at=6, fail_seeds=(1,)), kind=kind, batch_B=3)
    sampler.initialize(FakeAgent(), seed=0)  # envs 0, 1 in worker 0; env 2 in worker 1
    pid = sampler.workers[0].process.pid
    start = time.monotonic()
    with pytest.raises(WorkerError) as excinfo:
        sampler.obtain_samples(0)
    assert time.monotonic() - start < 10
    message = str(excinfo.value)
    assert f"worker 0 (pid {pid}) raised ValueError: env with seed 1 exploded at step 6" in message
    assert "Traceback" in message and "collect_batch" in message
    assert excinfo.value.rank == 0
    del excinfo


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_exception_while_building_envs(kind, clean_process):
    sampler = make_sampler(BrokenConstructorEnv, dict(master_pid=os.getpid()), kind=kind)
    with pytest.raises(WorkerError, match="raised OSError: no emulator licence") as excinfo:
        sampler.initialize(FakeAgent(), seed=0)
    del excinfo
    sampler.shutdown()


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_exception_during_evaluation(kind, clean_process):
    sampler = make_sampler(
        FailingEnv,
        dict(fail_at=4, fail_seeds=(1000 + 2 + 1,)),
        kind=kind,
        eval_n_envs=2,
        eval_max_steps=20,
    )
    sampler.initialize(FakeAgent(), seed=1000)  # eval env 1 is seeded 1000 + batch_B + 1
    sampler.obtain_samples(0)
    with pytest.raises(WorkerError, match="worker 1 .* exploded at step 4") as excinfo:
        sampler.evaluate_agent(1)
    del excinfo


def test_hung_workers_are_terminated_on_shutdown(tmp_path, clean_process):
    env_kwargs = dict(block_at=2, block_seeds=(0, 1), marker=str(tmp_path))
    sampler = make_sampler(BlockingEnv, env_kwargs)
    sampler.initialize(FakeAgent(), seed=0)
    pids = [w.process.pid for w in sampler.workers]
    sampler._send_all(sampler.workers, "sample", 0)  # both block inside the batch
    _wait_for_file(tmp_path)
    start = time.monotonic()
    sampler.shutdown()  # "close" goes unanswered: SIGTERM after the grace period
    assert time.monotonic() - start < 10
    assert not any(psutil.pid_exists(pid) for pid in pids)
    sampler.shutdown()


def test_gpu_workers_waiting_for_actions_exit_promptly_on_shutdown(clean_process):
    sampler = make_sampler(CountingEnv, {}, kind="gpu")
    sampler.initialize(FakeAgent(), seed=0)
    sampler._send_all(sampler.workers, "sample", 0)  # no actions served: workers wait
    time.sleep(0.2)
    start = time.monotonic()
    sampler.shutdown()
    assert time.monotonic() - start < 1.5  # they saw sync.closing (no SIGTERM needed)


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_normal_shutdown_leaves_nothing(kind, clean_process):
    sampler = make_sampler(
        CountingEnv, dict(done_every=3), kind=kind, eval_n_envs=1, eval_max_steps=9
    )
    sampler.initialize(FakeAgent(), seed=0)
    samples, _ = sampler.obtain_samples(0)
    sampler.evaluate_agent(1)
    del samples
    sampler.shutdown()
    sampler.shutdown()
    with pytest.raises(RuntimeError, match="no running workers"):
        sampler.obtain_samples(1)


_MASTER = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
    from tests.fakes import CountingEnv
    from tests.samplers.fake_agent import FakeAgent

    if __name__ == "__main__":
        sampler = CpuSampler(EnvCls=CountingEnv, env_kwargs={{}}, batch_T=4, batch_B=2,
                             max_decorrelation_steps=0, start_method={method!r})
        sampler.initialize(FakeAgent(), seed=0)
        sampler.obtain_samples(0)
        print(" ".join(str(w.process.pid) for w in sampler.workers), flush=True)
        time.sleep(600)
    """
)


@contextlib.contextmanager
def _subreaper():
    """Make this process adopt orphaned descendants (Linux), so it can reap the workers of a
    killed master instead of leaving zombies to an init that may not reap them."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 0)


_PR_SET_CHILD_SUBREAPER = 36


def _reaped(pid):
    """True once ``pid`` has exited (reaping it if it is our child)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:  # not our child (or already reaped)
        return not psutil.pid_exists(pid)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_exit_when_the_master_dies(tmp_path, start_method):
    script = tmp_path / "master.py"
    script.write_text(_MASTER.format(repo=REPO, method=start_method))
    before = {c.pid for c in psutil.Process().children()}
    with _subreaper():
        master = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=str(tmp_path)
        )
        try:
            line = ""
            while "UTC" in line or not line.strip():  # skip the sampler's log lines
                line = master.stdout.readline()
                assert line or master.poll() is None, "master exited early"
            pids = [int(p) for p in line.split()]
            assert len(pids) == 2
        finally:
            master.kill()
            master.wait()
        deadline = time.monotonic() + 10
        alive = pids
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if not _reaped(p)]
            time.sleep(0.05)
        # Other orphans adopted meanwhile (the dead master's resource tracker): reap them.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            adopted = [c.pid for c in psutil.Process().children() if c.pid not in before]
            if not adopted:
                break
            for pid in adopted:
                _reaped(pid)
            time.sleep(0.05)
    assert not alive, f"workers {alive} outlived their master"


_CTRL_C_MASTER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    import psutil
    from rlpyt.samplers.parallel.{module} import {cls}
    from tests.fakes import CountingEnv
    from tests.samplers.fake_agent import FakeAgent

    if __name__ == "__main__":
        sampler = {cls}(EnvCls=CountingEnv, env_kwargs={{}}, batch_T=4, batch_B=2,
                        max_decorrelation_steps=0, start_method="fork")
        sampler.initialize(FakeAgent(), seed=0)
        print("running", flush=True)
        try:
            while True:
                sampler.obtain_samples(0)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        finally:
            sampler.shutdown()
        print("children", len(psutil.Process().children(recursive=True)), flush=True)
    """
)


@pytest.mark.parametrize(
    "module, cls", [("cpu.sampler", "CpuSampler"), ("gpu.sampler", "GpuSampler")]
)
def test_ctrl_c_to_the_process_group_ends_the_run_cleanly(tmp_path, module, cls):
    script = tmp_path / "master.py"
    script.write_text(_CTRL_C_MASTER.format(repo=REPO, module=module, cls=cls))
    master = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(tmp_path),
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=default_sigint,
    )
    try:
        while "running" not in master.stdout.readline():
            assert master.poll() is None, "master exited early"
        time.sleep(0.3)
        os.killpg(master.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        out, _ = master.communicate(timeout=60)  # a hang guard; normally < 1 s
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()
    assert "interrupted" in out and "children 0" in out, out
    assert master.returncode == 0
