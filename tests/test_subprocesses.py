"""tests/subprocesses.py: a script that outlives its time is killed with everything it started."""

import subprocess
import sys
import time

import psutil
import pytest

from tests.subprocesses import run_script

_PARENT = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(child.pid, flush=True); time.sleep(60)"
)


def test_output_and_return_code():
    done = run_script([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], 30)
    assert (done.returncode, done.stdout) == (3, "out\n")


def test_timeout_kills_the_whole_process_group():
    with pytest.raises(subprocess.TimeoutExpired) as info:
        run_script([sys.executable, "-c", _PARENT], 3)
    grandchild = int(info.value.stdout.split()[0])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(grandchild) and time.monotonic() < deadline:
        try:
            if psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    else:
        assert not psutil.pid_exists(grandchild), "the script's child outlived the timeout"
