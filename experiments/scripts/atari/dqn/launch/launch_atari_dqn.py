r"""Launch DQN-family agents (DQN, Double/Dueling/PER, C51, Rainbow) on Atari games.

Games x seeds. Locally every run gets one core; on the GPU box two runs share each GPU (2
cores each: the network is small, the emulators cheap at 4 x 8 steps per iteration). The
``*_async`` configs run AsyncRlEval: locally one run on 2 cores (optimizer and sampler), on the
GPU box 4 runs, each with an optimizer GPU and a sampler GPU and 10 cores.

    python experiments/scripts/atari/dqn/launch/launch_atari_dqn.py --dry-run
    python experiments/scripts/atari/dqn/launch/launch_atari_dqn.py \
        --machine 8gpu --algo atari_catdqn --config-key rainbow
    python experiments/scripts/atari/dqn/launch/launch_atari_dqn.py \
        --machine 8gpu --config-key double_dueling_async
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

ALGOS = ("atari_dqn", "atari_catdqn")
GAMES = ("pong", "breakout", "seaquest", "qbert", "beam_rider", "space_invaders")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, then launch (or print) the sweep; return the exit status."""
    parser = launch_parser(__doc__, ALGOS)
    parser.add_argument(
        "--games", nargs="+", default=list(GAMES), help="Atari games (AtariEnv names)"
    )
    args = parser.parse_args(argv)
    levels = [env_level("game", args.games, eval_env=True), seed_level(args.seeds)]
    return exit_code(launch(args, __file__, levels, contexts_per_gpu=2))


if __name__ == "__main__":
    run_cli(main)
