"""Launch scripts of ``experiments/``: their dry runs print valid affinity codes and every run,
for this machine and the 8-GPU box; a small classic-control sweep runs here for real."""

import csv
import json
import os
import re
import sys

import pytest

from experiments.launching import affinity_code, merge, run_cli
from experiments.summarize import main as summarize
from rlpyt.utils.launching.affinity import (
    affinity_from_code,
    decode_affinity,
    get_n_cpu_core,
    get_n_run_slots,
    prepend_run_slot,
)
from tests import subprocesses

from .scripts import LAUNCH_SCRIPTS, ROOT, config_module, gpu_box_args, load_script, script_id

LAUNCHES = {script_id(s): s for s in LAUNCH_SCRIPTS}


def dry_run(capsys, launch, *argv):
    """Run ``launch``'s ``main`` with ``--dry-run``; return the printed fields and run lines."""
    assert load_script(launch).main(["--dry-run", *argv]) == 0
    out = capsys.readouterr().out
    fields = dict(re.findall(r"^([a-z ]+):\s+(.*)$", out, re.M))
    runs = [line.split(None, 1) for line in out.splitlines() if line.startswith("  ")]
    return fields, runs


def check_code(code, n_slots):
    """The printed code holds ``n_slots`` runs and every slot decodes."""
    assert get_n_run_slots(code) == n_slots
    return [affinity_from_code(prepend_run_slot(slot, code)) for slot in range(n_slots)]


def default_settings(launch):
    module = load_script(launch)
    return list(getattr(module, "GAMES", None) or module.ENV_IDS)


@pytest.mark.parametrize("machine", ["local", "8gpu"])
@pytest.mark.parametrize("launch", LAUNCH_SCRIPTS, ids=script_id)
def test_dry_run(capsys, launch, machine):
    fields, runs = dry_run(capsys, launch, "--machine", machine, "--seeds", "3", "7")
    code, n_slots = fields["affinity code"], int(fields["run slots"].split()[0])
    affinities = check_code(code, n_slots)
    settings = default_settings(launch)
    assert int(fields["runs"]) == len(runs) == 2 * len(settings)
    assert [d for d, _ in runs[:2]] == [
        f"{settings[0]}/seed_3/run_0",
        f"{settings[0]}/seed_7/run_0",
    ]
    assert json.loads(runs[1][1])["runner"] == dict(seed=7)
    params = decode_affinity(code)
    if machine == "local":
        assert params["gpu"] == 0 and n_slots == get_n_cpu_core()  # a core per run
        assert all(a["cuda_idx"] is None for a in affinities)
    else:
        assert params["gpu"] == 8 and n_slots == 8 * params.get("cxg", 1)
        assert sorted({a["cuda_idx"] for a in affinities}) == list(range(8))


ALGO_KEYS = [
    pytest.param(launch, algo, key, id=f"{script_id(launch)}:{algo}:{key}")
    for launch in LAUNCH_SCRIPTS
    for algo in load_script(launch).ALGOS
    for key in config_module(launch.parents[1] / "train" / f"{algo}.py").configs
]


@pytest.mark.parametrize("launch, algo, key", ALGO_KEYS)
def test_dry_run_of_every_config_key_on_the_gpu_box(capsys, launch, algo, key):
    """The code suits the config's mode: GPU contexts, SyncRl replicas, or async GPUs."""
    argv = ["--machine", "8gpu", "--algo", algo, "--config-key", key, "--smoke"]
    fields, runs = dry_run(capsys, launch, *argv)
    module = config_module(launch.parents[1] / "train" / f"{algo}.py")
    mode = module.configs[key]["mode"]
    assert fields["config key"] == f"{key} (mode {mode})"
    assert fields["train script"].endswith(f"/train/{algo}.py")
    assert fields["experiment"].endswith(f"{algo}_{key}_smoke")
    affinities = check_code(fields["affinity code"], int(fields["run slots"].split()[0]))
    if mode == "sync":
        assert all(isinstance(a, list) and len(a) == 2 for a in affinities)  # --gpu-per-run 2
    elif mode == "async":
        assert len(affinities) == 4
        assert all(a["optimizer"][0]["cuda_idx"] != a["sampler"]["cuda_idx"] for a in affinities)
    else:
        assert all(isinstance(a, dict) and a["cuda_idx"] is not None for a in affinities)
    smoke_steps = module.SMOKE["runner"]["n_steps"]
    assert json.loads(runs[0][1])["runner"]["n_steps"] == smoke_steps


def test_local_machine_refuses_sync_and_gives_async_runs_two_cores(capsys):
    launch = LAUNCHES["atari/pg/launch_atari_pg"]
    with pytest.raises(ValueError, match="--machine 8gpu"):
        load_script(launch).main(
            ["--dry-run", "--algo", "atari_ff_ppo", "--config-key", "ppo_sync2"]
        )
    if get_n_cpu_core() >= 2:
        argv = ["--config-key", "dqn_async", "--seeds", "0"]
        fields, _ = dry_run(capsys, LAUNCHES["classic/dqn/launch_classic_dqn"], *argv)
        assert decode_affinity(fields["affinity code"])["cpr"] == 2
        for affinity in check_code(fields["affinity code"], get_n_cpu_core() // 2):
            assert len(affinity["optimizer"]) == 1 and affinity["sampler"]["workers_cpus"]


def test_n_steps_and_bad_keys(capsys):
    launch = LAUNCHES["classic/qpg/launch_classic_qpg"]
    _, runs = dry_run(capsys, launch, "--algo", "classic_td3", "--n-steps", "1000", "--seeds", "0")
    assert json.loads(runs[0][1])["runner"] == dict(seed=0, n_steps=1000, log_interval_steps=1000)
    with pytest.raises(KeyError, match="unknown config key 'td4'"):
        load_script(launch).main(["--dry-run", "--algo", "classic_td3", "--config-key", "td4"])
    with pytest.raises(SystemExit):  # argparse: not one of the script's train scripts
        load_script(launch).main(["--dry-run", "--algo", "classic_ppo"])
    assert merge(dict(a=dict(b=1, c=2)), dict(a=dict(c=3), d=4)) == dict(a=dict(b=1, c=3), d=4)


def test_gpu_box_layouts():
    """Cores are shared out evenly, rounded down to whole contexts; sockets are kept."""
    code = affinity_code(gpu_box_args(), "minibatch", contexts_per_gpu=2)
    assert code == "32cpu_8gpu_2cxg_40hto_2skt"  # 16 runs of 2 cores (40 // 16 = 2)
    assert affinity_code(gpu_box_args(), "minibatch", contexts_per_gpu=5) == "40cpu_8gpu_5cxg_2skt"
    assert affinity_code(gpu_box_args(gpu_per_run=4), "sync") == "40cpu_8gpu_4gpr_2skt"
    assert affinity_code(gpu_box_args(), "async") == "40cpu_8gpu_2skt_1ass_1sgr"
    small_box = gpu_box_args(n_gpu=4, n_cpu_core=16, hyperthread_offset=0, n_socket=1)
    assert affinity_code(small_box, "minibatch") == "16cpu_4gpu_0hto"


def run_command(argv, env=None, timeout=200):  # below the test's own limit
    proc = subprocesses.run_script([sys.executable, *argv], timeout, cwd=ROOT, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def test_command_line_errors_are_short(capsys):
    main = load_script(LAUNCHES["classic/pg/launch_classic_ppo"]).main
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: main(["--dry-run", "--config-key", "nope"]))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: unknown config key 'nope'; classic_ppo: ['ppo']\n"


@pytest.mark.timeout(240)
def test_classic_sweep_on_this_machine(tmp_path, capsys):
    """The documented local sweep, shrunk: 2 seeds of PPO on CartPole, one per core."""
    launch = LAUNCHES["classic/pg/launch_classic_ppo"]
    env = dict(os.environ, RLPYT_DATA_DIR=str(tmp_path))
    status, out = run_command([str(launch), "--smoke", "--seeds", "0", "1"], env=env)
    assert status == 0, out[-3000:]
    assert "2 of 2 runs succeeded" in out
    (exp_dir,) = tmp_path.glob("local/*/classic_ppo_ppo_smoke")
    smoke = config_module(launch.parents[1] / "train" / "classic_ppo.py").SMOKE
    for seed in (0, 1):
        run_dir = exp_dir / "CartPole-v1" / f"seed_{seed}" / "run_0"
        with open(run_dir / "progress.csv") as f:
            rows = list(csv.DictReader(f))
        assert int(rows[-1]["Diagnostics/CumSteps"]) == smoke["runner"]["n_steps"]
        params = json.loads((run_dir / "params.json").read_text())
        assert params["runner"]["seed"] == seed and params["env"]["id"] == "CartPole-v1"
        assert (run_dir / "params.pkl").exists()  # the last snapshot
    summarize([str(exp_dir), "--column", "Diagnostics/CumSteps"])
    out = capsys.readouterr().out
    assert "CartPole-v1/seed_1/run_0" in out and "CartPole-v1: 128 (2 runs)" in out
