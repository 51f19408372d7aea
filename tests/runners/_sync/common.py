"""Runner builders for the SyncRl tests, and `RecordingSyncRl`, which records each replica's
parameters and trajectory counts in files (child replicas run in other processes), fails on
purpose, or exits slowly."""

from __future__ import annotations

import os
import signal
import time

import torch

from rlpyt.envs.gym import gym_make
from rlpyt.runners.sync_rl import SyncRl, SyncRlEval
from rlpyt.samplers.serial.sampler import SerialSampler

T, B = 8, 2

# Modules a forkserver imports once, so that each child replica starts in milliseconds
# (DistributedDataParallel imports torch._dynamo: seconds).
PRELOAD = [
    "torch._dynamo",
    "rlpyt.runners.sync_rl",
    "rlpyt.agents.pg.categorical",
    "rlpyt.agents.pg.mujoco",
    "rlpyt.agents.dqn.dqn_agent",
    "rlpyt.agents.qpg.sac_agent",
    "rlpyt.algos.pg.a2c",
    "rlpyt.algos.dqn.dqn",
    "rlpyt.algos.qpg.sac",
    "rlpyt.envs.gym",
    "tests.runners._sync.common",
]


def flat_params(agent) -> torch.Tensor:
    """Every tensor of the agent's state dict, flattened into one float64 vector."""
    state = agent.state_dict()
    leaves = []
    stack = [state]
    while stack:
        node = stack.pop()
        for key in sorted(node):
            value = node[key]
            if isinstance(value, dict):
                stack.append(value)
            elif isinstance(value, torch.Tensor):
                leaves.append(value.detach().reshape(-1).double().cpu())
    return torch.cat(leaves)


class Recording:
    """Mixed into SyncRl / SyncRlEval: writes, per rank, ``rank{r}.pt`` (parameters after
    start-up, after resuming and at the end, pid, completed-trajectory count) into
    ``record_dir``; fails on purpose with ``fail = (rank, itr, "kill" | "raise" | "interrupt")``."""

    record_dir: str | None = None
    fail: tuple | None = None
    slow_exit_s: float = 0.0  # child replicas sleep this long in shutdown (a slow exit)

    def startup(self):
        n_itr = super().startup()
        self._record = dict(pid=os.getpid(), init=flat_params(self.agent), trajs=0, obs_sum=0.0)
        obtain_samples = self.sampler.obtain_samples

        def recording_obtain_samples(itr):
            samples, traj_infos = obtain_samples(itr)
            self._record["obs_sum"] += float(samples.env.observation.double().sum())
            return samples, traj_infos

        self.sampler.obtain_samples = recording_obtain_samples
        return n_itr

    def _resume(self, resume_from, n_itr):
        start_itr = super()._resume(resume_from, n_itr)
        self._record["resumed"] = flat_params(self.agent)
        return start_itr

    def _train_itr(self, itr):
        if self.fail is not None and self.fail[:2] == (self.rank, itr):
            with open(os.path.join(self.record_dir, "failed_at"), "w") as f:
                f.write(repr(time.time()))
            if self.fail[2] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.fail[2] == "interrupt":
                raise KeyboardInterrupt  # as Ctrl-C in rank 0
            raise ValueError(f"boom in rank {self.rank} at itr {itr}")
        super()._train_itr(itr)

    def store_diagnostics(self, itr, traj_infos, opt_info):
        traj_infos = list(traj_infos)
        self._record["trajs"] += len(traj_infos)
        super().store_diagnostics(itr, traj_infos, opt_info)

    def shutdown(self):
        super().shutdown()
        if self.rank != 0 and self.slow_exit_s:
            time.sleep(self.slow_exit_s)
        if self.record_dir is not None and hasattr(self, "_record"):
            self._record["final"] = flat_params(self.agent)
            self._record["params"] = torch.cat(
                [p.detach().reshape(-1) for _, p in self.agent.named_parameters()]
            )
            path = os.path.join(self.record_dir, f"rank{self.rank}.pt")
            torch.save(self._record, path + ".tmp")
            os.replace(path + ".tmp", path)


class RecordingSyncRl(Recording, SyncRl):
    pass


class RecordingSyncRlEval(Recording, SyncRlEval):
    def evaluate_agent(self, itr):
        traj_infos, eval_time = super().evaluate_agent(itr)
        self._record["eval_trajs"] = self._record.get("eval_trajs", 0) + len(traj_infos)
        return traj_infos, eval_time


def cartpole_sampler(**kwargs) -> SerialSampler:
    return SerialSampler(
        EnvCls=gym_make,
        env_kwargs=dict(id="CartPole-v1"),
        batch_T=T,
        batch_B=B,
        max_decorrelation_steps=5,
        **kwargs,
    )


def pendulum_sampler(**kwargs) -> SerialSampler:
    return SerialSampler(
        EnvCls=gym_make, env_kwargs=dict(id="Pendulum-v1"), batch_T=T, batch_B=B,
        max_decorrelation_steps=0, **kwargs,
    )  # fmt: skip
