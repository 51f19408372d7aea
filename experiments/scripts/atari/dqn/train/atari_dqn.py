"""Train DQN (or Double, Dueling, prioritized DQN) on an Atari game: one run of a sweep.

By hand, on one core, with the variant in the log dir if it holds one (see experiments/README.md):

    python experiments/scripts/atari/dqn/train/atari_dqn.py 0slt_1cpu_0gpu_0hto <log_dir> 0 dqn
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root

from experiments.configs.atari.dqn.atari_dqn import configs
from experiments.training import load_run, main, make_runner, make_sampler, train
from rlpyt.agents.dqn.atari.atari_dqn_agent import AtariDqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo


def build(affinity: Any, config: dict) -> Any:
    """The run's runner, with its sampler, agent and algorithm (nothing started yet)."""
    sampler = make_sampler(affinity, config, AtariEnv, AtariTrajInfo)
    agent = AtariDqnAgent(model_kwargs=config["model"], **config["agent"])
    algo = DQN(optim_kwargs=config["optim"], **config["algo"])
    return make_runner(affinity, config, algo, agent, sampler)


def build_and_train(
    slot_affinity_code: str, log_dir: str, run_ID: int | str, config_key: str
) -> str:
    """Train one run of ``configs[config_key]`` (updated by the variant in ``log_dir``);
    return the run directory."""
    affinity, config = load_run(slot_affinity_code, log_dir, config_key, configs)
    name = f"dqn_{config['env']['game']}"
    return train(build(affinity, config), log_dir, run_ID, name, config)


if __name__ == "__main__":
    main(build_and_train)
