"""Train PPO with the feed-forward agent on an Atari game: one run of a sweep.

By hand, on one core, with the variant in the log dir if it holds one (see experiments/README.md):

    python experiments/scripts/atari/pg/train/atari_ff_ppo.py 0slt_1cpu_0gpu_0hto <log_dir> 0 ppo
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root

from experiments.configs.atari.pg.atari_ff_ppo import configs
from experiments.training import load_run, main, make_runner, make_sampler, train
from rlpyt.agents.pg.atari import AtariFfAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo


def build(affinity: Any, config: dict) -> Any:
    """The run's runner, with its sampler, agent and algorithm (nothing started yet)."""
    sampler = make_sampler(affinity, config, AtariEnv, AtariTrajInfo)
    agent = AtariFfAgent(model_kwargs=config["model"], **config["agent"])
    algo = PPO(optim_kwargs=config["optim"], **config["algo"])
    return make_runner(affinity, config, algo, agent, sampler)


def build_and_train(
    slot_affinity_code: str, log_dir: str, run_ID: int | str, config_key: str
) -> str:
    """Train one run of ``configs[config_key]`` (updated by the variant in ``log_dir``);
    return the run directory."""
    affinity, config = load_run(slot_affinity_code, log_dir, config_key, configs)
    name = f"ppo_ff_{config['env']['game']}"
    return train(build(affinity, config), log_dir, run_ID, name, config)


if __name__ == "__main__":
    main(build_and_train)
