"""Running a script from a test without ever waiting on it forever.

``subprocess.run(..., timeout=t)`` only kills its child when *its own* timeout expires. When
pytest-timeout interrupts the test first (or anything else raises inside ``communicate``),
``Popen.__exit__`` waits for the child with no limit at all: a hung script then hangs the test
process for good, past every per-test timeout. :func:`run_script` starts the child in its own
process group and kills that whole group (the script and everything it started: workers,
replicas, torchrun's processes) on any way out of the wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any


def run_script(
    args: Sequence[str], timeout: float, **popen_kwargs: Any
) -> subprocess.CompletedProcess:
    """Run ``args`` to completion (text stdout and stderr captured) within ``timeout`` seconds.

    Raises:
        subprocess.TimeoutExpired: after ``timeout`` s, once the process group is killed.
    """
    proc = subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen_kwargs,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except BaseException:
        kill_group(proc.pid)
        proc.wait(timeout=10)  # SIGKILL cannot be ignored; the group is gone within seconds
        for stream in (proc.stdout, proc.stderr):
            stream.close()  # without reading: a process outside the group may hold the pipe
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def default_sigint() -> None:
    """``preexec_fn`` for a child that must see Ctrl-C as a terminal's foreground job does.

    A shell without job control starts background commands with SIGINT *ignored*, and an
    ignored signal stays ignored across ``exec`` (Python then never installs its
    ``KeyboardInterrupt`` handler): a suite started as ``cmd &`` would otherwise hand that on
    to every script it runs.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def sigint_raises_keyboard_interrupt() -> Iterator[None]:
    """In this process, SIGINT raises ``KeyboardInterrupt`` inside the block (whatever the
    disposition this process inherited, see :func:`default_sigint`)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def kill_group(pgid: int) -> None:
    """SIGKILL to process group ``pgid``, if it still has members."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
