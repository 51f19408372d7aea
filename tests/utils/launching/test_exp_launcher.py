"""Tests for run_experiments: runs stacked on 2 CPU slots, failures, Ctrl-C, rlpyt-style scripts."""

import csv
import datetime
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from rlpyt.utils.launching import exp_launcher
from rlpyt.utils.launching.affinity import encode_affinity
from rlpyt.utils.launching.exp_launcher import launch_experiment, run_experiments
from rlpyt.utils.launching.variant import VARIANT, VariantLevel, load_variant, make_variants

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_train.py")
CODE_2_SLOTS = encode_affinity(n_cpu_core=2, cpu_per_run=1, hyperthread_offset=0, n_socket=1)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Runs (children inherit the environment) log under tmp_path."""
    monkeypatch.setenv("RLPYT_DATA_DIR", str(tmp_path))
    return tmp_path


def exp_dir(data_dir, title):
    return os.path.join(data_dir, "local", datetime.datetime.now().strftime("%Y%m%d"), title)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def max_overlap(intervals):
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    level = best = 0
    for _, step in events:
        level += step
        best = max(best, level)
    return best


def alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_if_alive(pid, group=False):
    """Test clean-up: end a process (or its group) this test started, if it still lives."""
    try:
        if group:
            os.killpg(pid, signal.SIGKILL)
        elif alive(pid):
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def fake_variants(settings):
    """Variants of fake_train.py: one per (dir_name, run-overrides) in ``settings``."""
    return [dict(run=run, tag=name) for name, run in settings], [name for name, _ in settings]


class TestRunExperiments:
    def test_four_runs_on_two_slots(self, data_dir):
        variants, log_dirs = make_variants(
            VariantLevel([("run", "sleep_s"), ("tag",)], [(1.5, "a"), (1.5, "b")], ["a", "b"])
        )
        results = run_experiments(
            FAKE, CODE_2_SLOTS, "four", 2, variants, log_dirs, common_args=("default",),
            poll_interval=0.1,
        )  # fmt: skip
        assert sorted((os.path.basename(r.log_dir), r.run_ID) for r in results) == [
            ("a", 0), ("a", 1), ("b", 0), ("b", 1),
        ]  # fmt: skip
        assert all(r.returncode == 0 for r in results)
        root = exp_dir(data_dir, "four")
        intervals, slots = [], []
        for name, variant in zip(log_dirs, variants):
            assert load_variant(os.path.join(root, name)) == variant
            for run_ID in (0, 1):
                run_dir = os.path.join(root, name, f"run_{run_ID}")
                rows = read_csv(os.path.join(run_dir, "progress.csv"))
                assert [r["Diagnostics/Iteration"] for r in rows] == ["0", "1", "2"]
                params = read_json(os.path.join(run_dir, "params.json"))
                assert params["run_ID"] == run_ID and params["tag"] == name
                timing = read_json(os.path.join(run_dir, "timing.json"))
                intervals.append((timing["start"], timing["end"]))
                slots.append(timing["slot"])
                assert timing["all_cpus"] == [timing["slot"]]
                if timing["cpus"] is not None and {0, 1} <= os.sched_getaffinity(0):
                    assert timing["cpus"] == [timing["slot"]], "run not pinned to its slot's CPU"
        assert max_overlap(intervals) == 2, "at most (and, here, exactly) 2 runs at a time"
        assert sorted(set(slots)) == [0, 1]
        assert os.path.exists(os.path.join(root, "experiments_tree.txt"))
        assert "4 of 4" in open(os.path.join(root, "num_launched.txt")).read()

    def test_failing_run_is_reported_and_others_finish(self, data_dir, capsys):
        # "bad" fails first, in slot 0; "ok" then takes its slot while "slow" still runs.
        variants, log_dirs = fake_variants(
            [("bad", dict(exit_code=3)), ("slow", dict(sleep_s=1.0)), ("ok", {})]
        )
        results = run_experiments(
            FAKE, CODE_2_SLOTS, "failing", 1, variants, log_dirs, common_args=("default",),
            poll_interval=0.1,
        )  # fmt: skip
        codes = {os.path.basename(r.log_dir): r.returncode for r in results}
        assert codes == dict(bad=3, slow=0, ok=0)
        root = exp_dir(data_dir, "failing")
        for name in ("slow", "ok"):
            assert os.path.exists(os.path.join(root, name, "run_0", "progress.csv"))
        out = capsys.readouterr().out
        assert "FAILED" in out and "exit code 3" in out and "2 of 3 runs succeeded" in out
        assert os.path.join(root, "bad") in out

    def test_argument_errors_launch_nothing(self, data_dir):
        with pytest.raises(ValueError):
            run_experiments(FAKE, CODE_2_SLOTS, "e", 1, [{}], ["a", "b"])
        with pytest.raises(ValueError):
            run_experiments(FAKE, CODE_2_SLOTS, "e", 1, [{}], ["a"], runs_args=[(), ()])
        with pytest.raises(ValueError):
            run_experiments(FAKE, "2cpu_0gpu_3cpr", "e", 1, [{}], ["a"])
        assert not os.path.exists(os.path.join(data_dir, "local"))


class TestStop:
    def start_launcher(self, data_dir, title, settings, stop_timeout=1.0):
        variants, log_dirs = fake_variants(settings)
        kwargs = dict(
            affinity_code=CODE_2_SLOTS, experiment_title=title, runs_per_setting=1,
            variants=variants, log_dirs=log_dirs, common_args=["default"],
            poll_interval=0.1, stop_timeout=stop_timeout,
        )  # fmt: skip
        launcher = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "launch_fake.py"), json.dumps(kwargs)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        return launcher, exp_dir(data_dir, title)

    def wait_pids(self, root, names, launcher, timeout=120):
        deadline = time.monotonic() + timeout
        paths = [os.path.join(root, n, "run_0", "pids.json") for n in names]
        while not all(map(os.path.exists, paths)):
            assert launcher.poll() is None, "launcher ended early"
            assert time.monotonic() < deadline, "runs did not start"
            time.sleep(0.1)
        return [pid for p in paths for pid in read_json(p)]

    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
    def test_signal_stops_every_run(self, data_dir, sig):
        # "stubborn" ignores SIGINT and SIGTERM, and so does the child it spawned: only the
        # launcher's SIGKILL to its process group ends them. "queued" never gets a slot.
        first = "stubborn" if sig == signal.SIGINT else "polite2"
        settings = [
            (first, dict(sleep_s=120, spawn_child=True, ignore_signals=first == "stubborn")),
            ("polite", dict(sleep_s=120, spawn_child=True)),
            ("queued", dict(sleep_s=120)),
        ]
        launcher, root = self.start_launcher(data_dir, f"stop_{sig}", settings)
        pids = []
        try:
            pids = self.wait_pids(root, [first, "polite"], launcher)
            assert len(pids) == 4 and all(map(alive, pids))
            t0 = time.monotonic()
            os.kill(launcher.pid, sig)
            launcher.wait(timeout=60)
            assert launcher.returncode != 0
            # SIGINT, stop_timeout (1 s), SIGTERM, 5 s grace, then SIGKILL.
            assert time.monotonic() - t0 < 30
            deadline = time.monotonic() + 10
            while any(map(alive, pids)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not [p for p in pids if alive(p)], "runs or their children outlived the stop"
            assert not os.path.exists(os.path.join(root, "queued", "run_0"))
            # The polite run ended through KeyboardInterrupt: its logger closed cleanly.
            assert os.path.exists(os.path.join(root, "polite", "run_0", "debug.log"))
        finally:
            kill_if_alive(launcher.pid, group=True)
            launcher.wait(timeout=10)
            for pid in pids:
                kill_if_alive(pid)


class TestRlpytStyleScripts:
    def test_launch_script_runs_unchanged(self, data_dir):
        """An rlpyt launch script (encode_affinity, VariantLevel, run_experiments) and train
        script (affinity_from_code, load_variant, update_config, MinibatchRl): 2 settings x 2
        runs of A2C on CartPole, on 2 CPU slots."""
        proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "launch_tiny_a2c.py")],
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            out, _ = proc.communicate(timeout=240)
        finally:
            kill_if_alive(proc.pid, group=True)
            proc.wait(timeout=10)
        assert proc.returncode == 0, out[-3000:]
        assert "4 of 4 runs succeeded" in out
        root = exp_dir(data_dir, "tiny_a2c")
        for lr in ("0.001", "0.0003"):
            setting = os.path.join(root, f"lr_{lr}")
            assert read_json(os.path.join(setting, VARIANT)) == {
                "algo": {"learning_rate": float(lr)}
            }
            for run_ID in (0, 1):
                run_dir = os.path.join(setting, f"run_{run_ID}")
                rows = read_csv(os.path.join(run_dir, "progress.csv"))
                assert len(rows) == 4 and rows[-1]["Diagnostics/CumSteps"] == "64"
                params = read_json(os.path.join(run_dir, "params.json"))
                assert params["algo"]["learning_rate"] == float(lr)
                assert params["algo"]["discount"] == 0.99  # the default config, updated
                log = open(os.path.join(run_dir, "debug.log")).read()
                if hasattr(os, "sched_getaffinity") and {0, 1} <= os.sched_getaffinity(0):
                    assert "could not set CPU affinity" not in log


class TestLaunchExperiment:
    def test_gpu_slot_env_and_pinning(self, tmp_path):
        script = tmp_path / "probe.py"
        script.write_text(
            "import json, os, sys\n"
            "cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else None\n"
            "json.dump(dict(argv=sys.argv[1:], egl=os.environ.get('EGL_DEVICE_ID'), cpus=cpus),\n"
            "          open(os.path.join(sys.argv[2], 'probe.json'), 'w'))\n"
        )
        # Two GPU slots of one core each; no GPU is touched, only the code's layout.
        code = encode_affinity(n_cpu_core=2, n_gpu=2, hyperthread_offset=0, n_socket=1)
        log_dir = str(tmp_path / "setting")
        proc = launch_experiment(
            str(script), 1, code, log_dir, dict(x=1), 4, ("key", 7), set_egl_device=True
        )
        try:
            assert proc.wait(timeout=60) == 0
        finally:
            kill_if_alive(proc.pid, group=True)
        probe = read_json(os.path.join(log_dir, "probe.json"))
        assert probe["argv"] == ["1slt_" + code, log_dir, "4", "key", "7"]
        assert probe["egl"] == "1"
        assert load_variant(log_dir) == dict(x=1)
        if probe["cpus"] is not None and {0, 1} <= os.sched_getaffinity(0):
            assert probe["cpus"] == [1]

    def test_cpu_helpers(self, monkeypatch):
        monkeypatch.setattr(exp_launcher, "_available_cpus", lambda: [4, 5])
        assert exp_launcher._on_available_cpus((4,)) == (4,)
        assert exp_launcher._on_available_cpus((0, 1, 2)) == (4, 5)
        assert exp_launcher._on_available_cpus(()) == ()
        run = dict(all_cpus=(0, 2), set_affinity=True)
        assert exp_launcher._run_cpus(run) == (0, 2)
        assert exp_launcher._run_cpus([run, dict(all_cpus=(2, 3), set_affinity=True)]) == (0, 2, 3)
        assert exp_launcher._run_cpus(dict(run, set_affinity=False)) == ()
