"""DQN on classic-control tasks (``DqnAgent`` with an MLP Q-network; CartPole-v1 by default).

- ``dqn``: the tuned CartPole DQN of rl-baselines3-zoo with a smaller network and half the
  updates (also ``examples/example_dqn_cartpole.py``): Double DQN, dueling head on two layers
  of 128 units, 3-step returns, Adam with learning rate 2.3e-3, minibatches of 64, replay of
  100k, learning from 1k steps, target copied every 128 updates, epsilon to 0.04 over 8k
  steps, 4 envs x 64 steps per iteration at replay ratio 16. Solves CartPole within 50k steps.
- ``dqn_async``: the same for ``AsyncRlEval``: sampling in its own process beside the
  optimizer (two cores; one run at a time on a 2-core machine).

The greedy agent is evaluated on 4 full episodes every 5k steps.
"""

from rlpyt.utils.launching.variant import update_config

configs = dict()

configs["dqn"] = dict(
    mode="minibatch",
    env=dict(id="CartPole-v1"),
    eval_env=dict(id="CartPole-v1"),
    sampler=dict(
        batch_T=64,
        batch_B=4,
        max_decorrelation_steps=0,
        eval_n_envs=4,
        eval_max_steps=4 * 500,
        eval_max_trajectories=4,
    ),
    agent=dict(eps_final=0.04),
    model=dict(hidden_sizes=[128, 128], dueling=True),
    algo=dict(
        discount=0.99,
        batch_size=64,
        min_steps_learn=1000,
        replay_size=int(1e5),
        replay_ratio=16,
        target_update_interval=128,
        learning_rate=2.3e-3,
        eps_steps=8000,
        double_dqn=True,
        n_step_return=3,
        delta_clip=1.0,
        clip_grad_norm=10.0,
    ),
    optim=dict(eps=0.01 / 64),
    runner=dict(n_steps=5e4, log_interval_steps=5e3, seed=None),
)

configs["dqn_async"] = update_config(configs["dqn"], dict(mode="async"))

SMOKE = dict(
    sampler=dict(batch_T=16, batch_B=2, eval_n_envs=1, eval_max_steps=100),
    model=dict(hidden_sizes=[16]),
    algo=dict(batch_size=16, min_steps_learn=64, replay_size=1000, target_update_interval=4),
    runner=dict(n_steps=192, log_interval_steps=96),
)
