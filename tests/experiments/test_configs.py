"""Every config of ``experiments/configs`` is well formed and builds its train script's runner,
with the sampler and runner its affinity calls for, on this machine and on the 8-GPU box."""

import json

import pytest

from experiments.launching import affinity_code
from experiments.training import MODES, RUNNERS, is_async
from rlpyt.samplers.async_.gpu_sampler import AsyncGpuSampler
from rlpyt.samplers.async_.serial_sampler import AsyncSerialSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.launching.affinity import affinity_from_code, prepend_run_slot
from rlpyt.utils.launching.variant import update_config

from .scripts import (
    CONFIG_MODULES,
    LAUNCH_SCRIPTS,
    TRAIN_SCRIPTS,
    config_module,
    gpu_box_args,
    load_script,
    local_code,
    script_id,
)

SECTIONS = {"mode", "env", "sampler", "agent", "model", "algo", "optim", "runner"}
CASES = [
    pytest.param(script, key, id=f"{script_id(script)}:{key}")
    for script in TRAIN_SCRIPTS
    for key in config_module(script).configs
]


def test_layout():
    """Each config module has its train script, each train script a launch script's --algo."""
    assert len(TRAIN_SCRIPTS) >= 15 and len(LAUNCH_SCRIPTS) >= 8
    assert sorted(map(script_id, CONFIG_MODULES)) == sorted(map(script_id, TRAIN_SCRIPTS))
    launched = {
        f"{script_id(launch).rsplit('/', 1)[0]}/{algo}"
        for launch in LAUNCH_SCRIPTS
        for algo in load_script(launch).ALGOS
    }
    assert launched == set(map(script_id, TRAIN_SCRIPTS))
    families = {script_id(s).rsplit("/", 1)[0] for s in TRAIN_SCRIPTS}
    assert families >= {"atari/pg", "atari/dqn", "atari/r2d1", "mujoco/pg", "mujoco/qpg"}
    assert families >= {"classic/pg", "classic/dqn", "classic/qpg"}


@pytest.mark.parametrize("script, key", CASES)
def test_config_is_well_formed(script, key):
    module = config_module(script)
    config = module.configs[key]
    assert SECTIONS <= set(config) and config["mode"] in MODES
    assert json.loads(json.dumps(config)) == config  # params.json and variants hold it as is
    smoke = update_config(config, module.SMOKE)  # SMOKE fits every key of its module
    assert smoke["runner"]["n_steps"] <= 256


def runner_parts(script, key, affinity):
    config = config_module(script).configs[key]
    runner = load_script(script).build(affinity, config)
    evaluates = config["sampler"].get("eval_n_envs", 0) > 0
    assert type(runner) is RUNNERS[config["mode"]][evaluates]
    return config, runner


@pytest.mark.parametrize("script, key", CASES)
def test_builds_on_this_machine(script, key):
    """The full config (not shrunk) is accepted by every constructor; on one CPU core the
    sampler steps the envs in the runner's (or the async sampler's) process."""
    mode = config_module(script).configs[key]["mode"]
    _, runner = runner_parts(script, key, affinity_from_code(local_code(mode)))
    assert type(runner.sampler) is (AsyncSerialSampler if mode == "async" else SerialSampler)


@pytest.mark.parametrize("script, key", CASES)
def test_builds_on_the_gpu_box(script, key):
    """Slot 0 of the launch scripts' 8-GPU codes: GPU samplers where there are several envs,
    a SyncRl replica per GPU for sync configs, an optimizer and a sampler GPU for async ones.
    (Nothing touches a GPU before ``train()``.)"""
    mode = config_module(script).configs[key]["mode"]
    code = affinity_code(gpu_box_args(), mode, contexts_per_gpu=2)
    affinity = affinity_from_code(prepend_run_slot(0, code))
    config, runner = runner_parts(script, key, affinity)
    several_envs = config["sampler"]["batch_B"] > 1
    if mode == "async":
        assert is_async(affinity) and affinity["sampler"]["cuda_idx"] == 1
        assert type(runner.sampler) is (AsyncGpuSampler if several_envs else AsyncSerialSampler)
    else:
        if mode == "sync":
            assert [a["cuda_idx"] for a in affinity] == [0, 1]
        else:
            assert affinity["cuda_idx"] == 0
        assert type(runner.sampler) is (GpuSampler if several_envs else SerialSampler)
