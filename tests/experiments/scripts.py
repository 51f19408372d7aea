"""Finding and loading the scripts and configs of ``experiments/``, for the tests here."""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from experiments.launching import GPU_BOX
from rlpyt.utils.launching.affinity import encode_affinity, prepend_run_slot

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
TRAIN_SCRIPTS = sorted(EXPERIMENTS.glob("scripts/*/*/train/*.py"))
LAUNCH_SCRIPTS = sorted(EXPERIMENTS.glob("scripts/*/*/launch/*.py"))
CONFIG_MODULES = sorted(p for p in EXPERIMENTS.glob("configs/*/*/*.py") if p.name != "__init__.py")

# Codes for runs inside the test process: no CPU pinning (it would outlive the run).
CPU_CODE = prepend_run_slot(
    0, encode_affinity(n_cpu_core=1, n_gpu=0, hyperthread_offset=0, n_socket=1, set_affinity=False)
)
ASYNC_CODE = prepend_run_slot(
    0,
    encode_affinity(
        n_cpu_core=2, n_gpu=0, cpu_per_run=2, async_sample=True, hyperthread_offset=0,
        n_socket=1, set_affinity=False,
    ),
)  # fmt: skip


def script_id(path: Path) -> str:
    """``<domain>/<family>/<name>`` of a script (``scripts/<domain>/<family>/<kind>/<name>``)
    or a config module (``configs/<domain>/<family>/<name>``)."""
    domain, family = (
        path.parts[-4:-2] if path.parent.name in ("train", "launch") else (path.parts[-3:-1])
    )
    return f"{domain}/{family}/{path.stem}"


@functools.cache
def load_script(path: Path) -> ModuleType:
    """Import a train or launch script by path (as ``run_experiments`` runs it, minus
    ``__main__``)."""
    name = "experiments_script_" + script_id(path).replace("/", "_") + f"_{path.parent.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_module(train_script: Path) -> ModuleType:
    """The config module of a train script: ``experiments.configs.<domain>.<family>.<name>``."""
    domain, family = train_script.parts[-4:-2]
    return importlib.import_module(f"experiments.configs.{domain}.{family}.{train_script.stem}")


def local_code(mode: str) -> str:
    """A code with run slot for an in-process run of a config of ``mode``."""
    return ASYNC_CODE if mode == "async" else CPU_CODE


def gpu_box_args(**changes) -> argparse.Namespace:
    """The GPU-box options of ``launch_parser`` at their defaults."""
    args = dict(GPU_BOX, machine="8gpu", contexts_per_gpu=None, gpu_per_run=2, cpu_per_run=1)
    return argparse.Namespace(**{**args, **changes})
