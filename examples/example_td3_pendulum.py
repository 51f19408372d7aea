"""TD3 on Pendulum-v1: twin critics, delayed policy updates and target policy smoothing.

Shows `TD3` with `Td3Agent` on a small continuous-control task that it solves (an average
return around -150 to -200; -250 is the usual bar) within about 15k env steps on a laptop CPU:
one env stepped `--batch_T` steps per iteration, one gradient update per env step
(`replay_ratio = batch_size`), exploration noise N(0, 0.1) of the action range after
`min_steps_learn` steps of wider noise, and evaluation of the deterministic policy at every
log interval. Pendulum's 200-step episodes end only by the time limit, a truncation that the
time-limit-aware replay bootstraps through. `--sampler cpu` steps the env in a worker process.

    python examples/example_td3_pendulum.py --n_steps 15000 --seed 0
"""

from __future__ import annotations

import argparse

from rlpyt.agents.qpg.td3_agent import Td3Agent
from rlpyt.algos.qpg.td3 import TD3
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context

SAMPLERS = dict(serial=SerialSampler, cpu=CpuSampler)


def build_and_train(
    run_ID: int = 0,
    n_steps: float = 15000,
    seed: int | None = None,
    batch_T: int = 1,
    batch_size: int = 256,
    hidden_sizes: tuple[int, ...] = (256, 256),
    min_steps_learn: int = 1000,
    log_dir: str = "td3_pendulum",
    log_interval_steps: float = 2500,
    eval_max_steps: int = 2000,
    sampler_name: str = "serial",
    progress_bar: bool = True,
) -> str:
    """Train and return the run directory."""
    sampler_kwargs = {}
    affinity = {}
    if sampler_name != "serial":
        affinity = dict(workers_cpus=[None])  # one worker process, unpinned
        sampler_kwargs = dict(start_method="fork")
    sampler = SAMPLERS[sampler_name](
        EnvCls=gym_make,
        env_kwargs=dict(id="Pendulum-v1"),
        eval_env_kwargs=dict(id="Pendulum-v1"),
        batch_T=batch_T,
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=1,
        eval_max_steps=eval_max_steps,
        **sampler_kwargs,
    )
    algo = TD3(
        batch_size=batch_size,
        replay_ratio=batch_size,  # one update per env step
        min_steps_learn=min_steps_learn,
        mu_learning_rate=1e-3,
        q_learning_rate=1e-3,
        target_update_tau=0.005,
        policy_update_interval=2,
        target_update_interval=2,
    )
    nets = dict(hidden_sizes=list(hidden_sizes))
    agent = Td3Agent(
        model_kwargs=nets,
        q_model_kwargs=nets,
        action_std=0.1,  # fractions of the half-range of the action bounds
        target_noise_std=0.2,
        target_noise_clip=0.5,
    )
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        affinity=affinity,
        log_interval_steps=log_interval_steps,
        progress_bar=progress_bar,
    )
    config = dict(env_id="Pendulum-v1", algo="TD3", seed=seed, sampler=sampler_name)
    with logger_context(log_dir, run_ID, "td3_pendulum", config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--n_steps", type=float, default=15000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--batch_T", type=int, default=1, help="env steps per iteration")
    parser.add_argument("--sampler", default="serial", choices=sorted(SAMPLERS))
    parser.add_argument("--log_dir", default="td3_pendulum")
    args = parser.parse_args()
    run_dir = build_and_train(
        run_ID=args.run_ID,
        n_steps=args.n_steps,
        seed=args.seed,
        batch_T=args.batch_T,
        sampler_name=args.sampler,
        log_dir=args.log_dir,
    )
    print(f"Logs are in: {run_dir}")


if __name__ == "__main__":
    main()
