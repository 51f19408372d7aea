"""TD3 on MuJoCo tasks (``Td3Agent``, ``TD3``).

Fujimoto et al. 2018 ("Addressing Function Approximation Error in Actor-Critic Methods",
arXiv:1802.09477, Section 6 and Table 3): twin critics and an actor of 400 and 300 units, Adam
with learning rate 1e-3 for both, minibatches of 100, soft target updates with tau 0.005, the
policy and targets updated every 2 critic updates, target policy smoothing with noise
N(0, 0.2) clipped at 0.5, exploration noise N(0, 0.1), learning after 10k steps, a replay of
1M transitions, discount 0.99, one update per env step. 1M steps; the deterministic policy is
evaluated on 5 episodes every 10k steps.
"""

from experiments.configs.mujoco.qpg.mujoco_ddpg import SMOKE as DDPG_SMOKE
from experiments.configs.mujoco.qpg.mujoco_ddpg import configs as ddpg_configs

configs = dict()

configs["td3"] = dict(
    ddpg_configs["ddpg"],
    agent=dict(action_std=0.1, target_noise_std=0.2, target_noise_clip=0.5),
    algo=dict(
        discount=0.99,
        batch_size=100,
        min_steps_learn=int(1e4),
        replay_size=int(1e6),
        replay_ratio=100,  # = batch_size: one update per env step
        target_update_tau=0.005,
        policy_update_interval=2,
        target_update_interval=2,
        mu_learning_rate=1e-3,
        q_learning_rate=1e-3,
    ),
)

SMOKE = DDPG_SMOKE
