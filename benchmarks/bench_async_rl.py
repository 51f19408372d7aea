"""Wall-clock of DQN on a slow env: AsyncRl (sampling and optimisation overlap) vs MinibatchRl.

The env is CartPole-v1 whose every step costs ``--step_ms`` extra milliseconds of busy CPU
(``--sleep``: of sleep), a stand-in for an expensive simulator. Both runners train the same
DQN for the same number of env steps with the same sampler batches (``batch_T=8, batch_B=4``:
32 steps per iteration) and make the same number of updates (``replay_ratio=8``, batch 32:
8 updates per iteration after ``min_steps_learn=1000``), one torch thread each:

- ``MinibatchRl`` + ``SerialSampler``: one process alternates sampling and updates;
- ``AsyncRl`` + ``AsyncSerialSampler``: a sampler process steps the envs while the training
  process updates (throttled to the same replay ratio; ``max_sampler_lead=2``).

Ideally the async run takes ``max(sample, optimize)`` where the sync one takes
``sample + optimize``; the table gives steps/s per repeat (runs alternate), their medians,
the speed-up within each repeat, and the sync run's time split. Needs 2 free cores.

    python benchmarks/bench_async_rl.py [--steps 20000] [--repeats 3] [--step_ms 0.25 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gymnasium
import torch

from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.gym import GymEnvWrapper
from rlpyt.runners.async_rl import AsyncRl
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.async_.serial_sampler import AsyncSerialSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

BATCH_T, BATCH_B = 8, 4
ALGO = dict(
    batch_size=32,
    replay_ratio=8,
    min_steps_learn=1000,
    replay_size=50_000,
    learning_rate=1e-3,
    target_update_interval=250,
    eps_steps=5000,
)


class SlowCartPole(GymEnvWrapper):
    """CartPole-v1 whose ``step`` costs ``step_ms`` more: busy CPU, or a sleep."""

    def __init__(self, step_ms: float = 1.0, sleep: bool = False) -> None:
        super().__init__(gymnasium.make("CartPole-v1"))
        self.step_s = step_ms / 1000
        self.sleep = sleep

    def step(self, action: Any) -> Any:
        if self.sleep:
            time.sleep(self.step_s)
        else:
            end = time.perf_counter() + self.step_s
            while time.perf_counter() < end:
                pass
        return super().step(action)


def _timed(fn: Callable, totals: dict[str, float], key: str) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    return wrapper


def _parts(seed: int) -> tuple[DqnAgent, DQN]:
    return DqnAgent(model_kwargs=dict(hidden_sizes=[64, 64]), eps_final=0.05), DQN(**ALGO)


def run_sync(steps: int, env_kwargs: dict, seed: int) -> tuple[float, int, dict[str, float]]:
    """``(seconds, updates, {"sample": s, "optimize": s})`` of a MinibatchRl run."""
    start = time.perf_counter()
    sampler = SerialSampler(
        EnvCls=SlowCartPole,
        env_kwargs=env_kwargs,
        batch_T=BATCH_T,
        batch_B=BATCH_B,
        max_decorrelation_steps=0,
    )
    agent, algo = _parts(seed)
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=steps,
        log_interval_steps=steps,  # one row, and n_steps is not rounded up to more rows
        seed=seed,
        progress_bar=False,
    )
    split: dict[str, float] = defaultdict(float)
    sampler.obtain_samples = _timed(sampler.obtain_samples, split, "sample")
    algo.optimize_agent = _timed(algo.optimize_agent, split, "optimize")
    runner.train()
    return time.perf_counter() - start, algo.update_counter, split


def run_async(steps: int, env_kwargs: dict, seed: int) -> tuple[float, int]:
    """``(seconds, updates)`` of an AsyncRl run."""
    start = time.perf_counter()
    sampler = AsyncSerialSampler(
        EnvCls=SlowCartPole,
        env_kwargs=env_kwargs,
        batch_T=BATCH_T,
        batch_B=BATCH_B,
        max_decorrelation_steps=0,
    )
    agent, algo = _parts(seed)
    runner = AsyncRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=steps,
        log_interval_steps=steps,
        seed=seed,
        affinity=dict(optimizer=[dict(torch_threads=1)], sampler=dict(master_torch_threads=1)),
        progress_bar=False,
    )
    runner.train()
    return time.perf_counter() - start, algo.update_counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--step_ms", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--sleep", action="store_true", help="sleep instead of busy CPU")
    args = parser.parse_args()
    torch.set_num_threads(1)
    # The first optimizer built in a process imports torch._dynamo (about 2 s): pay it here,
    # not in whichever run comes first.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    logger.disable()
    batch = BATCH_T * BATCH_B
    steps = -(-args.steps // batch) * batch  # whole batches: n_steps is not rounded up further
    print(
        f"DQN, {steps} env steps, batches {BATCH_T}x{BATCH_B}, replay_ratio {ALGO['replay_ratio']}"
        f", env step cost {'sleep' if args.sleep else 'busy CPU'}\n"
    )
    print("| extra ms/step | runner | steps/s per repeat | median | speed-up | sync sample % |")
    print(
        "|--------------:|--------|--------------------|---------------:|---------:|--------------:|"
    )
    for step_ms in args.step_ms:
        env_kwargs = dict(step_ms=step_ms, sleep=args.sleep)
        sync_rates, async_rates, ratios, sample_shares = [], [], [], []
        for repeat in range(args.repeats):
            seconds, sync_updates, split = run_sync(steps, env_kwargs, seed=repeat)
            sync_rates.append(steps / seconds)
            sample_shares.append(split["sample"] / (split["sample"] + split["optimize"]))
            seconds, async_updates = run_async(steps, env_kwargs, seed=repeat)
            async_rates.append(steps / seconds)
            ratios.append(async_rates[-1] / sync_rates[-1])
            assert async_updates == sync_updates, (async_updates, sync_updates)  # same work
        share = 100 * statistics.median(sample_shares)
        print(
            f"| {step_ms} | MinibatchRl | {', '.join(f'{r:.0f}' for r in sync_rates)} "
            f"| {statistics.median(sync_rates):.0f} | | {share:.0f} |"
        )
        print(
            f"| {step_ms} | AsyncRl | {', '.join(f'{r:.0f}' for r in async_rates)} "
            f"| {statistics.median(async_rates):.0f} "
            f"| {', '.join(f'{x:.2f}' for x in ratios)} "
            f"(median {statistics.median(ratios):.2f}x) | |"
        )


if __name__ == "__main__":
    main()
