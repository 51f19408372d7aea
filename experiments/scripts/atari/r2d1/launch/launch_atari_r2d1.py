r"""Launch R2D1 on Atari games: games x seeds.

Locally every run gets one core (its 128 emulators in one process: slow, for trying the
pipeline); on the GPU box one run per GPU with 5 cores of GpuSampler workers. ``r2d1_async``
runs AsyncRlEval (4 runs, each with an optimizer GPU, a sampler GPU and 10 cores).

    python experiments/scripts/atari/r2d1/launch/launch_atari_r2d1.py --dry-run
    python experiments/scripts/atari/r2d1/launch/launch_atari_r2d1.py \
        --machine 8gpu --games pong seaquest --seeds 0
    python experiments/scripts/atari/r2d1/launch/launch_atari_r2d1.py \
        --machine 8gpu --config-key r2d1_async
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root

from experiments.launching import (
    env_level,
    exit_code,
    launch,
    launch_parser,
    run_cli,
    seed_level,
)

ALGOS = ("atari_r2d1",)
GAMES = ("pong", "breakout", "seaquest", "qbert", "beam_rider", "space_invaders")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, then launch (or print) the sweep; return the exit status."""
    parser = launch_parser(__doc__, ALGOS)
    parser.add_argument(
        "--games", nargs="+", default=list(GAMES), help="Atari games (AtariEnv names)"
    )
    args = parser.parse_args(argv)
    levels = [env_level("game", args.games, eval_env=True), seed_level(args.seeds)]
    return exit_code(launch(args, __file__, levels, contexts_per_gpu=1))


if __name__ == "__main__":
    run_cli(main)
