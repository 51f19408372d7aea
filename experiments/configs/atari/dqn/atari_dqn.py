"""DQN and its extensions on Atari (``AtariDqnAgent``, ``DQN``).

- ``dqn``: Mnih et al. 2015 ("Human-level control through deep reinforcement learning",
  Nature 518): replay of 1M transitions, learning from 50k, minibatches of 32, one update every
  4 agent steps (replay ratio 8), target network copied every 10k agent steps (2500 updates),
  epsilon annealed from 1 to 0.1 over 1M steps, 0.05 in evaluation, Huber loss (error clipped
  at 1), discount 0.99, learning rate 2.5e-4. Adam with epsilon 0.01 / 32 (rlpyt's choice, as
  in Dopamine) in place of RMSProp.
- ``double_dueling``: Double DQN targets (van Hasselt et al. 2016) and the dueling network of
  Wang et al. 2016 ("Dueling Network Architectures for Deep RL", arXiv:1511.06581): learning
  rate 6.25e-5, gradients clipped at norm 10, final epsilon 0.01 (0.001 in evaluation).
- ``double_dueling_per``: adds proportional prioritized replay (Schaul et al. 2016,
  arXiv:1511.05952): priority exponent 0.6, importance-sampling exponent annealed from 0.4 to 1
  over the run.
- ``double_dueling_async``: ``double_dueling`` for ``AsyncRlEval``: sampling (CPU workers, or
  a GPU action server) and optimisation in separate processes, at the same replay ratio.

The greedy agent is evaluated every 1M steps for up to 125k steps (full games, no life loss).
10M agent steps are 40M frames.
"""

from rlpyt.utils.launching.variant import update_config

configs = dict()

configs["dqn"] = dict(
    mode="minibatch",
    env=dict(game="pong", episodic_lives=True),
    eval_env=dict(game="pong", episodic_lives=False),
    sampler=dict(
        batch_T=4,
        batch_B=8,
        max_decorrelation_steps=0,
        eval_n_envs=8,
        eval_max_steps=int(125e3),
        eval_max_trajectories=100,
    ),
    agent=dict(eps_final=0.1, eps_eval=0.05),
    model=dict(fc_sizes=512, dueling=False),
    algo=dict(
        discount=0.99,
        batch_size=32,
        min_steps_learn=int(5e4),
        replay_size=int(1e6),
        replay_ratio=8,
        target_update_interval=2500,
        n_step_return=1,
        learning_rate=2.5e-4,
        delta_clip=1.0,
        clip_grad_norm=10.0,
        eps_steps=int(1e6),
        double_dqn=False,
        prioritized_replay=False,
        pri_alpha=0.6,
        pri_beta_init=0.4,
        pri_beta_final=1.0,
        pri_beta_steps=int(10e6),
    ),
    optim=dict(eps=0.01 / 32),
    runner=dict(n_steps=10e6, log_interval_steps=1e6, seed=None),
)

configs["double_dueling"] = update_config(
    configs["dqn"],
    dict(
        agent=dict(eps_final=0.01, eps_eval=0.001),
        model=dict(dueling=True),
        algo=dict(double_dqn=True, learning_rate=6.25e-5),
    ),
)

configs["double_dueling_per"] = update_config(
    configs["double_dueling"], dict(algo=dict(prioritized_replay=True))
)

configs["double_dueling_async"] = update_config(configs["double_dueling"], dict(mode="async"))

SMOKE = dict(
    sampler=dict(batch_T=4, batch_B=2, eval_n_envs=1, eval_max_steps=50, eval_max_trajectories=1),
    model=dict(fc_sizes=32),
    algo=dict(
        batch_size=8,
        min_steps_learn=64,
        replay_size=1000,
        replay_ratio=1,
        target_update_interval=4,
    ),
    runner=dict(n_steps=192, log_interval_steps=96),
)
