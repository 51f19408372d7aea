"""What the train scripts share: loading a run's config, and the sampler and runner it calls for.

A train script is started as ``python <script> <slot_affinity_code> <log_dir> <run_ID>
<config_key>`` (by ``run_experiments``, or by hand). It builds its agent and algorithm itself
and leaves the rest to these helpers:

- the config is ``configs[config_key]`` updated by ``<log_dir>/variant_config.json`` (if there
  is one); its ``mode`` names the runner family and must suit the affinity:

  ============ ========================================== =====================================
  ``mode``     affinity (``affinity_from_code``)          runner
  ============ ========================================== =====================================
  minibatch    one dict (CPU, or one GPU: ``cuda_idx``)   ``MinibatchRl`` / ``MinibatchRlEval``
  sync         a list of dicts (``gpr``), or one dict     ``SyncRl`` / ``SyncRlEval``
  async        optimizer + sampler parts (``ass``)        ``AsyncRl`` / ``AsyncRlEval``
  ============ ========================================== =====================================

  (the ``...Eval`` runner when ``config["sampler"]["eval_n_envs"] > 0``);
- the sampler follows the (sampler's) affinity: a GPU and several envs give ``GpuSampler``
  (``AlternatingSampler`` for ``alt`` codes), several worker cores and envs ``CpuSampler``,
  otherwise ``SerialSampler``; the async twins (``AsyncGpuSampler``, ...) for async codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rlpyt.runners.async_rl import AsyncRl, AsyncRlEval
from rlpyt.runners.minibatch_rl import MinibatchRl, MinibatchRlEval
from rlpyt.runners.sync_rl import SyncRl, SyncRlEval
from rlpyt.samplers.async_.alternating_sampler import AsyncAlternatingSampler
from rlpyt.samplers.async_.collectors import (
    DbCpuResetCollector,
    DbCpuWaitResetCollector,
    DbGpuResetCollector,
    DbGpuWaitResetCollector,
)
from rlpyt.samplers.async_.cpu_sampler import AsyncCpuSampler
from rlpyt.samplers.async_.gpu_sampler import AsyncGpuSampler
from rlpyt.samplers.async_.serial_sampler import AsyncSerialSampler
from rlpyt.samplers.collections import TrajInfo
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector, CpuWaitResetCollector
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import (
    AlternatingSampler,
    AlternatingSamplerBase,
)
from rlpyt.samplers.parallel.gpu.collectors import GpuResetCollector, GpuWaitResetCollector
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.launching.affinity import affinity_from_code
from rlpyt.utils.launching.arguments import get_args
from rlpyt.utils.launching.variant import VARIANT, load_variant, update_config
from rlpyt.utils.logging.context import logger_context

MODES = ("minibatch", "sync", "async")

# Sampler kind -> (sampler class, (collector with mid-batch resets, collector that waits)).
SAMPLERS: dict[str, tuple[type, tuple[type, type]]] = {
    "serial": (SerialSampler, (CpuResetCollector, CpuWaitResetCollector)),
    "cpu": (CpuSampler, (CpuResetCollector, CpuWaitResetCollector)),
    "gpu": (GpuSampler, (GpuResetCollector, GpuWaitResetCollector)),
    "alternating": (AlternatingSampler, (GpuResetCollector, GpuWaitResetCollector)),
    "async_serial": (AsyncSerialSampler, (DbCpuResetCollector, DbCpuWaitResetCollector)),
    "async_cpu": (AsyncCpuSampler, (DbCpuResetCollector, DbCpuWaitResetCollector)),
    "async_gpu": (AsyncGpuSampler, (DbGpuResetCollector, DbGpuWaitResetCollector)),
    "async_alternating": (AsyncAlternatingSampler, (DbGpuResetCollector, DbGpuWaitResetCollector)),
}

# Mode -> (runner without evaluation, runner evaluating at every log interval).
RUNNERS: dict[str, tuple[type, type]] = {
    "minibatch": (MinibatchRl, MinibatchRlEval),
    "sync": (SyncRl, SyncRlEval),
    "async": (AsyncRl, AsyncRlEval),
}


def is_async(affinity: Any) -> bool:
    """Whether ``affinity`` is an async layout (``optimizer`` and ``sampler`` parts)."""
    return isinstance(affinity, Mapping) and "optimizer" in affinity and "sampler" in affinity


def load_config(configs: Mapping[str, dict], config_key: str | None, log_dir: str) -> dict:
    """``configs[config_key]`` updated by the variant in ``log_dir``, if it holds one.

    Raises:
        KeyError: for an unknown ``config_key``, or a variant key the config lacks (the
            message names its path, e.g. ``'algo.learnin_rate'``).
        ValueError: for a config without a valid ``mode``.
    """
    if config_key not in configs:
        raise KeyError(f"unknown config key {config_key!r}; this script's keys: {sorted(configs)}")
    variant = load_variant(log_dir) if os.path.exists(os.path.join(log_dir, VARIANT)) else {}
    config = update_config(configs[config_key], variant)
    if config.get("mode") not in MODES:
        raise ValueError(f"config {config_key!r}: mode must be one of {MODES}")
    return config


def check_mode(config: Mapping, affinity: Any, config_key: str = "") -> None:
    """Raise ``ValueError`` if the config's ``mode`` cannot run on ``affinity``."""
    mode = config["mode"]
    if mode == "async" and not is_async(affinity):
        raise ValueError(
            f"config {config_key!r} is for AsyncRl (mode 'async'): give it an async affinity "
            f"code, encode_affinity(..., async_sample=True)"
        )
    if mode != "async" and is_async(affinity):
        raise ValueError(
            f"config {config_key!r} (mode {mode!r}) got an async affinity code; async codes "
            f"need a config with mode 'async'"
        )
    if mode == "minibatch" and isinstance(affinity, list):
        raise ValueError(
            f"config {config_key!r} (mode 'minibatch') got a multi-GPU affinity (gpu_per_run > "
            f"1); those need a config with mode 'sync' (per-replica batch sizes)"
        )


def load_run(
    slot_affinity_code: str, log_dir: str, config_key: str | None, configs: Mapping[str, dict]
) -> tuple[Any, dict]:
    """The run's affinity and config, checked against each other (see :func:`check_mode`)."""
    affinity = affinity_from_code(slot_affinity_code)
    config = load_config(configs, config_key, log_dir)
    check_mode(config, affinity, config_key or "")
    return affinity, config


def sampler_kind(affinity: Any, batch_B: int) -> str:
    """The key of :data:`SAMPLERS` that suits ``affinity`` and ``batch_B`` envs."""
    prefix = "async_" if is_async(affinity) else ""
    if is_async(affinity):
        affinity = affinity["sampler"]
    if isinstance(affinity, (list, tuple)):  # SyncRl replicas (or several sampler GPUs)
        affinity = affinity[0]
    n_workers = min(batch_B, len(affinity.get("workers_cpus") or ()))
    if batch_B > 1 and affinity.get("cuda_idx") is not None:
        kind = "alternating" if affinity.get("alternating") else "gpu"
    elif n_workers > 1:
        kind = "cpu"
    else:  # one env or one core: stepping in the runner's process costs no worker
        kind = "serial"
    return prefix + kind


def make_sampler(
    affinity: Any,
    config: Mapping,
    EnvCls: Callable[..., Any],
    TrajInfoCls: Callable[..., Any] = TrajInfo,
    wait_reset: bool = False,
) -> Any:
    """The sampler for ``affinity``, with ``config["env"]``, ``["eval_env"]`` (optional) and
    ``["sampler"]`` settings; ``wait_reset`` picks the collectors that let finished envs wait
    for the batch end (recurrent agents)."""
    kind = sampler_kind(affinity, config["sampler"]["batch_B"])
    SamplerCls, collectors = SAMPLERS[kind]
    return SamplerCls(
        EnvCls=EnvCls,
        env_kwargs=config["env"],
        eval_env_kwargs=config.get("eval_env"),
        TrajInfoCls=TrajInfoCls,
        CollectorCls=collectors[int(wait_reset)],
        **config["sampler"],
    )


def is_alternating(sampler: Any) -> bool:
    """Whether ``sampler`` steps its envs in two alternating halves (recurrent agents must
    then be the ``Alternating...`` variants)."""
    return isinstance(sampler, AlternatingSamplerBase)


def make_runner(affinity: Any, config: Mapping, algo: Any, agent: Any, sampler: Any) -> Any:
    """The runner of ``config["mode"]`` (evaluating if the sampler has eval envs), with
    ``config["runner"]`` settings (``n_steps``, ``log_interval_steps``, ``seed``, ...)."""
    evaluate = config["sampler"].get("eval_n_envs", 0) > 0
    RunnerCls = RUNNERS[config["mode"]][int(evaluate)]
    return RunnerCls(
        algo=algo,
        agent=agent,
        sampler=sampler,
        affinity=affinity,
        progress_bar=False,  # runs of a sweep share one terminal
        **config["runner"],
    )


def train(runner: Any, log_dir: str, run_ID: int | str, name: str, config: Mapping) -> str:
    """Train inside ``logger_context`` (``<log_dir>/run_<run_ID>``, last snapshot kept);
    return the run directory.

    A relative ``log_dir`` is taken relative to the working directory, as for the variant
    (``logger_context`` alone would put it under ``{data}/local/<yyyymmdd>/``).
    """
    log_dir = os.path.abspath(log_dir)
    with logger_context(log_dir, run_ID, name, config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main(build_and_train: Callable[..., Any], argv: Sequence[str] | None = None) -> None:
    """Call ``build_and_train`` with the command line's arguments (``get_args``)."""
    args = get_args(argv)
    build_and_train(args.slot_affinity_code, args.log_dir, args.run_ID, args.config_key)
