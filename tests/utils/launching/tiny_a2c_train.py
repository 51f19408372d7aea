"""An rlpyt-style train script: A2C on CartPole for a handful of steps, on its slot's affinity.

Written as rlpyt's experiment scripts are, against the original API only::

    python tiny_a2c_train.py <slot_affinity_code> <log_dir> <run_ID> <config_key>
"""

import sys

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.a2c import A2C
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.launching.affinity import affinity_from_code
from rlpyt.utils.launching.variant import load_variant, update_config
from rlpyt.utils.logging.context import logger_context

configs = dict(
    tiny=dict(
        env=dict(id="CartPole-v1"),
        sampler=dict(batch_T=8, batch_B=2, max_decorrelation_steps=0),
        algo=dict(discount=0.99, learning_rate=1e-3),
        model=dict(hidden_sizes=[8]),
        runner=dict(n_steps=64, log_interval_steps=16, seed=0),
    )
)


def build_and_train(slot_affinity_code, log_dir, run_ID, config_key):
    affinity = affinity_from_code(slot_affinity_code)
    config = configs[config_key]
    variant = load_variant(log_dir)
    config = update_config(config, variant)

    sampler = SerialSampler(EnvCls=gym_make, env_kwargs=config["env"], **config["sampler"])
    algo = A2C(**config["algo"])
    agent = CategoricalPgAgent(model_kwargs=config["model"])
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        affinity=affinity,
        progress_bar=False,
        **config["runner"],
    )
    name = "a2c_" + config["env"]["id"]
    with logger_context(log_dir, run_ID, name, config):
        runner.train()


if __name__ == "__main__":
    build_and_train(*sys.argv[1:])
