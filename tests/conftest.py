"""Suite-wide guard against hangs.

pytest-timeout (``timeout`` in pyproject) fails a test after 300 s by raising in the main thread,
which cannot interrupt a thread blocked in C code (a collective, a lock taken by a dead process)
nor a cleanup that hangs after the timeout fired. As a last resort every test also arms
:func:`faulthandler.dump_traceback_later`: past ``HARD_LIMIT_S`` the test's process writes every
thread's stack to a temporary folder and exits, so the run fails with the stacks printed
at the end instead of hanging until the CI limit. (Under xdist only that worker dies; it is
replaced and the run goes on.)
"""

from __future__ import annotations

import faulthandler
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

HARD_LIMIT_S = float(os.environ.get("RLPYT_TEST_HARD_LIMIT_S", "420"))
_OWNS_HANG_DIR = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    # One folder per session, named by the controller and inherited by xdist workers, so that
    # concurrent pytest runs in one checkout never touch each other's reports.
    if "RLPYT_TEST_HANG_DIR" not in os.environ:
        os.environ["RLPYT_TEST_HANG_DIR"] = tempfile.mkdtemp(prefix="rlpyt-hangs-")
        config.stash[_OWNS_HANG_DIR] = True


def _hang_dir() -> Path:
    return Path(os.environ["RLPYT_TEST_HANG_DIR"])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    folder = _hang_dir()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(folder / f"{worker}-{os.getpid()}.log", "w") as log:
        log.write(f"{item.nodeid} ran past {HARD_LIMIT_S:.0f} s; stacks:\n")
        log.flush()
        faulthandler.dump_traceback_later(HARD_LIMIT_S, exit=True, file=log)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()
    os.unlink(log.name)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if not config.stash.get(_OWNS_HANG_DIR, False):
        return
    folder = _hang_dir()
    reports = sorted(folder.glob("*.log"))
    if reports:
        terminalreporter.section("hung tests (process killed by the hard limit)")
        for report in reports:
            terminalreporter.write(report.read_text() + "\n")
    shutil.rmtree(folder, ignore_errors=True)


def _signal_state() -> tuple:
    blocked = (
        signal.pthread_sigmask(signal.SIG_BLOCK, []) if hasattr(signal, "pthread_sigmask") else ()
    )
    return (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        frozenset(blocked),
    )


@pytest.fixture(autouse=True)
def _signals_left_as_found():
    """A test must leave this process's SIGINT/SIGTERM handling as it found it: later tests
    (and every process they start, which inherits ignored or blocked signals) rely on it."""
    before = _signal_state()
    yield
    after = _signal_state()
    if after != before:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_SETMASK, before[2])
        pytest.fail(f"the test changed signal handling: {before} -> {after}")
