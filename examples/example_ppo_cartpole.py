"""PPO on CartPole-v1 with the serial sampler: the run behind `make train`.

Shows the basic rlpyt recipe: a sampler (envs + collector), an agent (model + distribution), an
algorithm, and a runner, inside `logger_context` so diagnostics and snapshots land in a run
directory. CartPole is solved (average return >= 475) in about 100k steps.

    python examples/example_ppo_cartpole.py --n_steps 1e5 --seed 1
    python examples/example_ppo_cartpole.py --resume data/local/<date>/ppo_cartpole/run_0
"""

from __future__ import annotations

import argparse
import os

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context


def build_and_train(
    env_id: str = "CartPole-v1",
    run_ID: int = 0,
    n_steps: float = 1e5,
    seed: int | None = None,
    log_dir: str = "ppo_cartpole",
    resume: str | None = None,
    log_interval_steps: float = 1e4,
    progress_bar: bool = True,
) -> str:
    """Train and return the run directory."""
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        batch_T=32,
        batch_B=8,
        max_decorrelation_steps=0,
    )
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[64, 64]))
    algo = PPO(
        discount=0.98,
        gae_lambda=0.8,
        learning_rate=1e-3,
        epochs=20,
        minibatches=1,
        ratio_clip=0.2,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.0,
        clip_grad_norm=0.5,
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
    config = dict(env_id=env_id, algo="PPO", n_steps=n_steps, seed=seed)
    if resume is not None:  # log into the run being resumed: its parent dir, its run_ID
        log_dir = os.path.dirname(os.path.abspath(resume))
        run_ID = int(os.path.basename(os.path.normpath(resume)).removeprefix("run_"))
    with logger_context(log_dir, run_ID, "ppo_cartpole", config, snapshot_mode="last") as run_dir:
        runner.train(resume_from=resume)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env_id", default="CartPole-v1")
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--n_steps", type=float, default=1e5)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log_dir", default="ppo_cartpole")
    parser.add_argument("--resume", default=None, help="run directory to continue from")
    args = parser.parse_args()
    run_dir = build_and_train(
        args.env_id, args.run_ID, args.n_steps, args.seed, args.log_dir, args.resume
    )
    print(f"\nLogs, progress.csv and the last snapshot are in: {run_dir}")


if __name__ == "__main__":
    main()
