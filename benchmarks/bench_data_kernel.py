"""Per-call cost of the data kernel: namedarraytuple indexing and buffer writes.

Writes one sampler step of B environments into a [T, B] samples buffer three ways, in the same
run: rlpyt (`buffer[t] = step`, one namedarraytuple assignment), plain NumPy (one assignment per
field, written by hand: the floor), and Stable-Baselines3's `RolloutBuffer.add` (the step storage
its PPO/A2C use). Also times namedarraytuple reads and allocation. Prints a table; medians of
several repeats.

    python benchmarks/bench_data_kernel.py [--B 8] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np
import torch

from rlpyt.utils.buffer import buffer_from_example, torchify_buffer
from rlpyt.utils.collections import namedarraytuple

AgentInfo = namedarraytuple("AgentInfo", ["value", "logp"])
Agent = namedarraytuple("Agent", ["action", "agent_info"])
Env = namedarraytuple("Env", ["observation", "reward", "done"])
Samples = namedarraytuple("Samples", ["agent", "env"])


def per_call_us(stmt, number, repeats):
    times = timeit.repeat(stmt, number=number, repeat=repeats)
    return statistics.median(times) / number * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--B", type=int, default=8)
    parser.add_argument("--T", type=int, default=128)
    parser.add_argument("--obs-dim", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    B, T, D, n, r = args.B, args.T, args.obs_dim, args.number, args.repeats
    torch.set_num_threads(1)

    example = Samples(
        agent=Agent(action=np.int64(0), agent_info=AgentInfo(np.float32(0), np.float32(0))),
        env=Env(observation=np.zeros(D, np.float32), reward=np.float32(0), done=False),
    )
    buf = buffer_from_example(example, (T, B), share_memory=True)
    step = Samples(
        agent=Agent(
            np.ones(B, np.int64), AgentInfo(np.ones(B, np.float32), np.ones(B, np.float32))
        ),
        env=Env(np.ones((B, D), np.float32), np.ones(B, np.float32), np.ones(B, bool)),
    )
    leaves = [
        (buf.agent.action, step.agent.action),
        (buf.agent.agent_info.value, step.agent.agent_info.value),
        (buf.agent.agent_info.logp, step.agent.agent_info.logp),
        (buf.env.observation, step.env.observation),
        (buf.env.reward, step.env.reward),
        (buf.env.done, step.env.done),
    ]

    def write_nat():
        buf[5] = step

    def write_numpy():
        for dst, src in leaves:
            dst[5] = src

    rows = []
    nat_us = per_call_us(write_nat, n, r)
    np_us = per_call_us(write_numpy, n, r)
    rows.append(("write one step of B envs: rlpyt buffer[t] = step", nat_us, np_us / nat_us))
    rows.append(("write one step of B envs: NumPy, per field by hand", np_us, 1.0))

    try:
        from gymnasium import spaces
        from stable_baselines3.common.buffers import RolloutBuffer

        sb3 = RolloutBuffer(
            T,
            spaces.Box(-1, 1, (D,), np.float32),
            spaces.Discrete(2),
            device="cpu",
            n_envs=B,
        )
        obs, act = np.ones((B, D), np.float32), np.ones(B, np.int64)
        rew, start = np.ones(B, np.float32), np.ones(B, bool)
        val, logp = torch.ones(B, 1), torch.ones(B)

        def write_sb3():
            sb3.pos = 5
            sb3.add(obs, act, rew, start, val, logp)

        sb3_us = per_call_us(write_sb3, n, r)
        rows.append(("write one step of B envs: SB3 RolloutBuffer.add", sb3_us, np_us / sb3_us))
    except ImportError:
        sb3_us = None

    rows.append(("read buffer[t] (6 leaves, nested)", per_call_us(lambda: buf[5], n, r), None))
    rows.append(("read buffer[t, b]", per_call_us(lambda: buf[5, 3], n, r), None))
    idx = np.arange(0, T, 2)
    rows.append(
        ("read buffer[idx] (fancy, T/2 rows)", per_call_us(lambda: buf[idx], n // 10, r), None)
    )
    rows.append(
        ("torchify_buffer(buffer)", per_call_us(lambda: torchify_buffer(buf), n // 10, r), None)
    )
    rows.append(
        (
            "buffer_from_example (T, B), shared",
            per_call_us(lambda: buffer_from_example(example, (T, B), True), n // 100, r),
            None,
        )
    )

    print(f"\nData kernel per-call cost (B={B}, T={T}, obs_dim={D}, median of {r} repeats)\n")
    print(f"{'operation':58s} {'us/call':>9s} {'speed vs NumPy floor':>22s}")
    print("-" * 91)
    for name, us, ratio in rows:
        print(f"{name:58s} {us:9.2f} {'' if ratio is None else f'{ratio:.2f}x':>22s}")
    if sb3_us is not None:
        print(f"\nrlpyt step write is {sb3_us / nat_us:.2f}x faster than SB3 RolloutBuffer.add")


if __name__ == "__main__":
    main()
