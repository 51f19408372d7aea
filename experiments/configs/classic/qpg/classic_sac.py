"""SAC on classic-control tasks with continuous actions (``SacAgent``; Pendulum-v1 by default).

Haarnoja et al. 2018's SAC (``mujoco_sac``: 256 x 256 networks, minibatches of 256, tau 0.005,
automatic entropy tuning, one update per env step) with learning rate 1e-3 and learning after
1k steps, for 20k steps: the Pendulum settings of rl-baselines3-zoo.
"""

from experiments.configs.classic.qpg.classic_td3 import SMOKE as TD3_SMOKE
from experiments.configs.classic.qpg.classic_td3 import configs as td3_configs

configs = dict()

configs["sac"] = dict(
    td3_configs["td3"],
    agent=dict(),
    algo=dict(
        discount=0.99,
        batch_size=256,
        min_steps_learn=1000,
        replay_size=int(1e6),
        replay_ratio=256,  # = batch_size: one update per env step
        target_update_tau=0.005,
        target_update_interval=1,
        learning_rate=1e-3,
        target_entropy="auto",
    ),
    runner=dict(n_steps=2e4, log_interval_steps=2500, seed=None),
)

SMOKE = TD3_SMOKE
