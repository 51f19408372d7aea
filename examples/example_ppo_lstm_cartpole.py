"""Recurrent PPO on CartPole with the velocities hidden: a task that needs memory.

Only cart position and pole angle are observed (`masked_gym_make`), so the agent must infer
velocities from the history. `RecurrentCategoricalPgAgent` carries an LSTM state through the
sampler (stored per step as `agent_info.prev_rnn_state`); PPO trains on whole `[T]` sequences of
each env, starting from the state stored at the beginning of the batch. A feed-forward agent
plateaus near a return of 50 here; the recurrent one passes 200 within 200k steps.

    python examples/example_ppo_lstm_cartpole.py --n_steps 2e5
"""

from __future__ import annotations

import argparse

from rlpyt.agents.pg.categorical import RecurrentCategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.pomdp import masked_gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context


def build_and_train(
    run_ID: int = 0,
    n_steps: float = 2e5,
    seed: int | None = None,
    log_dir: str = "ppo_lstm_cartpole",
    log_interval_steps: float = 2e4,
    progress_bar: bool = True,
) -> str:
    """Train and return the run directory."""
    sampler = SerialSampler(
        EnvCls=masked_gym_make,
        env_kwargs=dict(id="CartPole-v1", keep_indices=[0, 2]),  # position, angle
        batch_T=16,  # short sequences: training uses each env's steps up to its first done
        batch_B=16,
        max_decorrelation_steps=0,
    )
    agent = RecurrentCategoricalPgAgent(model_kwargs=dict(lstm_size=64))
    algo = PPO(
        discount=0.95,
        gae_lambda=0.95,
        learning_rate=1e-3,
        epochs=8,
        minibatches=2,  # over envs: each minibatch holds whole sequences
        ratio_clip=0.2,
        value_loss_coeff=0.2,  # the policy and value share the LSTM
        entropy_loss_coeff=0.0,
        clip_grad_norm=10.0,
        normalize_advantage=True,
    )
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        log_interval_steps=log_interval_steps,
        progress_bar=progress_bar,
    )
    with logger_context(log_dir, run_ID, "ppo_lstm_cartpole", dict(n_steps=n_steps)) as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--n_steps", type=float, default=2e5)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    print(f"Logs are in: {build_and_train(args.run_ID, args.n_steps, args.seed)}")


if __name__ == "__main__":
    main()
