"""SAC on a MuJoCo task (through Gymnasium): the off-policy recipe for continuous control.

Shows a replay-based algorithm in the rlpyt recipe: `SerialSampler` with one env stepped one
step per iteration (`batch_T=1, batch_B=1`), `SacAgent` (tanh-Gaussian policy and twin
critics, 256x256 MLPs, actions scaled to the env's bounds), and `SAC` with one gradient update
per env step (`replay_ratio = batch_size`), automatic entropy tuning and a time-limit-aware
replay (the 1000-step limit is a truncation: SAC bootstraps through it). `MinibatchRlEval`
evaluates the deterministic policy at every log interval. `--cuda_idx 0` trains on a GPU.

    python examples/example_sac_mujoco.py --env_id HalfCheetah-v5 --n_steps 1e6
    python examples/example_sac_mujoco.py --env_id InvertedPendulum-v5 --n_steps 2e4
"""

from __future__ import annotations

import argparse

from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.algos.qpg.sac import SAC
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context


def build_and_train(
    env_id: str = "HalfCheetah-v5",
    run_ID: int = 0,
    cuda_idx: int | None = None,
    n_steps: float = 1e6,
    seed: int | None = None,
    min_steps_learn: int = int(1e4),
    batch_size: int = 256,
    hidden_sizes: tuple[int, ...] = (256, 256),
    log_dir: str = "sac_mujoco",
    log_interval_steps: float = 1e4,
    eval_n_envs: int = 5,
    eval_max_steps: int = 5000,
    resume: str | None = None,
    progress_bar: bool = True,
) -> str:
    """Train and return the run directory (``resume``: a run directory to continue)."""
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        eval_env_kwargs=dict(id=env_id),
        batch_T=1,  # one env step per iteration ...
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=eval_n_envs,
        eval_max_steps=eval_max_steps,
        eval_max_trajectories=eval_n_envs,
    )
    algo = SAC(
        batch_size=batch_size,
        replay_ratio=batch_size,  # ... and one gradient update per env step
        min_steps_learn=min_steps_learn,
        learning_rate=3e-4,
        target_update_tau=0.005,
    )
    nets = dict(hidden_sizes=list(hidden_sizes))
    agent = SacAgent(model_kwargs=nets, q_model_kwargs=nets)
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        affinity=dict(cuda_idx=cuda_idx),
        log_interval_steps=log_interval_steps,
        progress_bar=progress_bar,
    )
    config = dict(env_id=env_id, algo="SAC", batch_size=batch_size, seed=seed)
    name = f"sac_{env_id}"
    with logger_context(log_dir, run_ID, name, config, snapshot_mode="last") as run_dir:
        runner.train(resume_from=resume)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env_id", default="HalfCheetah-v5")
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--cuda_idx", type=int, default=None)
    parser.add_argument("--n_steps", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--min_steps_learn", type=int, default=int(1e4))
    parser.add_argument("--log_dir", default="sac_mujoco")
    parser.add_argument("--log_interval_steps", type=float, default=1e4)
    parser.add_argument("--resume", default=None, help="run directory to continue")
    args = parser.parse_args()
    run_dir = build_and_train(
        env_id=args.env_id,
        run_ID=args.run_ID,
        cuda_idx=args.cuda_idx,
        n_steps=args.n_steps,
        seed=args.seed,
        min_steps_learn=args.min_steps_learn,
        log_dir=args.log_dir,
        log_interval_steps=args.log_interval_steps,
        resume=args.resume,
    )
    print(f"Logs are in: {run_dir}")


if __name__ == "__main__":
    main()
