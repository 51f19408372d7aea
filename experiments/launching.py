"""What the launch scripts share: their command line, the machine's affinity code, the dry run.

A launch script sweeps one family's train scripts over a grid of settings (games or env ids x
seeds) with ``run_experiments``. It builds its variant levels from its own options and hands
them to :func:`launch`, which

1. finds the train script (``../train/<algo>.py``) and its configs
   (``experiments.configs.<domain>.<family>.<algo>``);
2. describes the machine as an affinity code that suits the config's ``mode``
   (:func:`affinity_code`): ``--machine local`` uses this machine's cores, CPU only;
   ``--machine 8gpu`` a GPU box described by ``--n-gpu``, ``--n-cpu-core``,
   ``--hyperthread-offset`` and ``--n-socket``;
3. checks every variant against the config before anything starts (``update_config`` names a
   bad key path), shrinking the runs with ``--smoke`` (the config module's ``SMOKE``) or
   ``--n-steps``;
4. prints the plan (``--dry-run``) or runs it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from rlpyt.utils.launching.affinity import (
    encode_affinity,
    get_hyperthread_offset,
    get_n_cpu_core,
    get_n_run_slots,
    get_n_socket,
    prepend_run_slot,
)
from rlpyt.utils.launching.exp_launcher import ExperimentRun, run_experiments
from rlpyt.utils.launching.variant import VariantLevel, make_variants, update_config
from rlpyt.utils.logging.context import get_log_dir

MACHINES = ("local", "8gpu")

# The GPU box the `8gpu` defaults describe: 8 GPUs, 2 sockets of 20 cores, hyperthreads at +40
# (e.g. a DGX-1). Describe another box with --n-gpu, --n-cpu-core, --hyperthread-offset and
# --n-socket (`lscpu` shows them).
GPU_BOX = dict(n_gpu=8, n_cpu_core=40, hyperthread_offset=40, n_socket=2)


def launch_parser(description: str, algos: Sequence[str]) -> argparse.ArgumentParser:
    """The options every launch script takes; ``algos`` are its train scripts (the first is
    the default). Scripts add their own sweep options (``--games``, ``--env-ids``, ...)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--algo", choices=list(algos), default=algos[0], help="train script")
    parser.add_argument(
        "--config-key", default=None, help="key of the train script's configs (default: first)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="runner seeds")
    parser.add_argument("--machine", choices=MACHINES, default="local")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, launch nothing")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny runs (the config module's SMOKE variant)"
    )
    parser.add_argument("--n-steps", type=float, default=None, help="env steps of every run")
    parser.add_argument("--title", default=None, help="experiment directory name")
    parser.add_argument(
        "--cpu-per-run", type=int, default=1, help="local: cores per run (async runs: >= 2)"
    )
    box = parser.add_argument_group("the GPU box (--machine 8gpu)")
    for name, value in GPU_BOX.items():
        box.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    box.add_argument(
        "--contexts-per-gpu", type=int, default=None, help="runs per GPU (family default)"
    )
    box.add_argument("--gpu-per-run", type=int, default=2, help="GPUs of one SyncRl run")
    return parser


def seed_level(seeds: Sequence[int]) -> VariantLevel:
    """One setting per runner seed, in directories ``seed_<s>``."""
    return VariantLevel([("runner", "seed")], [(s,) for s in seeds], [f"seed_{s}" for s in seeds])


def env_level(field: str, values: Sequence[str], eval_env: bool) -> VariantLevel:
    """One setting per game or env id: ``env.<field>`` (and ``eval_env.<field>`` for configs
    that evaluate) set to each of ``values``, in directories named after them."""
    keys = [("env", field)] + ([("eval_env", field)] if eval_env else [])
    return VariantLevel(keys, [(v,) * len(keys) for v in values], list(values))


def affinity_code(args: argparse.Namespace, mode: str, contexts_per_gpu: int = 1) -> str:
    """The machine's affinity code for runs of ``mode`` (``minibatch``, ``sync``, ``async``).

    local: this machine's cores, ``--cpu-per-run`` each (async runs at least 2: one for the
    optimizer, the rest for the sampler); SyncRl needs GPUs and is refused here.
    8gpu: ``minibatch`` runs ``contexts_per_gpu`` per GPU (``--contexts-per-gpu`` overrides),
    ``sync`` runs over ``--gpu-per-run`` GPUs each, ``async`` runs one optimizer GPU and one
    sampler GPU each; the cores are shared equally among the runs (rounded down to a multiple
    of the GPU contexts).

    Raises:
        ValueError: if the machine cannot hold such runs.
    """
    if args.machine == "local":
        kwargs = _local_kwargs(args, mode)
    else:
        kwargs = _gpu_box_kwargs(args, mode, args.contexts_per_gpu or contexts_per_gpu)
    try:
        return encode_affinity(**kwargs)
    except ValueError:  # runs that do not fit the sockets evenly: ignore the sockets
        if kwargs["n_socket"] == 1:
            raise
        return encode_affinity(**{**kwargs, "n_socket": 1})


def _local_kwargs(args: argparse.Namespace, mode: str) -> dict[str, Any]:
    if mode == "sync":
        raise ValueError(
            "sync configs run SyncRl over several GPUs: use --machine 8gpu (a local test of one "
            "replica: run the train script by hand with a 1-core code)"
        )
    n_core = get_n_cpu_core()
    cpu_per_run = max(2, args.cpu_per_run) if mode == "async" else args.cpu_per_run
    if cpu_per_run > n_core:
        raise ValueError(f"{mode} runs need {cpu_per_run} cores; this machine has {n_core}")
    return dict(
        n_cpu_core=n_core // cpu_per_run * cpu_per_run,
        n_gpu=0,
        cpu_per_run=cpu_per_run,
        async_sample=mode == "async",
        hyperthread_offset=get_hyperthread_offset(),
        n_socket=get_n_socket(),
    )


def _gpu_box_kwargs(args: argparse.Namespace, mode: str, contexts_per_gpu: int) -> dict[str, Any]:
    n_gpu, n_core = args.n_gpu, args.n_cpu_core
    box = dict(n_gpu=n_gpu, hyperthread_offset=args.hyperthread_offset, n_socket=args.n_socket)
    if mode == "minibatch":
        n_contexts = n_gpu * contexts_per_gpu
        n_cpu_core = n_core // n_contexts * n_contexts  # an equal share for every context
        return dict(box, contexts_per_gpu=contexts_per_gpu, n_cpu_core=n_cpu_core)
    if mode == "sync":
        return dict(box, gpu_per_run=args.gpu_per_run, n_cpu_core=n_core // n_gpu * n_gpu)
    return dict(box, async_sample=True, sample_gpu_per_run=1, n_cpu_core=n_core)


def merge(base: Mapping, extra: Mapping) -> dict:
    """``base`` with the entries of ``extra`` added or replaced, recursively (new keys are
    allowed: both are variants, checked against the config later)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_module(launch_file: str, algo: str) -> ModuleType:
    """``experiments.configs.<domain>.<family>.<algo>`` for a launch script at
    ``experiments/scripts/<domain>/<family>/launch/<file>``."""
    domain, family = Path(launch_file).resolve().parts[-4:-2]
    return importlib.import_module(f"experiments.configs.{domain}.{family}.{algo}")


def train_script(launch_file: str, algo: str) -> Path:
    """The train script ``../train/<algo>.py`` next to a launch script."""
    return Path(launch_file).resolve().parents[1] / "train" / f"{algo}.py"


def launch(
    args: argparse.Namespace,
    launch_file: str,
    levels: Sequence[VariantLevel],
    contexts_per_gpu: int = 1,
) -> list[ExperimentRun]:
    """Run (or with ``--dry-run`` print) the sweep: every variant of ``levels``, one run each.

    Args:
        args: parsed :func:`launch_parser` options.
        launch_file: the launch script's ``__file__``.
        levels: the sweep's axes (their product is the list of runs).
        contexts_per_gpu: the family's ``minibatch`` runs per GPU on the GPU box.

    Returns:
        The runs' outcomes (none for a dry run).

    Raises:
        KeyError: for an unknown config key, or a variant key the config lacks.
    """
    module = config_module(launch_file, args.algo)
    config_key = args.config_key or next(iter(module.configs))
    if config_key not in module.configs:
        raise KeyError(f"unknown config key {config_key!r}; {args.algo}: {sorted(module.configs)}")
    config = module.configs[config_key]
    variants, log_dirs = make_variants(*levels)
    shrink = dict(module.SMOKE) if args.smoke else {}
    if args.n_steps is not None:
        interval = update_config(config, shrink)["runner"]["log_interval_steps"]
        runner = dict(n_steps=args.n_steps, log_interval_steps=min(interval, args.n_steps))
        shrink = merge(shrink, dict(runner=runner))
    variants = [merge(shrink, v) for v in variants]
    for variant in variants:
        update_config(config, variant)  # a bad key fails here, before any run starts
    code = affinity_code(args, config["mode"], contexts_per_gpu)
    script = train_script(launch_file, args.algo)
    title = args.title or f"{args.algo}_{config_key}" + ("_smoke" if args.smoke else "")
    if args.dry_run:
        print_plan(script, config_key, config["mode"], code, title, variants, log_dirs)
        return []
    return run_experiments(
        script=str(script),
        affinity_code=code,
        experiment_title=title,
        runs_per_setting=1,
        variants=variants,
        log_dirs=log_dirs,
        common_args=(config_key,),
    )


def print_plan(
    script: Path,
    config_key: str,
    mode: str,
    code: str,
    title: str,
    variants: Sequence[Mapping],
    log_dirs: Sequence[str],
) -> None:
    """Print what :func:`launch` would start: the code, its slots, and every run."""
    exp_dir = get_log_dir(title)
    first = os.path.join(exp_dir, log_dirs[0])
    call = [sys.executable, str(script), prepend_run_slot(0, code), first, "0", config_key]
    print(f"train script:  {script}")
    print(f"config key:    {config_key} (mode {mode})")
    print(f"affinity code: {code}")
    print(f"run slots:     {get_n_run_slots(code)} (runs at once)")
    print(f"runs:          {len(variants)}")
    print(f"experiment:    {exp_dir}")
    print(f"first run:     {shlex.join(call)}")
    for log_dir, variant in zip(log_dirs, variants):
        print(f"  {os.path.join(log_dir, 'run_0')}  {json.dumps(variant, sort_keys=True)}")


def exit_code(results: Sequence[ExperimentRun]) -> int:
    """0 if every run succeeded (or none ran), else 1: the launch script's exit status."""
    return int(any(r.returncode != 0 for r in results))


def run_cli(main: Callable[[], int]) -> None:
    """Exit with ``main()``'s status; a bad config key or machine layout (``KeyError``,
    ``ValueError``) ends with its message and status 2 instead of a traceback."""
    try:
        status = main()
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        status = 2
    sys.exit(status)
