"""PPO on MuJoCo tasks (``MujocoFfAgent``: Gaussian policy, observation normalisation).

Schulman et al. 2017 ("Proximal Policy Optimization Algorithms", arXiv:1707.06347, Table 3):
1M steps, one env with a horizon of 2048 steps per batch, 10 epochs of minibatches of 64 steps
(32 per batch), Adam with learning rate 3e-4 (constant), clip range 0.2, discount 0.99, GAE
lambda 0.95, no entropy bonus, two hidden layers of 64 tanh units. Advantages are normalised
per minibatch and gradients clipped at norm 0.5 (OpenAI's implementation); the value loss
weight is 0.5 (the policy and value networks are separate, so it only scales the value
gradient). The time limit (1000 steps) is a truncation: PPO bootstraps through it. The
deterministic policy is evaluated on 5 episodes every 20k steps.
"""

configs = dict()

configs["ppo_1M"] = dict(
    mode="minibatch",
    env=dict(id="HalfCheetah-v5"),
    eval_env=dict(id="HalfCheetah-v5"),
    sampler=dict(
        batch_T=2048,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=5,
        eval_max_steps=5000,
        eval_max_trajectories=5,
    ),
    agent=dict(),
    model=dict(hidden_sizes=[64, 64], normalize_observation=True),
    algo=dict(
        discount=0.99,
        gae_lambda=0.95,
        learning_rate=3e-4,
        linear_lr_schedule=False,
        epochs=10,
        minibatches=32,
        ratio_clip=0.2,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.0,
        clip_grad_norm=0.5,
        normalize_advantage=True,
    ),
    optim=dict(),
    runner=dict(n_steps=1e6, log_interval_steps=2e4, seed=None),
)

SMOKE = dict(
    env=dict(id="InvertedPendulum-v5"),
    eval_env=dict(id="InvertedPendulum-v5"),
    sampler=dict(batch_T=64, eval_n_envs=1, eval_max_steps=100, eval_max_trajectories=1),
    algo=dict(epochs=1, minibatches=2),
    runner=dict(n_steps=128, log_interval_steps=64),
)
