"""Sampling throughput (env steps/s, no training) of rlpyt's samplers, a raw env loop and
gymnasium's vector envs, on Atari Pong and a MuJoCo env.

Every case steps the same envs for the same number of env steps (whole batches of ``B`` envs x
``T`` steps) and is timed from the first step after a warm-up batch to the last (construction,
worker start-up and the warm-up are not timed). Cases:

- ``raw``: one env, ``env.step(random action)`` in a plain loop, reset when the trajectory ends;
  no sampler, no buffers. Pong: rlpyt's ``AtariEnv`` itself (the exact env work every other
  Pong case does); MuJoCo: ``gymnasium.make(id)``.
- ``raw-ale`` (Pong only, for reference): the same loop over gymnasium's own Atari pipeline,
  ``ALE/Pong-v5`` (frameskip 1, no sticky actions) + ``AtariPreprocessing`` (frame skip 4,
  84x84 grayscale, max over the last two frames, up to 30 no-ops) + ``FrameStackObservation(4)``.
- ``gym-sync`` / ``gym-async``: gymnasium ``SyncVectorEnv`` / ``AsyncVectorEnv(shared_memory=True)``
  over ``B`` copies of the same env (Pong: ``AtariEnv`` behind a gymnasium ``Env`` adapter,
  so the per-step env work is identical; MuJoCo: ``gymnasium.make(id)``, which rlpyt's
  ``gym_make`` also wraps). Same-step autoreset, ``copy=False`` (gymnasium's fastest settings),
  one process per env for ``AsyncVectorEnv`` (its design). Each step's observation, action,
  reward and done are written into ``[T, B]`` arrays, as a training loop would keep them.
- ``serial`` / ``cpu`` / ``gpu`` / ``alt``: rlpyt ``SerialSampler``, ``CpuSampler``,
  ``GpuSampler`` and ``AlternatingSampler`` with ``--workers`` unpinned worker processes (the
  alternating sampler splits them into its two groups), ``fork`` start, the agent on CPU,
  ``obtain_samples`` per batch. Pong uses ``AtariTrajInfo`` as a real run does.

Agents (``--agents``): ``random`` is a parameter-free agent that draws uniform actions with one
``torch.randint`` / ``Tensor.uniform_`` per batched step (a few microseconds), so env work and
sampler overhead dominate: these rows compare fairly with ``raw`` and ``gym-*``, whose actions
are drawn up front (no policy cost at all, which slightly favours them). ``model`` is the real
policy of the examples: ``AtariFfAgent`` (conv net) on Pong, ``MujocoFfAgent`` (64x64 MLP) on
MuJoCo, one torch thread per process; it shows what the policy forward adds per sampler.

The table gives wall-clock steps/s per repeat and their median, and the median CPU time per
env step summed over all processes of the case (the master and its workers or env processes,
user + system): on a shared machine the wall-clock rates move with the load, the CPU time much
less, and it shows what parallelism costs in total work. The cases run in a rotated order each
repeat. Ratios are computed within each repeat (both from the same repeat) and summarised by
their median, next to the ratio of the medians; the issue's targets are checked on Pong.

    python benchmarks/bench_samplers.py [--env pong|mujoco|both] [--steps 16384] [--repeats 3]
        [--workers 2] [--B 8] [--T 64] [--agents random model] [--cases raw serial cpu ...]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import psutil
import torch

from rlpyt.agents.base import AgentStep, BaseAgent, space_shape
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo
from rlpyt.envs.gym import make as gym_make
from rlpyt.samplers.collections import TrajInfo
from rlpyt.samplers.parallel.cpu.sampler import CpuSampler
from rlpyt.samplers.parallel.gpu.alternating_sampler import AlternatingSampler
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.logging import logger

SAMPLERS = {
    "serial": SerialSampler,
    "cpu": CpuSampler,
    "gpu": GpuSampler,
    "alt": AlternatingSampler,
}
ENV_CASES = ["raw", "raw-ale", "gym-sync", "gym-async"]
ALL_CASES = [*ENV_CASES, *SAMPLERS]
DEFAULT_B = {"pong": 8, "mujoco": 4}

# -- a random agent for rlpyt ---------------------------------------------------------------

RandomAgentInfo = namedarraytuple("RandomAgentInfo", ["value"])


class _NoModel(torch.nn.Module):
    """A model without parameters (nothing to publish to the workers)."""


class RandomAgent(BaseAgent):
    """Uniform random actions for all ``B`` envs in one torch call; ``value`` is zero.

    Discrete actions from ``torch.randint``, box actions uniform in the bounds (finite, the
    same in every dimension, as in MuJoCo's envs).
    """

    def __init__(self) -> None:
        super().__init__(ModelCls=_NoModel)
        self._zeros: dict[int, torch.Tensor] = {}

    def initialize(self, env_spaces: Any, share_memory: bool = False, global_B: int = 1,
                   env_ranks: Any = None) -> None:  # fmt: skip
        super().initialize(env_spaces, share_memory, global_B, env_ranks)
        space = getattr(env_spaces.action, "space", env_spaces.action)
        self._n = int(space.n) if hasattr(space, "n") else None
        if self._n is None:
            self._shape = space_shape(space)
            low, high = (np.broadcast_to(x, self._shape) for x in (space.low, space.high))
            if low.min() != low.max() or high.min() != high.max():
                raise ValueError("RandomAgent: box actions need the same bounds in every dim")
            self._bounds = (float(low.flat[0]), float(high.flat[0]))

    def step(self, observation: Any, prev_action: Any, prev_reward: Any) -> AgentStep:
        B = prev_reward.shape[0]
        if self._n is not None:
            action = torch.randint(self._n, (B,))
        else:
            action = torch.empty(B, *self._shape).uniform_(*self._bounds)
        value = self._zeros.get(B)
        if value is None:  # the collectors copy agent outputs: one zeros tensor will do
            value = self._zeros[B] = torch.zeros(B)
        return AgentStep(action, RandomAgentInfo(value=value))


# -- envs -----------------------------------------------------------------------------------


class AtariGymnasiumEnv(gymnasium.Env):
    """rlpyt's ``AtariEnv`` behind gymnasium's ``Env`` API, so gymnasium's vector envs do
    exactly the env work rlpyt's samplers do.

    ``terminated`` is game over, ``truncated`` the time limit; a life loss ends nothing here
    (``AtariEnv`` already restarts the frame stack inside that step), which matches rlpyt's
    collectors resetting only on ``traj_done``. The info dict is empty.
    """

    def __init__(self, **env_kwargs: Any) -> None:
        self.env = AtariEnv(**env_kwargs)
        self.observation_space = gymnasium.spaces.Box(
            0, 255, self.env.observation_space.shape, np.uint8
        )
        self.action_space = gymnasium.spaces.Discrete(self.env.action_space.n)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        if seed is not None:
            self.env.seed(seed)
        return self.env.reset(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        o, r, _, info = self.env.step(action)
        truncated = bool(info.timeout)
        return o, float(r), bool(info.traj_done) and not truncated, truncated, {}


def mujoco_id() -> str:
    """``HalfCheetah-v5`` where this gymnasium has it, else ``HalfCheetah-v4``."""
    return "HalfCheetah-v5" if "HalfCheetah-v5" in gymnasium.registry else "HalfCheetah-v4"


def ale_pong() -> gymnasium.Env:
    """gymnasium's own Atari pipeline with rlpyt's Pong settings."""
    import ale_py

    gymnasium.register_envs(ale_py)
    env = gymnasium.make("ALE/Pong-v5", frameskip=1, repeat_action_probability=0.0)
    env = gymnasium.wrappers.AtariPreprocessing(
        env, noop_max=30, frame_skip=4, screen_size=84, terminal_on_life_loss=False
    )
    return gymnasium.wrappers.FrameStackObservation(env, 4)


class Setting:
    """What one env family needs: constructors for rlpyt, gymnasium and the agents."""

    def __init__(self, env: str) -> None:
        self.name = env
        if env == "pong":
            self.EnvCls, self.env_kwargs = AtariEnv, dict(game="pong")
            self.gym_fn: Callable[[], gymnasium.Env] = functools.partial(
                AtariGymnasiumEnv, game="pong"
            )
            self.TrajInfoCls: Any = AtariTrajInfo
            self.title = "Pong (AtariEnv: frame skip 4, 84x84 grayscale, 4 frames)"
        else:
            env_id = mujoco_id()
            self.EnvCls, self.env_kwargs = gym_make, dict(id=env_id)
            self.gym_fn = functools.partial(gymnasium.make, env_id)
            self.TrajInfoCls = TrajInfo
            self.title = env_id

    def model_agent(self) -> BaseAgent:
        if self.name == "pong":
            from rlpyt.agents.pg.atari import AtariFfAgent

            return AtariFfAgent()
        from rlpyt.agents.pg.mujoco import MujocoFfAgent

        return MujocoFfAgent()


def random_actions(space: gymnasium.Space, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Uniform random actions of ``space`` with leading ``shape``, drawn up front."""
    rng = np.random.default_rng(seed)
    if isinstance(space, gymnasium.spaces.Discrete):
        return rng.integers(space.n, size=shape)
    return rng.uniform(space.low, space.high, size=(*shape, *space.shape)).astype(space.dtype)


# -- timed cases ----------------------------------------------------------------------------


class Clock:
    """Wall time and CPU time (user + system) of this process and all its children (worker
    processes), over a ``with`` block. The CPU time per step measures the work a case does
    whatever else runs on the machine; the wall time is what a run sees."""

    def __enter__(self) -> Clock:
        self._cpu0 = self._cpu_by_pid()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self._wall0
        cpu1 = self._cpu_by_pid()
        self.cpu = sum(t - self._cpu0.get(pid, 0.0) for pid, t in cpu1.items())

    @staticmethod
    def _cpu_by_pid() -> dict[int, float]:
        me = psutil.Process()
        times = {}
        for proc in [me, *me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
            except psutil.Error:  # ended meanwhile
                continue
            times[proc.pid] = t.user + t.system
        return times


def run_raw(make: Callable[[], Any], n_steps: int, seed: int, gym_api: bool) -> Clock:
    """``n_steps`` plain ``env.step`` calls (after 100 untimed ones)."""
    env = make()
    if gym_api:
        space = env.action_space
        env.reset(seed=seed)
    else:
        space = gymnasium.spaces.Discrete(env.action_space.n)
        env.seed(seed)
        env.reset()
    actions = random_actions(space, (n_steps + 100,), seed)

    def play(actions: np.ndarray) -> None:
        for a in actions:
            if gym_api:
                *_, terminated, truncated, _ = env.step(a)
                if terminated or truncated:
                    env.reset()
            else:
                _, _, _, info = env.step(a)
                if info.traj_done:
                    env.reset()

    play(actions[:100])
    with Clock() as clock:
        play(actions[100:])
    env.close()
    return clock


def run_gym_vector(setting: Setting, asynchronous: bool, n_batches: int, B: int, T: int,
                   seed: int) -> Clock:  # fmt: skip
    """``n_batches`` batches of ``T`` steps of a gymnasium vector env of ``B`` envs (after one
    untimed batch), recording each step into ``[T, B]`` arrays."""
    mode = gymnasium.vector.AutoresetMode.SAME_STEP
    fns = [setting.gym_fn] * B
    if asynchronous:
        vec: Any = gymnasium.vector.AsyncVectorEnv(
            fns, shared_memory=True, copy=False, autoreset_mode=mode
        )
    else:
        vec = gymnasium.vector.SyncVectorEnv(fns, copy=False, autoreset_mode=mode)
    obs, _ = vec.reset(seed=seed)
    single = vec.single_action_space
    actions = random_actions(single, (n_batches + 1, T, B), seed)
    obs_buf = np.zeros((T, B, *vec.single_observation_space.shape), obs.dtype)
    act_buf = np.zeros((T, B, *single.shape), actions.dtype)
    rew_buf = np.zeros((T, B), np.float32)
    done_buf = np.zeros((T, B), bool)

    def batch(actions: np.ndarray) -> None:
        nonlocal obs
        for t in range(T):
            obs_buf[t] = obs
            act_buf[t] = actions[t]
            obs, reward, terminated, truncated, _ = vec.step(actions[t])
            rew_buf[t] = reward
            np.logical_or(terminated, truncated, out=done_buf[t])

    batch(actions[0])
    with Clock() as clock:
        for i in range(1, n_batches + 1):
            batch(actions[i])
    vec.close()
    return clock


def run_sampler(setting: Setting, kind: str, agent_kind: str, n_batches: int, B: int, T: int,
                workers: int, seed: int) -> Clock:  # fmt: skip
    """``n_batches`` calls of ``obtain_samples`` (after one untimed call)."""
    sampler = SAMPLERS[kind](
        EnvCls=setting.EnvCls,
        env_kwargs=setting.env_kwargs,
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=0,
        TrajInfoCls=setting.TrajInfoCls,
    )
    agent = RandomAgent() if agent_kind == "random" else setting.model_agent()
    affinity = None if kind == "serial" else dict(workers_cpus=[None] * workers)
    sampler.initialize(agent, affinity=affinity, seed=seed)
    try:
        sampler.obtain_samples(0)
        with Clock() as clock:
            for itr in range(1, n_batches + 1):
                sampler.obtain_samples(itr)
        return clock
    finally:
        sampler.shutdown()


def measure(setting: Setting, case: str, args: argparse.Namespace, B: int, n_batches: int,
            seed: int) -> Clock:  # fmt: skip
    """Run one case (``"cpu/random"`` etc. for samplers) for ``n_batches * B * T`` steps."""
    n_steps = n_batches * B * args.T
    if case == "raw":
        gym_api = setting.name != "pong"
        make = setting.gym_fn if gym_api else functools.partial(AtariEnv, **setting.env_kwargs)
        return run_raw(make, n_steps, seed, gym_api)
    if case == "raw-ale":
        return run_raw(ale_pong, n_steps, seed, gym_api=True)
    if case.startswith("gym-"):
        return run_gym_vector(setting, case == "gym-async", n_batches, B, args.T, seed)
    kind, agent_kind = case.split("/")
    return run_sampler(setting, kind, agent_kind, n_batches, B, args.T, args.workers, seed)


# -- report ---------------------------------------------------------------------------------

LABELS = {
    "raw": "raw env loop (1 env)",
    "raw-ale": "raw loop, gymnasium ALE + AtariPreprocessing",
    "gym-sync": "gymnasium SyncVectorEnv",
    "gym-async": "gymnasium AsyncVectorEnv (shared memory)",
    "serial": "rlpyt SerialSampler",
    "cpu": "rlpyt CpuSampler",
    "gpu": "rlpyt GpuSampler (agent on CPU)",
    "alt": "rlpyt AlternatingSampler (agent on CPU)",
}
# (numerator, denominator, target on Pong): the targets, then other ratios of interest.
RATIOS = [
    ("cpu/random", "serial/random", 1.7),
    ("cpu/random", "gym-async", 2.0),
    ("serial/random", "raw", 0.85),
    ("cpu/model", "serial/model", None),
    ("gpu/random", "serial/random", None),
    ("alt/model", "gpu/model", None),
    ("gym-async", "gym-sync", None),
    ("raw", "raw-ale", None),
]


def label(case: str) -> str:
    kind, _, agent = case.partition("/")
    return LABELS[kind] + (f", {agent} agent" if agent else "")


def report(rates: dict[str, list[float]], cpu_us: dict[str, list[float]], targets: bool) -> None:
    """Print the table of steps/s and CPU time per step, then the ratios."""
    print("| case | steps/s per repeat | median steps/s | CPU us per step (all processes) |")
    print("|------|--------------------|---------------:|--------------------------------:|")
    for case, runs in rates.items():
        per_run = ", ".join(f"{r:.0f}" for r in runs)
        print(
            f"| {label(case)} | {per_run} | {statistics.median(runs):.0f} "
            f"| {statistics.median(cpu_us[case]):.0f} |"
        )
    print()
    for num, den, target in RATIOS:
        if num not in rates or den not in rates:
            continue
        within = [a / b for a, b in zip(rates[num], rates[den])]
        of_medians = statistics.median(rates[num]) / statistics.median(rates[den])
        verdict = ""
        if target is not None and targets:
            met = statistics.median(within) >= target
            verdict = f" [target >= {target}: {'met' if met else 'NOT met'}]"
        print(
            f"{num} / {den}: ratio of medians {of_medians:.2f}x; within each repeat "
            f"{', '.join(f'{x:.2f}' for x in within)} (median {statistics.median(within):.2f}x)"
            f"{verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["pong", "mujoco", "both"], default="both")
    parser.add_argument("--steps", type=int, default=16_384, help="env steps per case and repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="parallel samplers' workers")
    parser.add_argument("--B", type=int, default=None, help="envs (default: Pong 8, MuJoCo 4)")
    parser.add_argument("--T", type=int, default=64, help="time steps per batch")
    parser.add_argument("--agents", nargs="+", default=["random", "model"],
                        choices=["random", "model"])  # fmt: skip
    parser.add_argument("--cases", nargs="+", default=ALL_CASES, choices=ALL_CASES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logger.disable()  # the samplers' start-up lines
    envs = ["pong", "mujoco"] if args.env == "both" else [args.env]
    for env in envs:
        setting = Setting(env)
        B = args.B or DEFAULT_B[env]
        n_batches = max(1, round(args.steps / (B * args.T)))
        cases = [c for c in args.cases if c in ENV_CASES and (c != "raw-ale" or env == "pong")]
        cases += [f"{c}/{a}" for a in args.agents for c in args.cases if c in SAMPLERS]
        n_steps = n_batches * B * args.T
        rates: dict[str, list[float]] = defaultdict(list)
        cpu_us: dict[str, list[float]] = defaultdict(list)
        for repeat in range(args.repeats):
            shift = repeat % len(cases)  # rotate the order: no case always runs first
            for case in cases[shift:] + cases[:shift]:
                clock = measure(setting, case, args, B, n_batches, args.seed + repeat)
                rates[case].append(n_steps / clock.wall)
                cpu_us[case].append(1e6 * clock.cpu / n_steps)
                print(
                    f"{env} repeat {repeat} {case:14s}: {n_steps / clock.wall:8.0f} steps/s, "
                    f"{1e6 * clock.cpu / n_steps:6.0f} CPU us per step",
                    flush=True,
                )
        print(
            f"\n{setting.title}: B={B} envs, T={args.T}, {n_steps} steps per "
            f"case, {args.repeats} repeats, {args.workers} workers, 1 torch thread\n"
        )
        report({case: rates[case] for case in cases}, cpu_us, targets=env == "pong")
        print()


if __name__ == "__main__":
    main()
