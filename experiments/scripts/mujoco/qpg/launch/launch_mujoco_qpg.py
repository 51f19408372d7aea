r"""Launch DDPG, TD3 or SAC on MuJoCo tasks: env ids x seeds (1M steps each).

Locally every run gets one core (2 runs at once on 2 cores); on the GPU box 5 runs share each
GPU, one core each (one env step, then one update of small MLPs: the GPU is far from busy).

    python experiments/scripts/mujoco/qpg/launch/launch_mujoco_qpg.py --dry-run
    python experiments/scripts/mujoco/qpg/launch/launch_mujoco_qpg.py \
        --machine 8gpu --algo mujoco_sac --env-ids Hopper-v5 Ant-v5
    python experiments/scripts/mujoco/qpg/launch/launch_mujoco_qpg.py \
        --algo mujoco_td3 --env-ids InvertedPendulum-v5 --n-steps 2e4
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

ALGOS = ("mujoco_sac", "mujoco_td3", "mujoco_ddpg")
ENV_IDS = ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, then launch (or print) the sweep; return the exit status."""
    parser = launch_parser(__doc__, ALGOS)
    parser.add_argument("--env-ids", nargs="+", default=list(ENV_IDS), help="Gymnasium env ids")
    args = parser.parse_args(argv)
    levels = [env_level("id", args.env_ids, eval_env=True), seed_level(args.seeds)]
    return exit_code(launch(args, __file__, levels, contexts_per_gpu=5))


if __name__ == "__main__":
    run_cli(main)
