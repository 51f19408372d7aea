"""rlpyt's double-buffer collector names for the async samplers.

The async samplers keep two ``[T, B]`` samples buffers and point each collector's
``samples_np`` at the buffer of the batch about to be collected (``select_buffer``), so any
collector works with them unchanged. These classes are the usual collectors under the names
rlpyt scripts import (``CollectorCls=DbCpuResetCollector``); they are the async samplers'
defaults.
"""

from __future__ import annotations

from typing import Any

from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.parallel.gpu.collectors import GpuResetCollector, GpuWaitResetCollector

__all__ = [
    "DbCpuResetCollector",
    "DbCpuWaitResetCollector",
    "DbGpuResetCollector",
    "DbGpuWaitResetCollector",
    "select_buffer",
]


def select_buffer(collector: Any, buffers: tuple[Any, Any], db_idx: int) -> None:
    """Make ``collector`` write its next batch into ``buffers[db_idx]`` (its slice of one half
    of the double buffer). Collectors read ``samples_np`` afresh at every batch."""
    collector.samples_np = buffers[db_idx]


class DbCpuResetCollector(CpuResetCollector):
    """``CpuResetCollector`` for the async samplers (serial and CPU): mid-batch resets."""


class DbCpuWaitResetCollector(CpuWaitResetCollector):
    """``CpuWaitResetCollector`` for the async samplers (serial and CPU): envs wait for the
    batch end to reset (recurrent agents)."""


class DbGpuResetCollector(GpuResetCollector):
    """``GpuResetCollector`` for the async GPU and alternating samplers: mid-batch resets."""


class DbGpuWaitResetCollector(GpuWaitResetCollector):
    """``GpuWaitResetCollector`` for the async GPU and alternating samplers: envs wait for the
    batch end to reset."""
