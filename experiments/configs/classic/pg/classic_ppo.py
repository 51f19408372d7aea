"""PPO on classic-control tasks (``CategoricalPgAgent``; CartPole-v1 by default).

The tuned CartPole PPO of rl-baselines3-zoo (also ``examples/example_ppo_cartpole.py``): 8
envs x 32 steps per batch, 20 epochs on the whole batch, Adam with learning rate 1e-3 annealed
linearly, clip range 0.2, discount 0.98, GAE lambda 0.8, no entropy bonus, two hidden layers of
64 units. Solves CartPole (average return >= 475) in about 100k steps; other envs (e.g.
Acrobot-v1, ``--env-ids``) run with the same settings, untuned.
"""

configs = dict()

configs["ppo"] = dict(
    mode="minibatch",
    env=dict(id="CartPole-v1"),
    sampler=dict(batch_T=32, batch_B=8, max_decorrelation_steps=0),
    agent=dict(),
    model=dict(hidden_sizes=[64, 64]),
    algo=dict(
        discount=0.98,
        gae_lambda=0.8,
        learning_rate=1e-3,
        linear_lr_schedule=True,
        epochs=20,
        minibatches=1,
        ratio_clip=0.2,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.0,
        clip_grad_norm=0.5,
    ),
    optim=dict(),
    runner=dict(n_steps=1e5, log_interval_steps=1e4, seed=None),
)

SMOKE = dict(
    sampler=dict(batch_T=16, batch_B=2),
    model=dict(hidden_sizes=[16]),
    algo=dict(epochs=2),
    runner=dict(n_steps=128, log_interval_steps=64),
)
