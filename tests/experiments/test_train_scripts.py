"""Train scripts of ``experiments/`` run a few hundred steps (their config module's ``SMOKE``
variant) and log; their errors for bad keys and mismatched affinities are clear."""

import csv
import json
import os

import pytest
import torch

from experiments.training import load_config, load_run
from rlpyt.utils.launching.affinity import make_affinity
from rlpyt.utils.launching.variant import save_variant, update_config
from rlpyt.utils.logging import logger

from .scripts import (
    ASYNC_CODE,
    CPU_CODE,
    EXPERIMENTS,
    TRAIN_SCRIPTS,
    config_module,
    load_script,
    local_code,
    script_id,
)

SCRIPTS = {script_id(s): s for s in TRAIN_SCRIPTS}


@pytest.fixture(autouse=True)
def quiet_logger():
    threads = torch.get_num_threads()  # runners set it from the affinity
    with logger.preserved_state():
        logger.disable()
        yield
    torch.set_num_threads(threads)


def smoke_run(tmp_path, name, key):
    """Run ``build_and_train`` of train script ``name`` on its SMOKE variant; check the logs."""
    script = SCRIPTS[name]
    smoke = config_module(script).SMOKE
    log_dir = str(tmp_path / "setting")
    save_variant(smoke, log_dir)
    mode = config_module(script).configs[key]["mode"]
    run_dir = load_script(script).build_and_train(local_code(mode), log_dir, 0, key)
    assert run_dir == os.path.join(log_dir, "run_0")
    with open(os.path.join(run_dir, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    expected = update_config(config_module(script).configs[key], smoke)
    assert len(rows) >= 2
    assert int(rows[-1]["Diagnostics/CumSteps"]) == expected["runner"]["n_steps"]
    with open(os.path.join(run_dir, "params.json")) as f:
        params = json.load(f)
    assert params["runner"] == expected["runner"] and params["run_ID"] == 0
    return rows


CLASSIC = [
    ("classic/pg/classic_ppo", "ppo"),
    ("classic/dqn/classic_dqn", "dqn"),
    ("classic/dqn/classic_dqn", "dqn_async"),
    ("classic/qpg/classic_sac", "sac"),
    ("classic/qpg/classic_td3", "td3"),
]


@pytest.mark.parametrize("name, key", CLASSIC, ids=[f"{n}:{k}" for n, k in CLASSIC])
def test_classic(tmp_path, name, key):
    smoke_run(tmp_path, name, key)


MUJOCO = [
    ("mujoco/pg/mujoco_ppo", "ppo_1M"),
    ("mujoco/qpg/mujoco_ddpg", "ddpg"),
    ("mujoco/qpg/mujoco_td3", "td3"),
    ("mujoco/qpg/mujoco_sac", "sac"),
]


@pytest.mark.mujoco
@pytest.mark.parametrize("name, key", MUJOCO, ids=[f"{n}:{k}" for n, k in MUJOCO])
def test_mujoco(tmp_path, name, key):
    pytest.importorskip("mujoco")
    smoke_run(tmp_path, name, key)


# One per family: the recurrent PG agent (WaitReset collectors), a replayed DQN, R2D1.
ATARI = [
    ("atari/pg/atari_lstm_ppo", "ppo"),
    ("atari/dqn/atari_dqn", "double_dueling"),
    ("atari/r2d1/atari_r2d1", "r2d1"),
]


@pytest.mark.atari
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, key", ATARI, ids=[f"{n}:{k}" for n, k in ATARI])
def test_atari(tmp_path, name, key):
    pytest.importorskip("ale_py")
    smoke_run(tmp_path, name, key)


@pytest.mark.atari
@pytest.mark.timeout(120)
def test_sync_config_over_two_replicas(tmp_path):
    """The multi-GPU path (a list affinity, SyncRl), here over two CPU replicas."""
    pytest.importorskip("ale_py")
    script = SCRIPTS["atari/pg/atari_ff_ppo"]
    config = update_config(config_module(script).configs["ppo_sync2"], config_module(script).SMOKE)
    affinity = [
        make_affinity(run_slot=r, n_cpu_core=2, n_gpu=0, hyperthread_offset=0, set_affinity=False)
        for r in range(2)
    ]
    runner = load_script(script).build(affinity, config)
    with logger.preserved_state():
        run_dir = load_script(script).train(runner, str(tmp_path), 0, "sync", config)
    with open(os.path.join(run_dir, "progress.csv")) as f:
        rows = list(csv.DictReader(f))
    # n_steps counts both replicas' steps: 2 x 16 x 2 per iteration.
    assert int(rows[-1]["Diagnostics/CumSteps"]) == config["runner"]["n_steps"]
    assert runner.world_size == 2


def test_bad_keys_and_affinities(tmp_path):
    configs = config_module(SCRIPTS["classic/dqn/classic_dqn"]).configs
    with pytest.raises(KeyError, match="unknown config key 'dqm'.*'dqn', 'dqn_async'"):
        load_config(configs, "dqm", str(tmp_path))
    save_variant(dict(algo=dict(learnin_rate=1e-3)), str(tmp_path))
    with pytest.raises(KeyError, match="algo.learnin_rate"):
        load_config(configs, "dqn", str(tmp_path))
    save_variant({}, str(tmp_path))
    with pytest.raises(ValueError, match="AsyncRl"):
        load_run(CPU_CODE, str(tmp_path), "dqn_async", configs)
    with pytest.raises(ValueError, match="needs? a config with mode 'async'"):
        load_run(ASYNC_CODE, str(tmp_path), "dqn", configs)


def test_runs_without_a_variant_file(tmp_path):
    """By hand, a log dir without variant_config.json runs the config key as it is."""
    configs = config_module(SCRIPTS["classic/pg/classic_ppo"]).configs
    _, config = load_run(CPU_CODE, str(tmp_path / "nothing_here"), "ppo", configs)
    assert config == configs["ppo"]


def test_train_scripts_take_the_launcher_arguments():
    """``run_experiments`` calls ``python <script> <code> <log_dir> <run_ID> <config_key>``."""
    for script in TRAIN_SCRIPTS:
        text = script.read_text()
        assert 'if __name__ == "__main__":\n    main(build_and_train)' in text, script
        assert str(script.relative_to(EXPERIMENTS.parent)) in text  # its usage line
