"""R2D1: recurrent Q-learning from replayed sequences, on CartPole with the velocities hidden
(default) or on an Atari game (`--game pong`).

Masked CartPole shows only cart position and pole angle (`masked_gym_make`), so the agent must
infer the velocities from the history: `R2d1Agent` carries an LSTM state through the sampler and
records it (`agent_info.prev_rnn_state`); `R2D1` replays sequences starting where a state was
stored, refreshes the state over a burn-in (`warmup_T`) and trains on the rest, with n-step
double-DQN targets on rescaled values and sequence priorities. A feed-forward DQN stays near a
return of 40 here; R2D1 reaches 300-450 within 60k steps. With `--game`, `AtariR2d1Agent` and the
paper's sequence layout (80 trained steps after a 40-step burn-in) are used; that needs a GPU
(`--cuda_idx 0`) and millions of steps.

    python examples/example_r2d1.py --n_steps 6e4
    python examples/example_r2d1.py --game pong --cuda_idx 0 --n_steps 1e7
"""

from __future__ import annotations

import argparse

from rlpyt.agents.dqn.atari.atari_r2d1_agent import AtariR2d1Agent
from rlpyt.agents.dqn.r2d1_agent import R2d1Agent
from rlpyt.algos.dqn.r2d1 import R2D1
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo
from rlpyt.envs.pomdp import masked_gym_make
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context

# R2D1 settings for masked CartPole (the learning test's), and for Atari (R2D2's sequence
# layout on one machine; the remaining arguments are R2D1's defaults).
CARTPOLE = dict(
    discount=0.99,
    batch_T=16,  # trained steps per sequence, after a burn-in of warmup_T
    batch_B=32,
    warmup_T=4,  # velocities follow from two observations: short sequences suffice
    store_rnn_state_interval=4,
    min_steps_learn=2000,
    replay_size=50000,
    replay_ratio=16,
    target_update_interval=25,
    n_step_return=3,
    learning_rate=1e-3,
    optim_kwargs=dict(eps=1e-6),
    clip_grad_norm=10.0,
    eps_steps=10000,
)
ATARI = dict(min_steps_learn=int(5e4), replay_size=int(1e6), eps_steps=int(1e6))


def build_and_train(
    game: str | None = None,
    run_ID: int = 0,
    cuda_idx: int | None = None,
    n_steps: float = 6e4,
    seed: int | None = None,
    log_interval_steps: float = 5e3,
    log_dir: str = "r2d1",
    progress_bar: bool = True,
    eval_max_steps: int | None = None,
    **algo_kwargs,
) -> str:
    """Train and return the run directory; ``algo_kwargs`` override the R2D1 settings."""
    if game is None:
        env = dict(EnvCls=masked_gym_make, env_kwargs=dict(id="CartPole-v1", keep_indices=[0, 2]))
        batch_T, batch_B, eval_steps = 16, 8, 4 * 500
        agent = R2d1Agent(eps_final=0.02)
        settings = CARTPOLE
    else:
        env = dict(EnvCls=AtariEnv, TrajInfoCls=AtariTrajInfo, env_kwargs=dict(game=game))
        batch_T, batch_B, eval_steps = 40, 8, int(2e4)
        agent = AtariR2d1Agent()
        settings = ATARI
    sampler = SerialSampler(
        **env,
        batch_T=batch_T,
        batch_B=batch_B,
        max_decorrelation_steps=0,
        eval_n_envs=4,
        eval_max_steps=eval_max_steps or eval_steps,
        eval_max_trajectories=4,
    )
    algo = R2D1(**{**settings, **algo_kwargs})
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        seed=seed,
        log_interval_steps=log_interval_steps,
        affinity=dict(cuda_idx=cuda_idx),
        progress_bar=progress_bar,
    )
    name = f"r2d1_{game or 'masked_cartpole'}"
    config = dict(game=game, n_steps=n_steps, **{**settings, **algo_kwargs})
    with logger_context(log_dir, run_ID, name, config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default=None, help="an Atari game (default: masked CartPole)")
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--cuda_idx", type=int, default=None)
    parser.add_argument("--n_steps", type=float, default=6e4)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log_interval_steps", type=float, default=5e3)
    parser.add_argument("--log_dir", default="r2d1")
    args = parser.parse_args()
    run_dir = build_and_train(
        game=args.game,
        run_ID=args.run_ID,
        cuda_idx=args.cuda_idx,
        n_steps=args.n_steps,
        seed=args.seed,
        log_interval_steps=args.log_interval_steps,
        log_dir=args.log_dir,
    )
    print(f"Logs are in: {run_dir}")


if __name__ == "__main__":
    main()
