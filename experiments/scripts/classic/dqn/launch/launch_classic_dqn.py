r"""Launch DQN on classic-control tasks: env ids x seeds.

Locally every run gets one core, 2 runs at once on 2 cores; ``dqn_async`` runs AsyncRlEval,
one run at a time on 2 cores. On the GPU box 5 runs share each GPU, one core each (async: 4
runs with an optimizer GPU and a sampler GPU each).

    python experiments/scripts/classic/dqn/launch/launch_classic_dqn.py --dry-run
    python experiments/scripts/classic/dqn/launch/launch_classic_dqn.py \
        --config-key dqn_async --seeds 0
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

ALGOS = ("classic_dqn",)
ENV_IDS = ("CartPole-v1",)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, then launch (or print) the sweep; return the exit status."""
    parser = launch_parser(__doc__, ALGOS)
    parser.add_argument(
        "--env-ids", nargs="+", default=list(ENV_IDS), help="Gymnasium env ids (discrete actions)"
    )
    args = parser.parse_args(argv)
    levels = [env_level("id", args.env_ids, eval_env=True), seed_level(args.seeds)]
    return exit_code(launch(args, __file__, levels, contexts_per_gpu=5))


if __name__ == "__main__":
    run_cli(main)
