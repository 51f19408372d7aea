"""DDPG on MuJoCo tasks (``DdpgAgent``, ``DDPG``).

Lillicrap et al. 2016 ("Continuous control with deep reinforcement learning",
arXiv:1509.02971, Section 7): actor and critic MLPs of 400 and 300 units, Adam with learning
rates 1e-4 (actor) and 1e-3 (critic), soft target updates with tau 0.001, minibatches of 64, a
replay of 1M transitions, discount 0.99, one update per env step. Exploration is Gaussian
(std 0.1 of the action range, rlpyt's choice, as in Fujimoto et al.'s re-run) instead of the
paper's Ornstein-Uhlenbeck noise, and the critic's L2 weight decay is left out; learning starts
after 10k steps. 1M steps; the deterministic policy is evaluated on 5 episodes every 10k steps.
"""

configs = dict()

configs["ddpg"] = dict(
    mode="minibatch",
    env=dict(id="HalfCheetah-v5"),
    eval_env=dict(id="HalfCheetah-v5"),
    sampler=dict(
        batch_T=1,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=5,
        eval_max_steps=5000,
        eval_max_trajectories=5,
    ),
    agent=dict(action_std=0.1),
    model=dict(hidden_sizes=[400, 300]),
    q_model=dict(hidden_sizes=[400, 300]),
    algo=dict(
        discount=0.99,
        batch_size=64,
        min_steps_learn=int(1e4),
        replay_size=int(1e6),
        replay_ratio=64,  # = batch_size: one update per env step
        target_update_tau=0.001,
        learning_rate=1e-4,
        q_learning_rate=1e-3,
    ),
    optim=dict(),
    runner=dict(n_steps=1e6, log_interval_steps=1e4, seed=None),
)

SMOKE = dict(
    env=dict(id="InvertedPendulum-v5"),
    eval_env=dict(id="InvertedPendulum-v5"),
    sampler=dict(eval_n_envs=1, eval_max_steps=100, eval_max_trajectories=1),
    model=dict(hidden_sizes=[16]),
    q_model=dict(hidden_sizes=[16]),
    algo=dict(batch_size=16, replay_ratio=16, min_steps_learn=32, replay_size=1000),
    runner=dict(n_steps=96, log_interval_steps=48),
)
