"""Print a sweep's results: the last logged value of a column for every run, and per setting
the mean over its seeds.

    python experiments/summarize.py data/local/<yyyymmdd>/<experiment_title>
    python experiments/summarize.py <experiment_dir> --column GameScoreAverage

Runs are the ``run_<ID>/progress.csv`` files below the experiment directory; a setting is a
run's path with its ``seed_<s>`` directory (and the ``run_<ID>`` one) left out.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path


def last_values(exp_dir: Path, column: str) -> dict[str, tuple[int, float | None]]:
    """``{run path: (env steps, last value of column)}`` for every run below ``exp_dir``
    (``None`` where the column is missing or empty, e.g. before the first trajectory)."""
    results = {}
    for path in sorted(exp_dir.glob("**/run_*/progress.csv")):
        with open(path) as f:
            rows = list(csv.DictReader(f))
        if not rows:
            continue
        value = rows[-1].get(column) or None
        steps = int(float(rows[-1].get("Diagnostics/CumSteps") or 0))
        results[str(path.parent.relative_to(exp_dir))] = (
            steps,
            None if value is None else float(value),
        )
    return results


def setting_of(run: str) -> str:
    """The run path without its ``seed_<s>`` and ``run_<ID>`` parts."""
    parts = [p for p in Path(run).parts if not re.fullmatch(r"(seed|run)_\d+", p)]
    return "/".join(parts) or "."


def main(argv: Sequence[str] | None = None) -> None:
    """Print the per-run table, then the per-setting means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exp_dir", type=Path, help="the experiment directory of a sweep")
    parser.add_argument("--column", default="ReturnAverage", help="a progress.csv column")
    args = parser.parse_args(argv)
    results = last_values(args.exp_dir, args.column)
    if not results:
        raise SystemExit(f"no run_*/progress.csv below {args.exp_dir}")
    width = max(map(len, results))
    print(f"{'run':<{width}}  {'steps':>10}  {args.column}")
    settings = defaultdict(list)
    for run, (steps, value) in results.items():
        print(f"{run:<{width}}  {steps:>10}  {'-' if value is None else f'{value:.4g}'}")
        if value is not None:
            settings[setting_of(run)].append(value)
    print(f"\nmean over seeds of the last {args.column}:")
    for setting, values in sorted(settings.items()):
        print(f"  {setting}: {sum(values) / len(values):.4g} ({len(values)} runs)")


if __name__ == "__main__":
    main()
