"""An rlpyt-style training script (as rlpyt's multi-GPU example): `make_affinity`, a
`GpuSampler` (its agent on CPU here) and `SyncRl`; run it plainly or under torchrun.

Usage: python sync_script.py LOG_DIR {list,dict}
  list: one affinity per replica (two CPU replicas); dict: one affinity (one replica).
"""

import sys

from rlpyt.agents.pg.categorical import CategoricalPgAgent
from rlpyt.algos.pg.ppo import PPO
from rlpyt.envs.gym import gym_make
from rlpyt.runners.sync_rl import SyncRl
from rlpyt.samplers.parallel.gpu.sampler import GpuSampler
from rlpyt.utils.launching.affinity import make_affinity
from rlpyt.utils.logging.context import logger_context


def build_and_train(log_dir, layout):
    if layout == "list":
        affinity = [
            make_affinity(run_slot=slot, n_cpu_core=2, n_gpu=0, cpu_per_run=1) for slot in range(2)
        ]
    else:
        affinity = make_affinity(run_slot=0, n_cpu_core=2, n_gpu=0, cpu_per_run=2)
    sampler = GpuSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=8,
        batch_B=2,
        max_decorrelation_steps=0,
    )
    algo = PPO(epochs=2, minibatches=2)
    agent = CategoricalPgAgent(model_kwargs=dict(hidden_sizes=[16]))
    runner = SyncRl(
        algo=algo,
        agent=agent,
        sampler=sampler,
        n_steps=256,
        log_interval_steps=128,
        affinity=affinity,
        seed=0,
        progress_bar=False,
    )
    config = dict(layout=layout)
    with logger_context(log_dir, 0, "sync_script", config, "last", override_prefix=True):
        runner.train()


if __name__ == "__main__":
    build_and_train(*sys.argv[1:])
