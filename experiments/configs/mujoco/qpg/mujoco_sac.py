"""SAC on MuJoCo tasks (``SacAgent``, ``SAC``: twin critics, automatic entropy tuning).

Haarnoja et al. 2018 ("Soft Actor-Critic Algorithms and Applications", arXiv:1812.05905,
Table 1): policy and twin critics of 256 and 256 units, Adam with learning rate 3e-4,
minibatches of 256, a replay of 1M transitions, discount 0.99, soft target updates with tau
0.005 after every update, one update per env step, the entropy target -dim(A). Learning starts
after 10k steps. 1M steps; the deterministic policy is evaluated on 5 episodes every 10k steps.
"""

from experiments.configs.mujoco.qpg.mujoco_ddpg import SMOKE as DDPG_SMOKE
from experiments.configs.mujoco.qpg.mujoco_ddpg import configs as ddpg_configs

configs = dict()

configs["sac"] = dict(
    ddpg_configs["ddpg"],
    agent=dict(),
    model=dict(hidden_sizes=[256, 256]),
    q_model=dict(hidden_sizes=[256, 256]),
    algo=dict(
        discount=0.99,
        batch_size=256,
        min_steps_learn=int(1e4),
        replay_size=int(1e6),
        replay_ratio=256,  # = batch_size: one update per env step
        target_update_tau=0.005,
        target_update_interval=1,
        learning_rate=3e-4,
        target_entropy="auto",
    ),
)

SMOKE = DDPG_SMOKE
