"""Train R2D1 on an Atari game: one run of a sweep.

By hand, on one core, with the variant in the log dir if it holds one (see experiments/README.md):

    python experiments/scripts/atari/r2d1/train/atari_r2d1.py 0slt_1cpu_0gpu_0hto <log_dir> 0 r2d1
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root

from experiments.configs.atari.r2d1.atari_r2d1 import configs
from experiments.training import is_alternating, load_run, main, make_runner, make_sampler, train
from rlpyt.agents.dqn.atari.atari_r2d1_agent import AtariR2d1Agent, AtariR2d1AlternatingAgent
from rlpyt.algos.dqn.r2d1 import R2D1
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo


def build(affinity: Any, config: dict) -> Any:
    """The run's runner, with its sampler, agent and algorithm (nothing started yet)."""
    sampler = make_sampler(affinity, config, AtariEnv, AtariTrajInfo)
    AgentCls = AtariR2d1AlternatingAgent if is_alternating(sampler) else AtariR2d1Agent
    agent = AgentCls(model_kwargs=config["model"], **config["agent"])
    algo = R2D1(optim_kwargs=config["optim"], **config["algo"])
    return make_runner(affinity, config, algo, agent, sampler)


def build_and_train(
    slot_affinity_code: str, log_dir: str, run_ID: int | str, config_key: str
) -> str:
    """Train one run of ``configs[config_key]`` (updated by the variant in ``log_dir``);
    return the run directory."""
    affinity, config = load_run(slot_affinity_code, log_dir, config_key, configs)
    name = f"r2d1_{config['env']['game']}"
    return train(build(affinity, config), log_dir, run_ID, name, config)


if __name__ == "__main__":
    main(build_and_train)
