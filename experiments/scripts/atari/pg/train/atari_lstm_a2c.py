"""Train A2C with the LSTM agent on an Atari game: one run of a sweep.

By hand, on one core, with the variant in the log dir if it holds one (see experiments/README.md):

    python experiments/scripts/atari/pg/train/atari_lstm_a2c.py 0slt_1cpu_0gpu_0hto <log_dir> 0 a2c
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root

from experiments.configs.atari.pg.atari_lstm_a2c import configs
from experiments.training import is_alternating, load_run, main, make_runner, make_sampler, train
from rlpyt.agents.pg.atari import AlternatingAtariLstmAgent, AtariLstmAgent
from rlpyt.algos.pg.a2c import A2C
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo


def build(affinity: Any, config: dict) -> Any:
    """The run's runner, with its sampler, agent and algorithm (nothing started yet)."""
    sampler = make_sampler(affinity, config, AtariEnv, AtariTrajInfo, wait_reset=True)
    AgentCls = AlternatingAtariLstmAgent if is_alternating(sampler) else AtariLstmAgent
    agent = AgentCls(model_kwargs=config["model"], **config["agent"])
    algo = A2C(optim_kwargs=config["optim"], **config["algo"])
    return make_runner(affinity, config, algo, agent, sampler)


def build_and_train(
    slot_affinity_code: str, log_dir: str, run_ID: int | str, config_key: str
) -> str:
    """Train one run of ``configs[config_key]`` (updated by the variant in ``log_dir``);
    return the run directory."""
    affinity, config = load_run(slot_affinity_code, log_dir, config_key, configs)
    name = f"a2c_lstm_{config['env']['game']}"
    return train(build(affinity, config), log_dir, run_ID, name, config)


if __name__ == "__main__":
    main(build_and_train)
