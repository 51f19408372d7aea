"""A2C on Atari with the feed-forward conv agent (``AtariFfAgent``).

Settings of the synchronous advantage actor-critic of Mnih et al. 2016 ("Asynchronous Methods
for Deep Reinforcement Learning", arXiv:1602.01783) as OpenAI's A2C runs it: 16 envs x 5 steps
per update, the A3C network (two convs, 256 hidden units), discount 0.99, entropy bonus 0.01,
value loss weight 0.5, gradients clipped at norm 0.5, learning rate 7e-4. The optimizer is
Adam (rlpyt's default) in place of the paper's shared RMSProp, without a learning-rate decay.
10M agent steps are 40M frames (frame skip 4).
"""

configs = dict()

configs["a2c"] = dict(
    mode="minibatch",
    env=dict(game="pong", episodic_lives=True),
    sampler=dict(batch_T=5, batch_B=16, max_decorrelation_steps=1000),
    agent=dict(),
    model=dict(fc_sizes=256),
    algo=dict(
        discount=0.99,
        learning_rate=7e-4,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.01,
        clip_grad_norm=0.5,
    ),
    optim=dict(),
    runner=dict(n_steps=10e6, log_interval_steps=1e5, seed=None),
)

# A few hundred steps with a small network: tests and `--smoke` launches.
SMOKE = dict(
    sampler=dict(batch_B=2, max_decorrelation_steps=0),
    model=dict(fc_sizes=32),
    runner=dict(n_steps=160, log_interval_steps=80),
)
