"""PPO on CartPole-v1, serial sampler by default: the run behind `make train`.

Shows the basic rlpyt recipe: a sampler (envs + collector), an agent (model + distribution), an
algorithm, and a runner, inside `logger_context` so diagnostics and snapshots land in a run
directory. CartPole is solved (average return >= 475) in about 100k steps. `--sampler` swaps in
a parallel sampler (envs in `--n-workers` worker processes; nothing else changes), and a run
resumes with any sampler.

    python examples/example_ppo_cartpole.py --n_steps 1e5 --seed 1
    python examples/example_ppo_cartpole.py --sampler cpu --n-workers 2
    python examples/example_ppo_cartpole.py --resume data/local/<date>/ppo_cartpole/run_0
"""

from __future__ import annotations

import argparse
import os

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context

# serial: envs and agent in this process; cpu: workers step envs with their own agent copy;
# gpu: workers step envs, this process batches the actions; alternating: gpu, in two halves.
SAMPLERS = dict(
    serial=SerialSampler, cpu=CpuSampler, gpu=GpuSampler, alternating=AlternatingSampler
)


def build_and_train(
    env_id: str = "CartPole-v1",
    run_ID: int = 0,
    n_steps: float = 1e5,
    seed: int | None = None,
    log_dir: str = "ppo_cartpole",
    resume: str | None = None,
    log_interval_steps: float = 1e4,
    progress_bar: bool = True,
    sampler_name: str = "serial",
    n_workers: int | None = None,
) -> str:
    """Train and return the run directory.

    ``sampler_name`` is a key of ``SAMPLERS``; ``n_workers`` the number of worker processes
    of a parallel sampler (default: one per CPU, at most one per env).
    """
    sampler = SAMPLERS[sampler_name](
        EnvCls=gym_make,
        env_kwargs=dict(id=env_id),
        batch_T=32,
        batch_B=8,
        max_decorrelation_steps=0,
    )
    affinity = {}
    if sampler_name != "serial":
        # A model this small gains nothing from more torch threads, and idle OpenMP threads
        # of the master spin-wait on the cores the workers need.
        affinity["master_torch_threads"] = 1
    if n_workers is not None:
        affinity["workers_cpus"] = [None] * n_workers  # unpinned workers
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
        affinity=affinity,
        log_interval_steps=log_interval_steps,
        progress_bar=progress_bar,
    )
    config = dict(env_id=env_id, algo="PPO", n_steps=n_steps, seed=seed, sampler=sampler_name)
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
    parser.add_argument("--log_interval_steps", type=float, default=1e4)
    parser.add_argument("--sampler", choices=sorted(SAMPLERS), default="serial")
    parser.add_argument(
        "--n-workers", "--n_workers", dest="n_workers", type=int, default=None,
        help="worker processes of a parallel sampler (default: one per CPU, <= batch_B)",
    )  # fmt: skip
    args = parser.parse_args()
    run_dir = build_and_train(
        args.env_id,
        args.run_ID,
        args.n_steps,
        args.seed,
        args.log_dir,
        args.resume,
        args.log_interval_steps,
        sampler_name=args.sampler,
        n_workers=args.n_workers,
    )
    print(f"\nLogs, progress.csv and the last snapshot are in: {run_dir}")


if __name__ == "__main__":
    main()
