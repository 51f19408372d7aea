"""PPO on Atari with the feed-forward conv agent (``AtariFfAgent``).

Schulman et al. 2017 ("Proximal Policy Optimization Algorithms", arXiv:1707.06347, Table 5):
8 envs x 128 steps per batch, 3 epochs of minibatches of 256 steps (4 per batch), Adam with
learning rate 2.5e-4 annealed linearly to 0, clip range 0.1, discount 0.99, GAE lambda 0.95,
value loss weight 1, entropy bonus 0.01; the A3C network (two convs, 256 hidden units) as in the
paper. Advantages are normalised per minibatch and gradients clipped at norm 0.5 (OpenAI's
implementation). The clip range stays 0.1 (the paper anneals it with the learning rate).
10M agent steps are 40M frames.

``ppo_sync2`` is the same run for ``SyncRlEval`` over 2 GPUs: batch sizes are per replica, so
each replica steps 4 envs and the two together make the paper's 8-env batch (each averaged
minibatch gradient covers 2 x 128 = 256 steps).
"""

from rlpyt.utils.launching.variant import update_config

configs = dict()

configs["ppo"] = dict(
    mode="minibatch",
    env=dict(game="pong", episodic_lives=True),
    sampler=dict(batch_T=128, batch_B=8, max_decorrelation_steps=1000),
    agent=dict(),
    model=dict(fc_sizes=256),
    algo=dict(
        discount=0.99,
        gae_lambda=0.95,
        learning_rate=2.5e-4,
        linear_lr_schedule=True,
        epochs=3,
        minibatches=4,
        ratio_clip=0.1,
        value_loss_coeff=1.0,
        entropy_loss_coeff=0.01,
        clip_grad_norm=0.5,
        normalize_advantage=True,
    ),
    optim=dict(),
    runner=dict(n_steps=10e6, log_interval_steps=1e5, seed=None),
)

configs["ppo_sync2"] = update_config(configs["ppo"], dict(mode="sync", sampler=dict(batch_B=4)))

SMOKE = dict(
    sampler=dict(batch_T=16, batch_B=2, max_decorrelation_steps=0),
    model=dict(fc_sizes=32),
    algo=dict(epochs=1, minibatches=2),
    runner=dict(n_steps=128, log_interval_steps=64),
)
