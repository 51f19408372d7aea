"""PPO on a MuJoCo task (through Gymnasium) with a Gaussian policy and observation normalisation.

Shows continuous control: `gym_make("HalfCheetah-v5")` (any MuJoCo env id works),
`MujocoFfAgent` (Gaussian policy, `MujocoFfModel` with running observation normalisation), and
PPO with the usual MuJoCo settings (T=2048 over 1 env, 10 epochs x 32 minibatches, GAE 0.95).
The time limit (1000 steps) is a truncation: PPO bootstraps through it.

    python examples/example_ppo_mujoco.py --env_id HalfCheetah-v5 --n_steps 1e6
"""

from __future__ import annotations

import argparse

from rlpyt.agents.pg.mujoco import MujocoFfAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context


def build_and_train(
    env_id: str = "HalfCheetah-v5",
    run_ID: int = 0,
    n_steps: float = 1e6,
    batch_T: int = 2048,
    minibatches: int = 32,
    log_dir: str = "ppo_mujoco",
    log_interval_steps: float = 2e4,
    eval_max_steps: int = 5000,
    progress_bar: bool = True,
) -> str:
    """Train and return the run directory."""
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        eval_env_kwargs=dict(id=env_id),
        batch_T=batch_T,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=1,
        eval_max_steps=eval_max_steps,
    )
    algo = PPO(
        discount=0.99,
        gae_lambda=0.95,
        learning_rate=3e-4,
        epochs=10,
        minibatches=minibatches,
        ratio_clip=0.2,
        value_loss_coeff=0.5,
        entropy_loss_coeff=0.0,
        clip_grad_norm=0.5,
        normalize_advantage=True,
    )
    agent = MujocoFfAgent()
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        log_interval_steps=log_interval_steps,
        progress_bar=progress_bar,
    )
    config = dict(env_id=env_id, algo="PPO", batch_T=batch_T)
    with logger_context(log_dir, run_ID, f"ppo_{env_id}", config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env_id", default="HalfCheetah-v5")
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--n_steps", type=float, default=1e6)
    args = parser.parse_args()
    print(f"Logs are in: {build_and_train(args.env_id, args.run_ID, args.n_steps)}")


if __name__ == "__main__":
    main()
