"""DQN on an Atari game (Pong by default), evaluated offline: rlpyt's first example.

The whole recipe in one process: `SerialSampler` steps one `AtariEnv` (84x84 grayscale, 4 stacked
frames, frame skip 4, rewards clipped) four steps per iteration, `AtariDqnAgent` acts
epsilon-greedily with the Nature-DQN conv net, `DQN` learns from a replay that stores each frame
once, and `MinibatchRlEval` evaluates the greedy agent on separate envs at every log interval
(`GameScoreAverage` is the unclipped score). `--double`, `--dueling`, `--prioritized` and
`--n_step` switch on the usual extensions. A real Pong run needs ~10M steps (a GPU helps:
`--cuda_idx 0`); the defaults here are a demonstration.

    python examples/example_dqn_atari.py --game pong --n_steps 1e6
    python examples/example_dqn_atari.py --double --dueling --prioritized --n_step 3 --cuda_idx 0
"""

from __future__ import annotations

import argparse

from rlpyt.agents.dqn.atari.atari_dqn_agent import AtariDqnAgent
from rlpyt.algos.dqn.dqn import DQN
from rlpyt.envs.atari.atari_env import AtariEnv, AtariTrajInfo
from rlpyt.runners.minibatch_rl import MinibatchRlEval
from rlpyt.samplers.serial.sampler import SerialSampler
from rlpyt.utils.logging.context import logger_context


def build_and_train(
    game: str = "pong",
    run_ID: int = 0,
    cuda_idx: int | None = None,
    n_steps: float = 1e6,
    min_steps_learn: float = 1e4,
    replay_size: int = int(1e6),
    double_dqn: bool = False,
    dueling: bool = False,
    prioritized_replay: bool = False,
    n_step_return: int = 1,
    eval_max_steps: int = int(1e4),
    log_interval_steps: float = 5e4,
    log_dir: str = "dqn_atari",
    progress_bar: bool = True,
) -> str:
    """Train and return the run directory."""
    sampler = SerialSampler(
        EnvCls=AtariEnv,
        TrajInfoCls=AtariTrajInfo,  # adds GameScore (unclipped) to the logged statistics
        env_kwargs=dict(game=game),
        eval_env_kwargs=dict(game=game, episodic_lives=False),  # score whole games
        batch_T=4,  # one replay-ratio unit: 4 env steps per iteration, as in the Nature DQN
        batch_B=1,
        max_decorrelation_steps=0,
        eval_n_envs=2,
        eval_max_steps=eval_max_steps,
        eval_max_trajectories=4,
    )
    algo = DQN(
        min_steps_learn=int(min_steps_learn),
        replay_size=replay_size,
        double_dqn=double_dqn,
        prioritized_replay=prioritized_replay,
        n_step_return=n_step_return,
    )  # otherwise rlpyt's defaults: Adam 2.5e-4, batch 32, replay ratio 8, Huber loss
    agent = AtariDqnAgent(model_kwargs=dict(dueling=dueling))
    runner = MinibatchRlEval(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=n_steps,
        log_interval_steps=log_interval_steps,
        affinity=dict(cuda_idx=cuda_idx),
        progress_bar=progress_bar,
    )
    config = dict(
        game=game,
        double_dqn=double_dqn,
        dueling=dueling,
        prioritized_replay=prioritized_replay,
        n_step_return=n_step_return,
    )
    with logger_context(log_dir, run_ID, f"dqn_{game}", config, snapshot_mode="last") as run_dir:
        runner.train()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="pong")
    parser.add_argument("--run_ID", type=int, default=0)
    parser.add_argument("--cuda_idx", type=int, default=None)
    parser.add_argument("--n_steps", type=float, default=1e6)
    parser.add_argument("--min_steps_learn", type=float, default=1e4)
    parser.add_argument("--replay_size", type=int, default=int(1e6))
    parser.add_argument("--double", action="store_true", help="Double DQN targets")
    parser.add_argument("--dueling", action="store_true", help="dueling Q head")
    parser.add_argument("--prioritized", action="store_true", help="prioritized replay")
    parser.add_argument("--n_step", type=int, default=1, help="n of the n-step returns")
    parser.add_argument("--log_interval_steps", type=float, default=5e4)
    parser.add_argument("--log_dir", default="dqn_atari")
    args = parser.parse_args()
    run_dir = build_and_train(
        game=args.game,
        run_ID=args.run_ID,
        cuda_idx=args.cuda_idx,
        n_steps=args.n_steps,
        min_steps_learn=args.min_steps_learn,
        replay_size=args.replay_size,
        double_dqn=args.double,
        dueling=args.dueling,
        prioritized_replay=args.prioritized,
        n_step_return=args.n_step,
        log_interval_steps=args.log_interval_steps,
        log_dir=args.log_dir,
    )
    print(f"Logs are in: {run_dir}")


if __name__ == "__main__":
    main()
