"""Training throughput of DQN on CartPole-v1: rlpyt against Stable-Baselines3.

Both libraries train the same setting in the same process, alternating run by run, one torch
thread each: one CartPole-v1 env stepped in the training process (rlpyt ``SerialSampler``
with ``batch_T=4, batch_B=1``; SB3 ``DummyVecEnv`` with ``Monitor``, as ``make_vec_env`` builds
it), one gradient update of batch 32 every 4 env steps (SB3 ``train_freq=4,
gradient_steps=1``; rlpyt ``replay_ratio=8``: 8 * 4 steps / 32 = 1 update per iteration),
learning from step 1000, a 64x64 ReLU Q-network, Adam (lr 1e-4, default eps), Huber loss,
gradient norm clipped at 10, target network copied every 500 env steps (125 updates), replay
capacity 50k, epsilon annealed from 1 to 0.05 over the first 10% of the steps, gamma 0.99.
Each run is timed end to end (building envs, agent, replay and optimizer, then training) and
reported as env steps per second, with the time split into sampling and optimisation
(rlpyt's optimisation includes appending to the replay).

Differences that remain (each library's own design): rlpyt's replay is time-limit aware
(CartPole's truncation at 500 steps bootstraps; SB3 handles it through
``handle_timeout_termination``, also on by default); rlpyt's epsilon schedule starts after
``min_steps_learn``, SB3's at step 0; rlpyt uses the fused Adam kernel.

    python benchmarks/bench_dqn_cartpole.py [--steps 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch
from bench_pg_cartpole import _timed, report
from stable_baselines3 import DQN as Sb3DQN
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.gym import gym_make
from rlpyt.runners.minibatch_rl import MinibatchRl
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging import logger

ENV_ID = "CartPole-v1"
TRAIN_FREQ, BATCH, LEARNING_STARTS, BUFFER = 4, 32, 1000, 50_000
LR, GAMMA, MAX_GRAD_NORM, TARGET_EVERY_STEPS = 1e-4, 0.99, 10.0, 500
EXPLORATION_FRACTION, EPS_FINAL, HIDDEN = 0.1, 0.05, [64, 64]


def run_rlpyt(steps: int, seed: int) -> tuple[int, float, dict[str, float]]:
    """Train with rlpyt; return ``(env steps, seconds, {"sample": s, "optimize": s})``."""
    logger.disable()
    start = time.perf_counter()
    sampler = SerialSampler(
        EnvCls=gym_make, env_kwargs=dict(id=ENV_ID), batch_T=TRAIN_FREQ, batch_B=1
    )
    agent = DqnAgent(model_kwargs=dict(hidden_sizes=HIDDEN), eps_final=EPS_FINAL)
    algo = DQN(
        discount=GAMMA,
        batch_size=BATCH,
        min_steps_learn=LEARNING_STARTS,
        delta_clip=1.0,
        replay_size=BUFFER,
        replay_ratio=BATCH / TRAIN_FREQ,  # one update of BATCH per TRAIN_FREQ env steps
        target_update_interval=TARGET_EVERY_STEPS // TRAIN_FREQ,  # counted in updates
        learning_rate=LR,
        optim_kwargs={},  # Adam's default eps, as SB3
        clip_grad_norm=MAX_GRAD_NORM,
        eps_steps=int(EXPLORATION_FRACTION * steps),
    )
    runner = MinibatchRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=steps,
        seed=seed,
        log_interval_steps=steps,
        progress_bar=False,
    )
    split: dict[str, float] = defaultdict(float)
    sampler.obtain_samples = _timed(sampler.obtain_samples, split, "sample")
    algo.optimize_agent = _timed(algo.optimize_agent, split, "optimize")
    runner.train()
    elapsed = time.perf_counter() - start
    logger.enable()
    return runner.n_itr * TRAIN_FREQ, elapsed, dict(split)


def run_sb3(steps: int, seed: int) -> tuple[int, float, dict[str, float]]:
    """Train with Stable-Baselines3; return ``(env steps, seconds, split)`` like rlpyt's."""
    start = time.perf_counter()
    env = make_vec_env(ENV_ID, n_envs=1, seed=seed, vec_env_cls=DummyVecEnv)
    model = Sb3DQN(
        "MlpPolicy",
        env,
        learning_rate=LR,
        buffer_size=BUFFER,
        learning_starts=LEARNING_STARTS,
        batch_size=BATCH,
        gamma=GAMMA,
        train_freq=TRAIN_FREQ,
        gradient_steps=1,
        target_update_interval=TARGET_EVERY_STEPS,
        exploration_fraction=EXPLORATION_FRACTION,
        exploration_final_eps=EPS_FINAL,
        max_grad_norm=MAX_GRAD_NORM,
        policy_kwargs=dict(net_arch=HIDDEN),
        seed=seed,
        device="cpu",
        verbose=0,
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
    parser.add_argument("--repeats", type=int, default=3, help="runs per library")
    parser.add_argument("--libs", nargs="+", default=["rlpyt", "sb3"], choices=list(RUNNERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # pay torch._dynamo's import here
    steps = max(1, round(args.steps / TRAIN_FREQ)) * TRAIN_FREQ
    rate: dict = defaultdict(lambda: defaultdict(list))
    split: dict = defaultdict(lambda: defaultdict(list))
    for repeat in range(args.repeats):
        libs = args.libs if repeat % 2 == 0 else args.libs[::-1]
        for lib in libs:
            n, seconds, phases = RUNNERS[lib](steps, args.seed + repeat)
            rate["dqn"][lib].append(n / seconds)
            split["dqn"][lib].append({"total": seconds, **phases})
            print(
                f"repeat {repeat} dqn {lib:5s}: {n} steps in {seconds:6.2f} s = "
                f"{n / seconds:7.0f} steps/s (sample {phases.get('sample', 0):.2f} s, "
                f"optimize {phases.get('optimize', 0):.2f} s)",
                flush=True,
            )
    print(f"\nCartPole-v1 DQN, 1 env, 1 update per {TRAIN_FREQ} steps, {steps} steps per run, "
          f"{args.repeats} repeats, 1 torch thread\n")  # fmt: skip
    report(rate, split, ["dqn"], args.libs)


if __name__ == "__main__":
    main()
