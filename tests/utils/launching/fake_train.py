"""Fake train script for the launcher tests: logs a few rows, records when and where it ran.

Launched by ``run_experiments`` as ``python fake_train.py <slot_affinity_code> <log_dir> <run_ID>
<config_key>``. Its variant may change ``run.sleep_s``, ``run.exit_code`` (exit with it after
logging), ``run.ignore_signals`` (SIGINT and SIGTERM) and ``run.spawn_child`` (start a
``sleep`` in its process group, standing in for a sampler worker). It writes
``<run_dir>/pids.json`` at start and ``<run_dir>/timing.json`` at the end.
"""

import time

START = time.time()  # before the imports, so the recorded interval covers the whole process

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from rlpyt.utils.launching.affinity import affinity_from_code, remove_run_slot  # noqa: E402
from rlpyt.utils.launching.arguments import get_args  # noqa: E402
from rlpyt.utils.launching.variant import load_variant, update_config  # noqa: E402
from rlpyt.utils.logging import logger  # noqa: E402
from rlpyt.utils.logging.context import logger_context  # noqa: E402

CONFIGS = dict(
    default=dict(
        run=dict(n_itr=3, sleep_s=0.0, exit_code=0, ignore_signals=False, spawn_child=False),
        tag="none",
    )
)


def write_json(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.replace(path + ".tmp", path)


def build_and_train(slot_affinity_code, log_dir, run_ID, config_key):
    affinity = affinity_from_code(slot_affinity_code)
    config = update_config(CONFIGS[config_key], load_variant(log_dir))
    run = config["run"]
    if run["ignore_signals"]:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    with logger_context(log_dir, run_ID, "fake", config) as run_dir:
        pids = [os.getpid()]
        if run["spawn_child"]:
            pids.append(subprocess.Popen(["sleep", "120"]).pid)
        write_json(os.path.join(run_dir, "pids.json"), pids)
        for itr in range(run["n_itr"]):
            time.sleep(run["sleep_s"] / run["n_itr"])
            logger.record_tabular("Diagnostics/Iteration", itr)
            logger.record_tabular("ReturnAverage", float(itr))
            logger.dump_tabular()
        timing = dict(
            start=START,
            end=time.time(),
            slot=remove_run_slot(slot_affinity_code)[0],
            cpus=cpus,
            all_cpus=list(affinity["all_cpus"]),
            tag=config["tag"],
        )
        write_json(os.path.join(run_dir, "timing.json"), timing)
    if run["exit_code"]:
        sys.exit(run["exit_code"])


if __name__ == "__main__":
    args = get_args()
    build_and_train(args.slot_affinity_code, args.log_dir, args.run_ID, args.config_key)
