r"""Launch A2C or PPO on Atari games: games x seeds.

Locally every run gets one core (serial sampler, 2 runs at once on 2 cores); on the GPU box
one run per GPU, whose 5 cores (and hyperthreads) hold GpuSampler workers. The ``ppo_sync2``
config of ``atari_ff_ppo`` runs SyncRlEval over ``--gpu-per-run`` GPUs (default 2, so 4 runs at
once on 8 GPUs).

    python experiments/scripts/atari/pg/launch/launch_atari_pg.py --dry-run
    python experiments/scripts/atari/pg/launch/launch_atari_pg.py \
        --machine 8gpu --algo atari_ff_ppo --games pong breakout --seeds 0 1
    python experiments/scripts/atari/pg/launch/launch_atari_pg.py \
        --machine 8gpu --algo atari_ff_ppo --config-key ppo_sync2
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

ALGOS = ("atari_ff_a2c", "atari_ff_ppo", "atari_lstm_a2c", "atari_lstm_ppo")
GAMES = ("pong", "breakout", "seaquest", "qbert", "beam_rider", "space_invaders")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, then launch (or print) the sweep; return the exit status."""
    parser = launch_parser(__doc__, ALGOS)
    parser.add_argument(
        "--games", nargs="+", default=list(GAMES), help="Atari games (AtariEnv names)"
    )
    args = parser.parse_args(argv)
    levels = [env_level("game", args.games, eval_env=False), seed_level(args.seeds)]
    return exit_code(launch(args, __file__, levels, contexts_per_gpu=1))


if __name__ == "__main__":
    run_cli(main)
