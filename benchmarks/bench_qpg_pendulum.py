"""Training speed of SAC, TD3 and DDPG on Pendulum-v1: rlpyt against Stable-Baselines3.

Both libraries train the same setting in the same process, alternating run by run, one torch
thread each, on the CPU: one Pendulum-v1 env stepped in the training process (rlpyt
`SerialSampler` with `batch_T=1, batch_B=1`; SB3's `DummyVecEnv` with its `Monitor`), one
gradient update per env step (rlpyt `replay_ratio = batch_size`; SB3 `train_freq=1,
gradient_steps=1`), batch 256, 256x256 ReLU MLPs for the policy and every critic, the first
1000 steps collected before learning. Each run is timed end to end (building env, agent and
replay, then training for the step budget). Reported per run: training env steps per second
(wall clock, and per second of the process's CPU time, which other jobs on the machine
disturb less), and the wall-clock time until the average return of the last 5 training
episodes first reaches -250 ("-" if it did not within the budget). The tables give medians
over the repeats and the rlpyt/SB3 ratio within each repeat.

Shared hyperparameters (SB3 names; rlpyt equivalents in the code):

- SAC: lr 3e-4 (policy, critics, entropy coefficient), gamma 0.99, tau 0.005, target update
  every step, entropy coefficient tuned from 1.0 towards the target entropy -1 (of actions
  normalized to [-1, 1]; rlpyt converts it to env units), twin critics.
- TD3: lr 1e-3 (policy and critics), gamma 0.99, tau 0.005, policy delay 2, target policy
  noise 0.2 clipped at 0.5, exploration noise N(0, 0.1) (normalized units), twin critics.
- DDPG: TD3's settings with one critic, no policy delay and no target policy noise (SB3's
  DDPG is exactly that); rlpyt's critic loss has a factor 0.5 (the same Adam steps).

Differences that remain (each library's own design): before learning starts SB3 samples
uniform random actions, rlpyt's agents their pre-training exploration (SAC: std 0.75 before
the tanh; TD3: noise std 0.5; DDPG: its usual noise); rlpyt bootstraps through the time
limit (Pendulum's only episode end) with a time-limit-aware replay, SB3 from the stored final
observation; rlpyt's twin critics are one fused module; rlpyt uses fused Adam.

    python benchmarks/bench_qpg_pendulum.py [--steps 15000] [--repeats 3] [--algos sac td3 ddpg]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np
import torch
from stable_baselines3 import DDPG as Sb3DDPG
from stable_baselines3 import SAC as Sb3SAC
from stable_baselines3 import TD3 as Sb3TD3
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv

from rlpyt.agents.qpg.ddpg_agent import DdpgAgent
from rlpyt.agents.qpg.sac_agent import SacAgent
from rlpyt.agents.qpg.td3_agent import Td3Agent
from rlpyt.algos.qpg.ddpg import DDPG
from rlpyt.algos.qpg.sac import SAC
from rlpyt.algos.qpg.td3 import TD3
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

ENV_ID = "Pendulum-v1"
HIDDEN = [256, 256]
BATCH = 256
LEARNING_STARTS = 1000
THRESHOLD = -250.0
WINDOW = 5  # training episodes averaged for the threshold
GAMMA, TAU = 0.99, 0.005
SAC_LR, TD3_LR = 3e-4, 1e-3
ACTION_STD, TARGET_NOISE, TARGET_NOISE_CLIP = 0.1, 0.2, 0.5


class ThresholdClock:
    """Records the wall time at which the mean of the last ``WINDOW`` returns first reaches
    ``THRESHOLD``."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.returns: collections.deque = collections.deque(maxlen=WINDOW)
        self.reached: float | None = None

    def add(self, episode_return: float) -> None:
        self.returns.append(episode_return)
        full = len(self.returns) == WINDOW
        if self.reached is None and full and np.mean(self.returns) >= THRESHOLD:
            self.reached = time.perf_counter() - self.start


def run_rlpyt(algo_name: str, steps: int, seed: int) -> dict[str, Any]:
    """Train with rlpyt; return wall and CPU seconds, steps and the threshold time."""
    logger.disable()
    start, cpu_start = time.perf_counter(), time.process_time()
    clock = ThresholdClock(start)
    nets = dict(model_kwargs=dict(hidden_sizes=HIDDEN), q_model_kwargs=dict(hidden_sizes=HIDDEN))
    common = dict(
        discount=GAMMA,
        batch_size=BATCH,
        replay_ratio=BATCH,  # sampler batch of 1 step: one update per step
        min_steps_learn=LEARNING_STARTS,
        replay_size=int(1e6),
        target_update_tau=TAU,
    )
    if algo_name == "sac":
        agent = SacAgent(**nets)
        algo = SAC(learning_rate=SAC_LR, target_update_interval=1, **common)
    elif algo_name == "td3":
        agent = Td3Agent(
            action_std=ACTION_STD,
            target_noise_std=TARGET_NOISE,
            target_noise_clip=TARGET_NOISE_CLIP,
            **nets,
        )
        algo = TD3(
            mu_learning_rate=TD3_LR,
            q_learning_rate=TD3_LR,
            policy_update_interval=2,
            target_update_interval=2,
            **common,
        )
    else:
        agent = DdpgAgent(action_std=ACTION_STD, **nets)
        algo = DDPG(
            learning_rate=TD3_LR,
            q_learning_rate=TD3_LR,
            policy_update_interval=1,
            target_update_interval=1,
            **common,
        )
    sampler = SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id=ENV_ID),
        batch_T=1,
        batch_B=1,
        max_decorrelation_steps=0,
    )
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=steps,
        seed=seed,
        log_interval_steps=steps,  # one diagnostics row, at the end
        progress_bar=False,
    )
    obtain_samples = sampler.obtain_samples

    def obtain_and_watch(itr: int) -> Any:
        samples, traj_infos = obtain_samples(itr)
        for info in traj_infos:
            clock.add(info["Return"])
        return samples, traj_infos

    sampler.obtain_samples = obtain_and_watch
    runner.train()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    logger.enable()
    return dict(steps=runner.n_itr, wall=wall, cpu=cpu, reach=clock.reached)


class _WatchReturns(BaseCallback):
    def __init__(self, clock: ThresholdClock) -> None:
        super().__init__()
        self.clock = clock

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "episode" in info:
                self.clock.add(float(info["episode"]["r"]))
        return True


def run_sb3(algo_name: str, steps: int, seed: int) -> dict[str, Any]:
    """Train with Stable-Baselines3; return the same figures as :func:`run_rlpyt`."""
    start, cpu_start = time.perf_counter(), time.process_time()
    clock = ThresholdClock(start)
    env = make_vec_env(ENV_ID, n_envs=1, seed=seed, vec_env_cls=DummyVecEnv)
    common = dict(
        buffer_size=int(1e6),
        learning_starts=LEARNING_STARTS,
        batch_size=BATCH,
        tau=TAU,
        gamma=GAMMA,
        train_freq=1,
        gradient_steps=1,
        policy_kwargs=dict(net_arch=HIDDEN),
        seed=seed,
        device="cpu",
        verbose=0,
    )
    if algo_name == "sac":
        model = Sb3SAC(
            "MlpPolicy", env, learning_rate=SAC_LR, ent_coef="auto", target_update_interval=1,
            target_entropy="auto", **common,
        )  # fmt: skip
    else:
        noise = NormalActionNoise(np.zeros(1), ACTION_STD * np.ones(1))
        Cls = Sb3TD3 if algo_name == "td3" else Sb3DDPG
        kwargs = dict(learning_rate=TD3_LR, action_noise=noise, **common)
        if algo_name == "td3":
            kwargs.update(
                policy_delay=2,
                target_policy_noise=TARGET_NOISE,
                target_noise_clip=TARGET_NOISE_CLIP,
            )
        model = Cls("MlpPolicy", env, **kwargs)
    model.learn(total_timesteps=steps, callback=_WatchReturns(clock), progress_bar=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    env.close()
    return dict(steps=model.num_timesteps, wall=wall, cpu=cpu, reach=clock.reached)


RUNNERS = {"rlpyt": run_rlpyt, "sb3": run_sb3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15_000, help="env steps per training run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per library and algorithm")
    parser.add_argument("--algos", nargs="+", default=["sac", "td3", "ddpg"])
    parser.add_argument("--libs", nargs="+", default=["rlpyt", "sb3"], choices=list(RUNNERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # The first optimizer built in a process imports torch._dynamo (about 2 s): pay it here,
    # outside every timed run, so that neither library is charged for it.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    results: dict = defaultdict(lambda: defaultdict(list))  # [algo][lib] -> list of dicts
    for repeat in range(args.repeats):
        for algo in args.algos:
            # Alternate the order so neither library always runs first (warm caches, drift).
            libs = args.libs if repeat % 2 == 0 else args.libs[::-1]
            for lib in libs:
                r = RUNNERS[lib](algo, args.steps, args.seed + repeat)
                results[algo][lib].append(r)
                reach = "not reached" if r["reach"] is None else f"after {r['reach']:.1f} s"
                print(
                    f"repeat {repeat} {algo:4s} {lib:5s}: {r['steps']} steps in "
                    f"{r['wall']:6.1f} s = {r['steps'] / r['wall']:6.1f} steps/s "
                    f"({r['steps'] / r['cpu']:6.1f} per CPU s); return >= {THRESHOLD:g} "
                    f"{reach}",
                    flush=True,
                )
    print(
        f"\n{ENV_ID}, 1 env, 1 update per step, batch {BATCH}, {HIDDEN[0]}x{HIDDEN[1]} MLPs, "
        f"{args.steps} steps per run, {args.repeats} repeats, 1 torch thread\n"
    )
    report(results, args.algos, args.libs)


def report(results: dict, algos: list[str], libs: list[str]) -> None:
    """Print medians, per-repeat rlpyt/SB3 ratios and the times to the threshold."""
    print("| algo | library | steps/s per repeat | median steps/s | median steps/CPU-s "
          "| time to -250 per repeat (s) |")  # fmt: skip
    print("|------|---------|--------------------|---------------:|-------------------:|---|")
    for algo in algos:
        for lib in libs:
            runs = results[algo][lib]
            rates = [r["steps"] / r["wall"] for r in runs]
            cpu_rates = [r["steps"] / r["cpu"] for r in runs]
            reach = ", ".join("-" if r["reach"] is None else f"{r['reach']:.0f}" for r in runs)
            print(
                f"| {algo.upper()} | {lib} | {', '.join(f'{x:.1f}' for x in rates)} | "
                f"{statistics.median(rates):.1f} | {statistics.median(cpu_rates):.1f} | {reach} |"
            )
    if {"rlpyt", "sb3"} <= set(libs):
        print()
        for algo in algos:
            pairs = list(zip(results[algo]["rlpyt"], results[algo]["sb3"]))
            wall = [s["wall"] / r["wall"] * r["steps"] / s["steps"] for r, s in pairs]
            cpu = [s["cpu"] / r["cpu"] * r["steps"] / s["steps"] for r, s in pairs]
            print(
                f"{algo.upper()} rlpyt/SB3 steps/s within each repeat: "
                f"{', '.join(f'{x:.2f}' for x in wall)} (median {statistics.median(wall):.2f}x); "
                f"per CPU second {', '.join(f'{x:.2f}' for x in cpu)} "
                f"(median {statistics.median(cpu):.2f}x)"
            )


if __name__ == "__main__":
    main()
