"""A2C on an Atari game (Pong by default) with the feed-forward Atari agent, any sampler.

Shows Atari-specific pieces: `AtariEnv` (ale-py, 84x84 grayscale, frame skip 4, 4 stacked
frames), `AtariTrajInfo` (logs the unclipped `GameScoreAverage` next to the clipped `Return`),
and `AtariFfAgent` with its convolutional model. A real run needs ~10M steps and a GPU or many
cores; the default here is a short demonstration with the serial sampler. Emulators are slow,
so a parallel sampler pays off here: `--sampler cpu` (each worker runs its own CPU copy of the
agent) or, with a GPU for the agent, `--sampler gpu` / `--sampler alternating` (workers only
step emulators; the master selects all actions in one batch on the GPU).

    python examples/example_a2c_atari.py --game pong --n_steps 2e5
    python examples/example_a2c_atari.py --sampler gpu --n-workers 8 --cuda_idx 0
"""

from __future__ import annotations

import argparse

from rlpyt.agents.pg.atari import AtariFfAgent
from rlpyt.algos.pg.a2c import A2C
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context

SAMPLERS = dict(
    serial=SerialSampler, cpu=CpuSampler, gpu=GpuSampler, alternating=AlternatingSampler
)


def build_and_train(
    game: str = "pong",
    run_ID: int = 0,
    n_steps: float = 2e5,
    batch_B: int = 16,
    cuda_idx: int | None = None,
    log_dir: str = "a2c_atari",
    log_interval_steps: float = 2e4,
    progress_bar: bool = True,
    sampler_name: str = "serial",
    n_workers: int | None = None,
) -> str:
    """Train and return the run directory.

    ``sampler_name`` is a key of ``SAMPLERS``; ``n_workers`` the number of worker processes
    of a parallel sampler (default: one per CPU, at most one per env).
    """
    sampler = SAMPLERS[sampler_name](
        EnvCls=AtariEnv,
        TrajInfoCls=AtariTrajInfo,
        env_kwargs=dict(game=game),
        batch_T=5,  # A2C's classic 5-step rollouts
        batch_B=batch_B,
        max_decorrelation_steps=400,
    )
    affinity = dict(cuda_idx=cuda_idx)
    if n_workers is not None:
        affinity["workers_cpus"] = [None] * n_workers  # unpinned workers
    algo = A2C(learning_rate=7e-4, entropy_loss_coeff=0.01, value_loss_coeff=0.5)
    agent = AtariFfAgent()
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        log_interval_steps=log_interval_steps,
        affinity=affinity,
        progress_bar=progress_bar,
    )
    config = dict(game=game, algo="A2C", batch_B=batch_B, sampler=sampler_name)
    with logger_context(log_dir, run_ID, f"a2c_{game}", config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="pong")
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--n_steps", type=float, default=2e5)
    parser.add_argument("--batch_B", type=int, default=16)
    parser.add_argument("--cuda_idx", type=int, default=None)
    parser.add_argument("--log_dir", default="a2c_atari")
    parser.add_argument("--log_interval_steps", type=float, default=2e4)
    parser.add_argument("--sampler", choices=sorted(SAMPLERS), default="serial")
    parser.add_argument(
        "--n-workers", "--n_workers", dest="n_workers", type=int, default=None,
        help="worker processes of a parallel sampler (default: one per CPU, <= batch_B)",
    )  # fmt: skip
    args = parser.parse_args()
    run_dir = build_and_train(
        args.game,
        args.run_ID,
        args.n_steps,
        args.batch_B,
        args.cuda_idx,
        args.log_dir,
        args.log_interval_steps,
        sampler_name=args.sampler,
        n_workers=args.n_workers,
    )
    print(f"Logs are in: {run_dir}")


if __name__ == "__main__":
    main()
