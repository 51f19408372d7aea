"""Weak scaling of `SyncRl` on CPU: PPO on CartPole-v1 with 1 and 2 replicas over Gloo.

Each replica has the same work (weak scaling): a `SerialSampler` of 8 CartPole-v1 envs x 128
steps per iteration, PPO with 4 epochs x 4 minibatches (the hyperparameters of
`bench_pg_cartpole.py`), 64x64 MLPs, one torch thread. One replica is `SyncRl` with a single
affinity dict, i.e. plain `MinibatchRl` (no process group); two replicas are rank 0 plus one
spawned child, with gradients all-reduced by DistributedDataParallel over Gloo.

Throughput is the total environment steps of all replicas per second in the steady state:
``(CumSteps[last] - CumSteps[first]) / (CumTime[last] - CumTime[first])`` over the runner's
per-iteration rows (start-up, spawning and the first iteration excluded); the end-to-end time
(spawning and start-up included) is reported too. Weak-scaling efficiency is
``rate(2) / (2 * rate(1))``, 1.0 being perfect. World sizes alternate within each repeat.
Rank 0's time per iteration is split into sampling (no communication: its slow-down with two
replicas is CPU contention alone) and optimisation (contention plus the gradient all-reduces,
16 per iteration).

With ``--allreduce`` it measures instead what one gradient all-reduce costs here: a bare
Gloo ``all_reduce`` of the PPO model's gradient size between two spawned processes, back to
back and after a burst of compute (the pattern of a minibatch update).

    python benchmarks/bench_sync_rl.py [--itrs 20] [--repeats 3] [--replicas 1 2] [--pin]
    python benchmarks/bench_sync_rl.py --allreduce [--numel 9000] [--calls 2000]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time

import torch
import torch.distributed as dist

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.sync_rl import SyncRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger
from rlpyt.utils.logging.context import logger_context
from rlpyt.utils.synchronize import find_port

N_ENVS = 8
N_STEPS = 128


class TimedSyncRl(SyncRl):
    """``SyncRl`` that times each iteration's sampling and optimisation (rank 0's are read)."""

    def startup(self) -> int:
        n_itr = super().startup()
        self.split: dict[str, list[float]] = {"sample": [], "optimize": []}
        obtain_samples, optimize_agent = self.sampler.obtain_samples, self.algo.optimize_agent

        def timed_obtain_samples(itr):
            start = time.perf_counter()
            out = obtain_samples(itr)
            self.split["sample"].append(time.perf_counter() - start)
            return out

        def timed_optimize_agent(itr, samples):
            start = time.perf_counter()
            out = optimize_agent(itr, samples)
            self.split["optimize"].append(time.perf_counter() - start)
            return out

        self.sampler.obtain_samples = timed_obtain_samples
        self.algo.optimize_agent = timed_optimize_agent
        return n_itr


def replica_affinity(rank: int, world_size: int, pin: bool) -> dict:
    """One torch thread per replica; with ``pin``, replica ``r`` on CPU ``r``."""
    affinity = dict(master_torch_threads=1, cuda_idx=None, set_affinity=pin)
    if pin:
        affinity["master_cpus"] = (rank % os.cpu_count(),)
    return affinity


def run(world_size: int, itrs: int, seed: int, pin: bool) -> tuple[float, float, dict]:
    """Train ``itrs`` iterations; return ``(steady steps/s, end-to-end s, rank 0's median
    seconds per iteration sampling and optimising)``."""
    sampler = SerialSampler(
        EnvCls=gym_make, env_kwargs=dict(id="CartPole-v1"), batch_T=N_STEPS, batch_B=N_ENVS
    )
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[64, 64]))
    algo = PPO(
        learning_rate=3e-4,
        discount=0.99,
        gae_lambda=0.95,
        ratio_clip=0.2,
        epochs=4,
        minibatches=4,
        linear_lr_schedule=False,
        normalize_advantage=True,
        value_loss_coeff=1.0,
        entropy_loss_coeff=0.0,
        clip_grad_norm=0.5,
        optim_kwargs=dict(eps=1e-5),
    )
    itr_steps = world_size * N_STEPS * N_ENVS
    affinity = [replica_affinity(r, world_size, pin) for r in range(world_size)]
    runner = TimedSyncRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=itrs * itr_steps,
        seed=seed,
        affinity=affinity if world_size > 1 else affinity[0],
        log_interval_steps=itr_steps,  # a row per iteration
        progress_bar=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with logger_context(tmp, 0, "bench", override_prefix=True) as run_dir:
            logger.disable()
            runner.train()
        elapsed = time.perf_counter() - start
        with open(os.path.join(run_dir, "progress.csv")) as f:
            rows = list(csv.DictReader(f))
    steps = [float(r["Diagnostics/CumSteps"]) for r in rows]
    times = [float(r["Diagnostics/CumTime (s)"]) for r in rows]
    split = {k: statistics.median(v[1:]) for k, v in runner.split.items()}  # first: warm-up
    return (steps[-1] - steps[0]) / (times[-1] - times[0]), elapsed, split


def _allreduce_worker(rank: int, port: int, numel: int, calls: int) -> None:
    """One of two processes timing ``dist.all_reduce`` over Gloo (rank 0 prints)."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        x = torch.randn(numel)
        w = torch.randn(64, 64)
        for label, compute in (("back to back", False), ("after compute", True)):
            for _ in range(calls // 10):  # warm-up
                dist.all_reduce(x)
            times = []
            for _ in range(calls):
                if compute:  # ~a minibatch's forward/backward worth of small matmuls
                    h = torch.randn(256, 64)
                    for _ in range(30):
                        h = torch.tanh(h @ w)
                start = time.perf_counter()
                dist.all_reduce(x)
                times.append(time.perf_counter() - start)
            if rank == 0:
                q = statistics.quantiles(times, n=10)
                print(f"Gloo all_reduce of {numel} floats, {label}: median "
                      f"{1e6 * statistics.median(times):.0f} us, 90th percentile "
                      f"{1e6 * q[-1]:.0f} us ({calls} calls)", flush=True)  # fmt: skip
    finally:
        dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--itrs", type=int, default=20, help="iterations per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pin", action="store_true", help="pin replica r to CPU r")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--allreduce", action="store_true", help="time a bare all-reduce")
    parser.add_argument("--numel", type=int, default=9000, help="--allreduce: tensor size")
    parser.add_argument("--calls", type=int, default=2000, help="--allreduce: calls timed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.allreduce:
        args_ = (find_port(0), args.numel, args.calls)
        torch.multiprocessing.spawn(_allreduce_worker, args=args_, nprocs=2)
        return
    rates: dict[int, list[float]] = {n: [] for n in args.replicas}
    totals: dict[int, list[float]] = {n: [] for n in args.replicas}
    splits: dict[int, list[dict]] = {n: [] for n in args.replicas}
    for repeat in range(args.repeats):
        for n in args.replicas:
            rate, elapsed, split = run(n, args.itrs, args.seed + repeat, args.pin)
            rates[n].append(rate)
            totals[n].append(elapsed)
            splits[n].append(split)
            print(f"repeat {repeat}: {n} replica(s): {rate:8.0f} steps/s steady, "
                  f"{elapsed:.1f} s end to end; rank 0 per iteration: sampling "
                  f"{1e3 * split['sample']:.1f} ms, optimising {1e3 * split['optimize']:.1f} ms",
                  flush=True)  # fmt: skip
    print()
    print("| replicas | steady steps/s per repeat | median | per replica | rank 0 sampling ms "
          "| rank 0 optimising ms | end-to-end s |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|")
    medians = {n: statistics.median(rates[n]) for n in args.replicas}
    for n in args.replicas:
        per_repeat = ", ".join(f"{r:.0f}" for r in rates[n])
        sample = statistics.median(s["sample"] for s in splits[n])
        optimize = statistics.median(s["optimize"] for s in splits[n])
        print(f"| {n} | {per_repeat} | {medians[n]:.0f} | {medians[n] / n:.0f} | "
              f"{1e3 * sample:.1f} | {1e3 * optimize:.1f} | "
              f"{statistics.median(totals[n]):.1f} |")  # fmt: skip
    base = args.replicas[0]
    for n in args.replicas[1:]:
        within = [(rates[n][i] / n) / (rates[base][i] / base) for i in range(args.repeats)]
        print(f"\nweak-scaling efficiency {n} vs {base} replica(s): ratio of medians "
              f"{(medians[n] / n) / (medians[base] / base):.2f}; within repeats "
              + ", ".join(f"{e:.2f}" for e in within))  # fmt: skip
    print(f"(os.cpu_count() = {os.cpu_count()})")


if __name__ == "__main__":
    main()
