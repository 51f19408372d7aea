"""Training throughput of PPO and A2C on CartPole-v1: rlpyt against Stable-Baselines3.

Both libraries train the same setting in the same process, alternating run by run, one torch
thread each: 8 CartPole-v1 envs stepped in the training process (rlpyt `SerialSampler`, SB3
`DummyVecEnv` with its `Monitor` wrapper, as `make_vec_env` builds it), 128 steps per env per
iteration, separate 64x64 tanh policy and value MLPs (SB3's default `MlpPolicy`; rlpyt's
default `CategoricalPgMlpModel`). Each run is timed end to end (building the envs, agent and
optimizer, then training for the step budget) and reported as environment steps per second;
the table gives medians over the repeats and the rlpyt/SB3 ratio of the medians, as well as the
ratio within each repeat. rlpyt's time is also split into sampling and optimisation.

Shared hyperparameters (SB3 names; rlpyt equivalents in the code):

- PPO: lr 3e-4 (constant), gamma 0.99, GAE lambda 0.95, clip 0.2, 4 epochs x 4 minibatches of
  256, ent_coef 0, vf_coef 0.5, max_grad_norm 0.5, advantage normalisation on.
- A2C: n_steps 128 (not SB3's default 5), one update per batch, lr 7e-4, gamma 0.99, GAE
  lambda 1, ent_coef 0, vf_coef 0.5, max_grad_norm 0.5, advantage normalisation off.
- Both: Adam with eps 1e-5 (SB3's A2C gets `use_rms_prop=False`; SB3 sets eps 1e-5 for Adam).

Differences that remain (kept because each is the library's own design): rlpyt's value loss is
``value_loss_coeff * mean(0.5 * err**2)``, so ``value_loss_coeff=1`` equals SB3's
``vf_coef=0.5 * mean(err**2)``; rlpyt normalises advantages over the whole batch, SB3 per
minibatch; rlpyt bootstraps time-limit truncations from the value of the truncated step, SB3
from an extra forward pass on the terminal observation; rlpyt uses the fused Adam kernel.

    python benchmarks/bench_pg_cartpole.py [--steps 50000] [--repeats 3] [--algos ppo a2c]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch
from stable_baselines3 import A2C as Sb3A2C
from stable_baselines3 import PPO as Sb3PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.a2c import A2C
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

N_ENVS = 8
N_STEPS = 128  # per env per iteration (rlpyt batch_T, SB3 n_steps)
ENV_ID = "CartPole-v1"

PPO_KWARGS = dict(lr=3e-4, gamma=0.99, gae_lambda=0.95, clip=0.2, epochs=4, minibatches=4)
A2C_KWARGS = dict(lr=7e-4, gamma=0.99, gae_lambda=1.0)
ENT_COEF, VF_COEF, MAX_GRAD_NORM, ADAM_EPS = 0.0, 0.5, 0.5, 1e-5


def _timed(fn: Callable, totals: dict[str, float], key: str) -> Callable:
    """``fn`` wrapped to add its wall time to ``totals[key]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    return wrapper


def run_rlpyt(algo_name: str, steps: int, seed: int) -> tuple[int, float, dict[str, float]]:
    """Train with rlpyt; return ``(env steps, seconds, {"sample": s, "optimize": s})``."""
    logger.disable()
    start = time.perf_counter()
    sampler = SerialSampler(
        EnvCls=gym_make, env_kwargs=dict(id=ENV_ID), batch_T=N_STEPS, batch_B=N_ENVS
    )
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[64, 64]))
    common = dict(
        value_loss_coeff=2 * VF_COEF,  # rlpyt's loss has the 0.5 inside: 1.0 here == SB3's 0.5
        entropy_loss_coeff=ENT_COEF,
        clip_grad_norm=MAX_GRAD_NORM,
        OptimCls=torch.optim.Adam,
        optim_kwargs=dict(eps=ADAM_EPS),
    )
    if algo_name == "ppo":
        k = PPO_KWARGS
        algo = PPO(
            learning_rate=k["lr"],
            discount=k["gamma"],
            gae_lambda=k["gae_lambda"],
            ratio_clip=k["clip"],
            epochs=k["epochs"],
            minibatches=k["minibatches"],
            linear_lr_schedule=False,  # SB3's default: constant learning rate and clip range
            normalize_advantage=True,
            **common,
        )
    else:
        k = A2C_KWARGS
        algo = A2C(
            learning_rate=k["lr"],
            discount=k["gamma"],
            gae_lambda=k["gae_lambda"],
            normalize_advantage=False,
            **common,
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
    split: dict[str, float] = defaultdict(float)
    sampler.obtain_samples = _timed(sampler.obtain_samples, split, "sample")
    algo.optimize_agent = _timed(algo.optimize_agent, split, "optimize")
    runner.train()
    elapsed = time.perf_counter() - start
    logger.enable()
    return runner.n_itr * N_STEPS * N_ENVS, elapsed, dict(split)


def run_sb3(algo_name: str, steps: int, seed: int) -> tuple[int, float, dict[str, float]]:
    """Train with Stable-Baselines3; return ``(env steps, seconds, split)`` like rlpyt's."""
    start = time.perf_counter()
    env = make_vec_env(ENV_ID, n_envs=N_ENVS, seed=seed, vec_env_cls=DummyVecEnv)
    common = dict(
        n_steps=N_STEPS,
        ent_coef=ENT_COEF,
        vf_coef=VF_COEF,
        max_grad_norm=MAX_GRAD_NORM,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh),
        seed=seed,
        device="cpu",
        verbose=0,
    )
    if algo_name == "ppo":
        k = PPO_KWARGS
        model = Sb3PPO(
            "MlpPolicy",
            env,
            learning_rate=k["lr"],
            gamma=k["gamma"],
            gae_lambda=k["gae_lambda"],
            clip_range=k["clip"],
            n_epochs=k["epochs"],
            batch_size=N_ENVS * N_STEPS // k["minibatches"],
            normalize_advantage=True,
            **common,
        )
    else:
        k = A2C_KWARGS
        model = Sb3A2C(
            "MlpPolicy",
            env,
            learning_rate=k["lr"],
            gamma=k["gamma"],
            gae_lambda=k["gae_lambda"],
            use_rms_prop=False,  # Adam, as rlpyt (SB3 then sets eps=1e-5)
            normalize_advantage=False,
            **common,
        )
    split: dict[str, float] = defaultdict(float)
    model.collect_rollouts = _timed(model.collect_rollouts, split, "sample")
    model.train = _timed(model.train, split, "optimize")
    model.learn(total_timesteps=steps, progress_bar=False)
    elapsed = time.perf_counter() - start
    env.close()
    return model.num_timesteps, elapsed, dict(split)


RUNNERS = {"rlpyt": run_rlpyt, "sb3": run_sb3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per training run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per library and algorithm")
    parser.add_argument("--algos", nargs="+", default=["ppo", "a2c"], choices=["ppo", "a2c"])
    parser.add_argument("--libs", nargs="+", default=["rlpyt", "sb3"], choices=list(RUNNERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # The first optimizer built in a process imports torch._dynamo (about 2 s): pay it here,
    # outside every timed run, so that neither library is charged for it.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    batch = N_ENVS * N_STEPS
    steps = max(1, round(args.steps / batch)) * batch  # whole iterations, the same for both

    # rate[algo][lib] -> steps/s per repeat; split[algo][lib] -> list of {phase: seconds}
    rate: dict = defaultdict(lambda: defaultdict(list))
    split: dict = defaultdict(lambda: defaultdict(list))
    for repeat in range(args.repeats):
        for algo in args.algos:
            # Alternate the order so neither library always runs first (warm caches, drift).
            libs = args.libs if repeat % 2 == 0 else args.libs[::-1]
            for lib in libs:
                n, seconds, phases = RUNNERS[lib](algo, steps, args.seed + repeat)
                rate[algo][lib].append(n / seconds)
                split[algo][lib].append({"total": seconds, **phases})
                print(
                    f"repeat {repeat} {algo:3s} {lib:5s}: {n} steps in {seconds:6.2f} s = "
                    f"{n / seconds:7.0f} steps/s (sample {phases.get('sample', 0):.2f} s, "
                    f"optimize {phases.get('optimize', 0):.2f} s)",
                    flush=True,
                )

    print(f"\nCartPole-v1, {N_ENVS} envs x {N_STEPS} steps, {steps} steps per run, "
          f"{args.repeats} repeats, 1 torch thread\n")  # fmt: skip
    report(rate, split, args.algos, args.libs)


def report(rate: dict, split: dict, algos: list[str], libs: list[str]) -> None:
    """Print the table of medians, the rlpyt/SB3 ratios and rlpyt's time split."""
    print("| algo | library | steps/s per repeat | median steps/s | sample % | optimize % |")
    print("|------|---------|--------------------|---------------:|---------:|-----------:|")
    for algo in algos:
        for lib in libs:
            runs = split[algo][lib]
            sample = statistics.median(run.get("sample", 0) / run["total"] for run in runs)
            opt = statistics.median(run.get("optimize", 0) / run["total"] for run in runs)
            per_run = ", ".join(f"{r:.0f}" for r in rate[algo][lib])
            print(
                f"| {algo.upper()} | {lib} | {per_run} | {statistics.median(rate[algo][lib]):.0f} "
                f"| {100 * sample:.0f} | {100 * opt:.0f} |"
            )
    if {"rlpyt", "sb3"} <= set(libs):
        print()
        for algo in algos:
            r, s = rate[algo]["rlpyt"], rate[algo]["sb3"]
            ratios = [a / b for a, b in zip(r, s)]
            print(
                f"{algo.upper()} rlpyt/SB3: ratio of medians "
                f"{statistics.median(r) / statistics.median(s):.2f}x; within each repeat "
                f"{', '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f}x)"
            )
    if "rlpyt" in libs:
        print()
        for algo in algos:
            runs = split[algo]["rlpyt"]
            med = {
                k: statistics.median(run.get(k, 0.0) for run in runs)
                for k in ("total", "sample", "optimize")
            }
            other = med["total"] - med["sample"] - med["optimize"]
            print(
                f"rlpyt {algo.upper()} time split (median s): sample {med['sample']:.2f}, "
                f"optimize {med['optimize']:.2f}, other (setup, logging) {other:.2f}, "
                f"total {med['total']:.2f}"
            )


if __name__ == "__main__":
    main()
