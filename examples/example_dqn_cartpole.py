"""DQN (double, dueling, 3-step returns) on CartPole-v1: solved within 50k steps.

Off-policy training in one process: every iteration the serial sampler adds 4 x 64 steps to the
replay and DQN makes `replay_ratio * 256 / batch_size` updates on uniformly drawn batches (so
each stored step is trained on `replay_ratio` times on average). The greedy agent is evaluated
on separate envs at every log interval; CartPole reports its time limit, so the replay is
time-limit aware (a truncated episode bootstraps, it does not end). The settings are the
tuned CartPole DQN of rl-baselines3-zoo with a smaller network and half the updates; the
learning test (`tests/learning/test_dqn_learning.py`) checks them on three seeds.

    python examples/example_dqn_cartpole.py --n_steps 5e4 --seed 1
"""

from __future__ import annotations

import argparse

from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context

ALGO = dict(
    discount=0.99,
    batch_size=64,
    min_steps_learn=1000,
    replay_size=int(1e5),
    replay_ratio=16,
    target_update_interval=128,  # updates
    learning_rate=2.3e-3,
    eps_steps=8000,
    double_dqn=True,
    n_step_return=3,
    delta_clip=1.0,
    clip_grad_norm=10.0,
)


def build_and_train(
    run_ID: int = 0,
    n_steps: float = 5e4,
    seed: int | None = None,
    log_interval_steps: float = 5e3,
    log_dir: str = "dqn_cartpole",
    progress_bar: bool = True,
    **algo_kwargs,
) -> str:
    """Train and return the run directory; ``algo_kwargs`` override ``ALGO``."""
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=64,
        batch_B=4,
        max_decorrelation_steps=0,
        eval_n_envs=4,
        eval_max_steps=4 * 500,  # one full episode per eval env
        eval_max_trajectories=4,
    )
    agent = DqnAgent(
        model_kwargs=dict(hidden_sizes=[128, 128], dueling=True),
        eps_final=0.04,  # annealed from 1 over eps_steps, after min_steps_learn
    )
    algo = DQN(**{**ALGO, **algo_kwargs})
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        log_interval_steps=log_interval_steps,
        progress_bar=progress_bar,
    )
    config = dict(n_steps=n_steps, **{**ALGO, **algo_kwargs})
    with logger_context(log_dir, run_ID, "dqn_cartpole", config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--n_steps", type=float, default=5e4)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log_interval_steps", type=float, default=5e3)
    parser.add_argument("--log_dir", default="dqn_cartpole")
    args = parser.parse_args()
    run_dir = build_and_train(
        args.run_ID, args.n_steps, args.seed, args.log_interval_steps, args.log_dir
    )
    print(f"Logs are in: {run_dir}")


if __name__ == "__main__":
    main()
