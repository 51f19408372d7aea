"""R2D1 on Atari (``AtariR2d1Agent``, ``R2D1``): recurrent replay DQN on one machine.

Kapturowski et al. 2019 ("Recurrent Experience Replay in Distributed Reinforcement Learning",
ICLR, Table 2): an LSTM of 512 cells and a dueling head; replayed sequences of 80 trained steps
after a 40-step burn-in, starting every 40 steps where a recurrent state was stored; 64
sequences per update; 5-step Double-DQN targets with discount 0.997 on rescaled values
(epsilon 1e-3); sequence priorities mixing max and mean TD error with eta 0.9, priority
exponent 0.9, importance-sampling exponent 0.6; Adam with learning rate 1e-4 and epsilon 1e-3;
target copied every 2500 updates; per-env exploration epsilons 0.4 ** (1 + 7 i / (N - 1))
(Ape-X), i.e. log-spaced from 0.4 down to 0.4 ** 8. Single-machine changes: 128 envs instead
of 256 actors, a replay of 1M steps (the paper's holds 4M observations), and 40 x 128 sampled
steps per update of 64 x 80 (replay ratio 1). No life-loss terminals (the paper's choice).

``r2d1_async`` is the same for ``AsyncRlEval`` (the sampler keeps stepping while the optimizer
trains, as the paper's actors do).
"""

from rlpyt.utils.launching.variant import update_config

configs = dict()

configs["r2d1"] = dict(
    mode="minibatch",
    env=dict(game="pong", episodic_lives=False),
    eval_env=dict(game="pong", episodic_lives=False),
    sampler=dict(
        batch_T=40,
        batch_B=128,
        max_decorrelation_steps=0,
        eval_n_envs=8,
        eval_max_steps=int(125e3),
        eval_max_trajectories=100,
    ),
    agent=dict(eps_final=0.4, eps_final_min=0.4**8, eps_eval=0.001),
    model=dict(fc_size=512, lstm_size=512, head_size=512, dueling=True),
    algo=dict(
        discount=0.997,
        batch_T=80,
        batch_B=64,
        warmup_T=40,
        store_rnn_state_interval=40,
        min_steps_learn=int(1e5),
        replay_size=int(1e6),
        replay_ratio=1,
        target_update_interval=2500,
        n_step_return=5,
        learning_rate=1e-4,
        clip_grad_norm=80.0,
        eps_steps=int(1e6),
        double_dqn=True,
        prioritized_replay=True,
        pri_alpha=0.9,
        pri_beta_init=0.6,
        pri_beta_final=0.6,
        pri_eta=0.9,
        value_scale_eps=1e-3,
    ),
    optim=dict(eps=1e-3),
    runner=dict(n_steps=10e6, log_interval_steps=1e6, seed=None),
)

configs["r2d1_async"] = update_config(configs["r2d1"], dict(mode="async"))

SMOKE = dict(
    sampler=dict(batch_T=8, batch_B=2, eval_n_envs=1, eval_max_steps=50, eval_max_trajectories=1),
    agent=dict(eps_final_min=0.1),
    model=dict(fc_size=32, lstm_size=16, head_size=16),
    algo=dict(
        batch_T=8,
        batch_B=4,
        warmup_T=4,
        store_rnn_state_interval=4,
        min_steps_learn=64,
        replay_size=2000,
        target_update_interval=4,
    ),
    runner=dict(n_steps=192, log_interval_steps=96),
)
