"""Suite-wide guard against hangs.

pytest-timeout (``timeout`` in pyproject) fails a test after 300 s by raising in the main thread,
which cannot interrupt a thread blocked in C code (a collective, a lock taken by a dead process)
nor a cleanup that hangs after the timeout fired. As a last resort every test also arms
:func:`faulthandler.dump_traceback_later`: past ``HARD_LIMIT_S`` the test's process writes every
thread's stack to ``<rootdir>/.pytest_hangs/`` and exits, so the run fails with the stacks printed
at the end instead of hanging until the CI limit. (Under xdist only that worker dies; it is
replaced and the run goes on.)
"""

from __future__ import annotations

import faulthandler
import os
from pathlib import Path

import pytest

HARD_LIMIT_S = float(os.environ.get("RLPYT_TEST_HARD_LIMIT_S", "420"))


def _hang_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / ".pytest_hangs"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    folder = _hang_dir(item.config)
    folder.mkdir(exist_ok=True)
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


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") is None:  # the controller clears old reports
        for old in _hang_dir(session.config).glob("*.log"):
            old.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    reports = sorted(_hang_dir(config).glob("*.log"))
    if reports:
        terminalreporter.section("hung tests (process killed by the hard limit)")
        for report in reports:
            terminalreporter.write(report.read_text() + "\n")
