"""Command-line arguments of a train script launched by ``run_experiments``.

``run_experiments`` calls ``python <script> <slot_affinity_code> <log_dir> <run_ID>
[*common_args, *run_args]``; by convention the first common argument is a ``config_key`` that
selects the script's default config. A train script reads them with :func:`get_args`::

    args = get_args()
    build_and_train(args.slot_affinity_code, args.log_dir, args.run_ID, args.config_key)

(``build_and_train(*sys.argv[1:])``, as in rlpyt's scripts, works too, with ``run_ID`` a str.)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def get_args(args: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a train script's arguments (``sys.argv[1:]`` unless ``args`` is given).

    Returns:
        A namespace with ``slot_affinity_code`` (str), ``log_dir`` (str), ``run_ID`` (int),
        ``config_key`` (str, or ``None`` if not given) and ``extra_args`` (list of str: any
        further ``runs_args``).
    """
    parser = argparse.ArgumentParser(
        description="One training run, as launched by rlpyt's run_experiments."
    )
    parser.add_argument(
        "slot_affinity_code", help="affinity code with run slot, e.g. 0slt_2cpu_0gpu_1cpr"
    )
    parser.add_argument(
        "log_dir", help="directory of the run's setting (holds variant_config.json)"
    )
    parser.add_argument("run_ID", type=int, help="run number; the run logs into <log_dir>/run_<ID>")
    parser.add_argument("config_key", nargs="?", default=None, help="key of the default config")
    parser.add_argument("extra_args", nargs="*", help="further per-run arguments")
    return parser.parse_args(args)
