"""Replay buffers: append/sample throughput, and the memory of a 1M-transition Atari frame buffer.

Times ``append_samples`` and ``sample_batch`` (and ``update_batch_priorities``) of rlpyt's
buffers in DQN-on-Atari, SAC-on-MuJoCo and R2D1-on-Atari shapes, next to Stable-Baselines3's
``ReplayBuffer`` (``add`` once per step of all envs, ``sample``) on the same data. All
operations of a table are timed round-robin within each repeat, so load on the machine hits
them alike; the rlpyt/SB3 ratios are taken within each repeat, then the median. Then reports
the bytes per stored step of a 1M-transition frame buffer (84x84 uint8 frames, 4-frame
stacks) against one frame (84*84 bytes) and against whole-stack storage, and checks the
figure by filling a smaller buffer and measuring resident memory.

    python benchmarks/bench_replay.py [--repeats 15] [--size 1000000] [--skip-rss]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np
import psutil
import torch

from rlpyt.models.utils import RnnState
from rlpyt.replays.base import PrioritiesSamplesToBuffer, SamplesToBuffer, SamplesToBufferRnn
from rlpyt.replays.non_sequence.frame import PrioritizedReplayFrameBuffer, UniformReplayFrameBuffer
from rlpyt.replays.non_sequence.prioritized import PrioritizedReplayBuffer
from rlpyt.replays.non_sequence.uniform import UniformReplayBuffer
from rlpyt.replays.sequence.frame import PrioritizedSequenceReplayFrameBuffer

FRAME = (84, 84)
N_FRAMES = 4

try:
    from gymnasium import spaces
    from stable_baselines3.common.buffers import ReplayBuffer as Sb3ReplayBuffer
except ImportError:  # the side-by-side rows are left out
    Sb3ReplayBuffer = None


def round_robin(ops, repeats):
    """Time ``ops`` (``name -> (fn, calls per repeat)``) in turn, ``repeats`` times.

    Returns ``name -> [seconds per call, one per repeat]``."""
    times = {name: [] for name in ops}
    for _ in range(repeats):
        for name, (fn, number) in ops.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - t0) / number)
    return times


def cycler(items):
    """A function returning the items in turn (distinct batches for consecutive appends)."""
    state = {"i": 0}

    def nxt():
        state["i"] += 1
        return items[state["i"] % len(items)]

    return nxt


def print_table(times, items, title):
    print(f"\n### {title}\n")
    print("| operation | us per call (median) | items per s |")
    print("|---|---:|---:|")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {t * 1e6:.1f} | {items[name] / t:,.0f} |")


def print_ratios(times, pairs):
    for label, (ours, theirs) in pairs.items():
        ratios = [b / a for a, b in zip(times[ours], times[theirs])]
        print(
            f"- {label}: rlpyt {statistics.median(ratios):.2f}x SB3's speed "
            f"(per repeat: {', '.join(f'{r:.2f}' for r in ratios)})"
        )


def fill_rlpyt(buf, next_batch, n_steps):
    while buf.steps_written < n_steps:
        buf.append_samples(next_batch())


def atari_batches(T, B, n, rng):
    """``n`` distinct appendable batches of Atari-shaped samples."""
    return [
        SamplesToBuffer(
            observation=rng.integers(0, 255, (T, B, N_FRAMES, *FRAME), dtype=np.uint8),
            action=rng.integers(0, 6, (T, B)),
            reward=rng.normal(size=(T, B)).astype(np.float32),
            done=rng.random((T, B)) < 0.01,
        )
        for _ in range(n)
    ]


def rlpyt_ops(name, buf, next_batch, batch_B, number, T, B):
    """Append, sample (and sample + update) ops of a filled rlpyt buffer."""
    fill_rlpyt(buf, next_batch, buf.T)  # a full ring: samples come from all of it
    ops = {
        f"rlpyt {name}.append_samples (steps/s)": (
            lambda: buf.append_samples(next_batch()),
            number,
        ),
        f"rlpyt {name}.sample_batch (samples/s)": (lambda: buf.sample_batch(batch_B), number),
    }
    items = {k: (T * B if "append" in k else batch_B) for k in ops}
    if buf.priority_tree is not None:
        priorities = torch.rand(batch_B)

        def sample_update():
            buf.sample_batch(batch_B)
            buf.update_batch_priorities(priorities)

        key = f"rlpyt {name}.sample_batch + update_batch_priorities (samples/s)"
        ops[key] = (sample_update, number)
        items[key] = batch_B
    return ops, items


def sb3_ops(buf, next_batch, batch_B, number, T, B, label):
    infos = [{} for _ in range(B)]

    def add():
        batch = next_batch()
        for t in range(T):
            nxt = batch.observation[min(t + 1, T - 1)]
            buf.add(
                batch.observation[t], nxt, batch.action[t], batch.reward[t], batch.done[t], infos
            )

    while not buf.full:
        add()
    ops = {
        f"SB3 {label}.add x T (steps/s)": (add, number),
        f"SB3 {label}.sample (samples/s)": (lambda: buf.sample(batch_B), number),
    }
    items = {k: (T * B if "add" in k else batch_B) for k in ops}
    return ops, items


def bench_atari(args, rng):
    T, B, batch_B, size = 4, 8, 32, args.bench_size
    example = SamplesToBuffer(
        np.zeros((N_FRAMES, *FRAME), np.uint8), np.int64(0), np.float32(0), False
    )
    next_batch = cycler(atari_batches(T, B, 8, rng))
    ops, items = {}, {}
    for Cls in (UniformReplayFrameBuffer, PrioritizedReplayFrameBuffer):
        buf = Cls(example, size=size, B=B, discount=0.99, n_step_return=3)
        o, i = rlpyt_ops(Cls.__name__, buf, next_batch, batch_B, 40, T, B)
        ops.update(o)
        items.update(i)
    if Sb3ReplayBuffer is not None:
        sb3 = Sb3ReplayBuffer(
            size,
            spaces.Box(0, 255, (N_FRAMES, *FRAME), np.uint8),
            spaces.Discrete(6),
            device="cpu",
            n_envs=B,
            optimize_memory_usage=True,
            handle_timeout_termination=False,
        )
        o, i = sb3_ops(sb3, next_batch, batch_B, 40, T, B, "ReplayBuffer(optimize_memory_usage)")
        ops.update(o)
        items.update(i)
    times = round_robin(ops, args.repeats)
    print_table(
        times,
        items,
        f"DQN on Atari: appends of [T={T}, B={B}] 4x84x84 uint8, batches of {batch_B}, "
        f"n_step_return=3, {size:,} steps held",
    )
    if Sb3ReplayBuffer is not None:
        print()
        print_ratios(
            times,
            {
                "append (uniform frame buffer)": (
                    "rlpyt UniformReplayFrameBuffer.append_samples (steps/s)",
                    "SB3 ReplayBuffer(optimize_memory_usage).add x T (steps/s)",
                ),
                "sample (uniform frame buffer)": (
                    "rlpyt UniformReplayFrameBuffer.sample_batch (samples/s)",
                    "SB3 ReplayBuffer(optimize_memory_usage).sample (samples/s)",
                ),
            },
        )
        print("(SB3 computes no n-step returns and rebuilds no frame stacks.)")


def bench_mujoco(args, rng):
    T, B, batch_B, size = 1, 8, 256, 200_000
    obs_dim, act_dim = 17, 6
    example = SamplesToBuffer(
        np.zeros(obs_dim, np.float32), np.zeros(act_dim, np.float32), np.float32(0), False
    )
    next_batch = cycler(
        [
            SamplesToBuffer(
                rng.normal(size=(T, B, obs_dim)).astype(np.float32),
                rng.normal(size=(T, B, act_dim)).astype(np.float32),
                rng.normal(size=(T, B)).astype(np.float32),
                rng.random((T, B)) < 0.001,
            )
            for _ in range(8)
        ]
    )
    ops, items = {}, {}
    for Cls in (UniformReplayBuffer, PrioritizedReplayBuffer):
        buf = Cls(example, size=size, B=B, discount=0.99, n_step_return=1)
        o, i = rlpyt_ops(Cls.__name__, buf, next_batch, batch_B, 100, T, B)
        ops.update(o)
        items.update(i)
    if Sb3ReplayBuffer is not None:
        sb3 = Sb3ReplayBuffer(
            size,
            spaces.Box(-1, 1, (obs_dim,), np.float32),
            spaces.Box(-1, 1, (act_dim,), np.float32),
            device="cpu",
            n_envs=B,
            handle_timeout_termination=False,
        )
        o, i = sb3_ops(sb3, next_batch, batch_B, 100, T, B, "ReplayBuffer")
        ops.update(o)
        items.update(i)
    times = round_robin(ops, args.repeats)
    print_table(
        times,
        items,
        f"SAC on MuJoCo: appends of [T={T}, B={B}], observation 17 / action 6 float32, "
        f"batches of {batch_B}, {size:,} steps held",
    )
    if Sb3ReplayBuffer is not None:
        print()
        print_ratios(
            times,
            {
                "append (uniform)": (
                    "rlpyt UniformReplayBuffer.append_samples (steps/s)",
                    "SB3 ReplayBuffer.add x T (steps/s)",
                ),
                "sample (uniform)": (
                    "rlpyt UniformReplayBuffer.sample_batch (samples/s)",
                    "SB3 ReplayBuffer.sample (samples/s)",
                ),
            },
        )


def bench_r2d1(args, rng):
    T, B, batch_B, batch_T, rsi, H = 40, 8, 64, 120, 40, 512
    rnn = RnnState(h=np.zeros((1, H), np.float32), c=np.zeros((1, H), np.float32))
    example = SamplesToBufferRnn(
        np.zeros((N_FRAMES, *FRAME), np.uint8), np.int64(0), np.float32(0), False, rnn
    )
    batches = []
    for base in atari_batches(T, B, 4, rng):
        state = RnnState(
            h=rng.normal(size=(T, B, 1, H)).astype(np.float32),
            c=rng.normal(size=(T, B, 1, H)).astype(np.float32),
        )
        samples = SamplesToBufferRnn(*base, prev_rnn_state=state)
        batches.append(PrioritiesSamplesToBuffer(priorities=rng.random(B) + 0.1, samples=samples))
    buf = PrioritizedSequenceReplayFrameBuffer(
        example,
        size=args.bench_size,
        B=B,
        rnn_state_interval=rsi,
        batch_T=batch_T,
        discount=0.997,
        n_step_return=5,
        input_priorities=True,
        input_priority_shift=1,
    )
    name = "PrioritizedSequenceReplayFrameBuffer"
    next_batch = cycler(batches)
    fill_rlpyt(buf, next_batch, buf.T)
    ops = {
        f"rlpyt {name}.append_samples (steps/s)": (lambda: buf.append_samples(next_batch()), 10),
        f"rlpyt {name}.sample_batch (sequences/s)": (lambda: buf.sample_batch(batch_B), 3),
    }
    items = {k: (T * B if "append" in k else batch_B) for k in ops}
    times = round_robin(ops, args.repeats)
    print_table(
        times,
        items,
        f"R2D1 on Atari: appends of [T={T}, B={B}] with LSTM({H}) states and input priorities; "
        f"{batch_B} sequences of {batch_T}+5 steps, rnn_state_interval={rsi}",
    )
    mib = (batch_T + 5) * batch_B * N_FRAMES * FRAME[0] * FRAME[1] / 2**20
    print(f"\n(one sequence batch holds {mib:.0f} MiB of rebuilt frame stacks)")


def bench_memory(args):
    frame_bytes = FRAME[0] * FRAME[1]
    B = 8
    example = SamplesToBuffer(
        np.zeros((N_FRAMES, *FRAME), np.uint8), np.int64(0), np.float32(0), False
    )
    print(
        f"\n### Memory: {args.size:,} transitions (B={B}), 84x84 uint8 frames, {N_FRAMES}-frame "
        f"stacks; one frame = {frame_bytes} bytes\n"
    )
    print("| buffer (capacity) | bytes allocated | bytes per step | / one frame |")
    print("|---|---:|---:|---:|")

    def report(name, total, n):
        per = total / n
        print(f"| {name} ({n:,}) | {total:,} | {per:,.1f} | {per / frame_bytes:.3f} |")

    for Cls in (UniformReplayFrameBuffer, PrioritizedReplayFrameBuffer, UniformReplayBuffer):
        # Whole 4-frame stacks at 1M steps would be 28 GB of address space: that one is sized
        # down (bytes per step do not depend on the capacity). Nothing here is written, so
        # the OS commits no memory.
        size = args.size if Cls is not UniformReplayBuffer else min(args.size, 50_000)
        buf = Cls(example, size=size, B=B, discount=0.99, n_step_return=3)
        report(f"rlpyt {Cls.__name__}", buf.nbytes, buf.size)
        del buf
        gc.collect()
    if Sb3ReplayBuffer is not None:
        sb3 = Sb3ReplayBuffer(
            min(args.size, 50_000),
            spaces.Box(0, 255, (N_FRAMES, *FRAME), np.uint8),
            spaces.Discrete(6),
            device="cpu",
            n_envs=B,
            optimize_memory_usage=True,
            handle_timeout_termination=False,
        )
        total = sum(a.nbytes for a in vars(sb3).values() if isinstance(a, np.ndarray))
        report("SB3 ReplayBuffer(optimize_memory_usage)", total, sb3.buffer_size * B)
        del sb3
    if args.skip_rss:
        return
    # Resident memory of a smaller buffer once every page has been written.
    n_steps = 100_000
    next_batch = cycler(atari_batches(4, B, 4, np.random.default_rng(0)))
    gc.collect()
    proc = psutil.Process()
    before = proc.memory_info().rss
    buf = UniformReplayFrameBuffer(example, size=n_steps, B=B, discount=0.99, n_step_return=3)
    fill_rlpyt(buf, next_batch, buf.T + 4)
    grown = proc.memory_info().rss - before
    print(
        f"\nResident memory gained by filling a {n_steps:,}-step UniformReplayFrameBuffer: "
        f"{grown / n_steps:,.1f} bytes per step ({grown / n_steps / frame_bytes:.3f} frames; "
        f"its arrays hold {buf.nbytes / buf.size:,.1f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--size", type=int, default=1_000_000, help="memory table capacity")
    parser.add_argument(
        "--bench-size",
        type=int,
        default=50_000,
        help="capacity of the Atari buffers timed (their pages are written)",
    )
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--only", choices=["atari", "mujoco", "r2d1", "memory"], default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    np.random.seed(0)
    rng = np.random.default_rng(0)
    print(f"Medians over {args.repeats} round-robin repeats; items are env steps or samples.")
    for name, fn in {"atari": bench_atari, "mujoco": bench_mujoco, "r2d1": bench_r2d1}.items():
        if args.only in (None, name):
            fn(args, rng)
            gc.collect()
    if args.only in (None, "memory"):
        bench_memory(args)


if __name__ == "__main__":
    main()
