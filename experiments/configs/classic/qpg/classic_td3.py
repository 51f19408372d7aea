"""TD3 on classic-control tasks with continuous actions (``Td3Agent``; Pendulum-v1 by default).

Fujimoto et al. 2018's TD3 (``mujoco_td3``) with networks of 256 and 256 units, minibatches
of 256 and learning after 1k steps (also ``examples/example_td3_pendulum.py``): solves
Pendulum (average return around -150 to -200) within about 15k steps. The time limit (200
steps, Pendulum's only ending) is a truncation that the replay bootstraps through.
"""

configs = dict()

configs["td3"] = dict(
    mode="minibatch",
    env=dict(id="Pendulum-v1"),
    eval_env=dict(id="Pendulum-v1"),
    sampler=dict(
        batch_T=1,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=1,
        eval_max_steps=2000,
        eval_max_trajectories=10,
    ),
    agent=dict(action_std=0.1, target_noise_std=0.2, target_noise_clip=0.5),
    model=dict(hidden_sizes=[256, 256]),
    q_model=dict(hidden_sizes=[256, 256]),
    algo=dict(
        discount=0.99,
        batch_size=256,
        min_steps_learn=1000,
        replay_size=int(1e6),
        replay_ratio=256,  # = batch_size: one update per env step
        target_update_tau=0.005,
        policy_update_interval=2,
        target_update_interval=2,
        mu_learning_rate=1e-3,
        q_learning_rate=1e-3,
    ),
    optim=dict(),
    runner=dict(n_steps=15e3, log_interval_steps=2500, seed=None),
)

SMOKE = dict(
    sampler=dict(eval_max_steps=200, eval_max_trajectories=1),
    model=dict(hidden_sizes=[16]),
    q_model=dict(hidden_sizes=[16]),
    algo=dict(batch_size=16, replay_ratio=16, min_steps_learn=32, replay_size=1000),
    runner=dict(n_steps=96, log_interval_steps=48),
)
