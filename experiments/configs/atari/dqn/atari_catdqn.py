"""Distributional DQN on Atari (``AtariCatDqnAgent``, ``CategoricalDQN``).

- ``c51``: Bellemare et al. 2017 ("A Distributional Perspective on Reinforcement Learning",
  arXiv:1707.06887): 51 atoms on [-10, 10], Adam with learning rate 2.5e-4 and epsilon
  0.01 / 32, epsilon-greedy to 0.01 over 1M steps (0.001 in evaluation); otherwise the Nature
  DQN protocol (1M replay, learning from 50k steps, 32 per minibatch, an update every 4 steps,
  target copied every 10k steps).
- ``rainbow``: Hessel et al. 2018 ("Rainbow", arXiv:1710.02298, Table 1): C51 with Double
  DQN targets, a dueling network, noisy nets (sigma_0 0.5) instead of epsilon-greedy, 3-step
  returns, prioritized replay (exponent 0.5, importance sampling annealed from 0.4 to 1),
  Adam with learning rate 6.25e-5 and epsilon 1.5e-4, learning from 20k steps (80k frames),
  target copied every 8k steps (32k frames, 2000 updates).
- ``rainbow_async``: ``rainbow`` for ``AsyncRlEval`` (sampling and optimisation in separate
  processes).

10M agent steps are 40M frames; evaluation as in ``atari_dqn``.
"""

from experiments.configs.atari.dqn.atari_dqn import SMOKE as DQN_SMOKE
from experiments.configs.atari.dqn.atari_dqn import configs as dqn_configs
from rlpyt.utils.launching.variant import update_config

configs = dict()

_dqn = dqn_configs["dqn"]
configs["c51"] = dict(
    _dqn,
    agent=dict(eps_init=1.0, eps_final=0.01, eps_eval=0.001, n_atoms=51),
    model=dict(fc_sizes=512, dueling=False, noisy=False),
    # DQN's settings but the Huber threshold: the loss is a cross-entropy.
    algo=dict(
        {k: v for k, v in _dqn["algo"].items() if k != "delta_clip"}, V_min=-10.0, V_max=10.0
    ),
)

configs["rainbow"] = update_config(
    configs["c51"],
    dict(
        agent=dict(eps_init=0.0, eps_final=0.0, eps_eval=0.0),  # the noisy layers explore
        model=dict(dueling=True, noisy=True),
        algo=dict(
            double_dqn=True,
            prioritized_replay=True,
            pri_alpha=0.5,
            n_step_return=3,
            learning_rate=6.25e-5,
            min_steps_learn=int(2e4),
            target_update_interval=2000,
        ),
        optim=dict(eps=1.5e-4),
    ),
)

configs["rainbow_async"] = update_config(configs["rainbow"], dict(mode="async"))

SMOKE = DQN_SMOKE
