"""The `BaseSampler` interface: runners get `[T, B]` sample batches and evaluations through it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rlpyt.samplers.collections import BatchSpec, TrajInfo

__all__ = ["BaseSampler"]


def _check_count(name: str, value: Any, minimum: int) -> int:
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= minimum
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class BaseSampler:
    """Collects batches of experience for the runner, and evaluates the agent on request.

    The runner builds the sampler from plain settings, calls
    :meth:`initialize` once with the agent (the sampler builds the envs, initializes the agent
    on their spaces, allocates the samples buffer and starts the collectors), then per
    iteration :meth:`obtain_samples` (and :meth:`evaluate_agent` at eval points), and
    :meth:`shutdown` at the end. :meth:`state_dict` / :meth:`load_state_dict` snapshot the
    sampling run (current observations, trajectories in progress, envs) so a resumed run
    continues where it stopped.

    Args:
        EnvCls: env constructor (class or function), called as ``EnvCls(**env_kwargs)``.
        env_kwargs: keyword arguments of the training envs.
        batch_T: time steps per batch (per env).
        batch_B: number of training envs (all workers together).
        CollectorCls: collector class; its ``mid_batch_reset`` is reported to the algorithm.
        max_decorrelation_steps: at start, each env takes ``U{0..max}`` random steps.
        TrajInfoCls: per-trajectory statistics class (``traj_info_kwargs`` bound at initialize).
        eval_n_envs: number of eval envs (0: no evaluation).
        eval_CollectorCls: eval collector class.
        eval_env_kwargs: keyword arguments of the eval envs (default ``env_kwargs``).
        eval_max_steps: total env steps per evaluation, over all eval envs; each eval env runs
            at most ``eval_max_T = ceil(eval_max_steps / eval_n_envs)`` steps.
        eval_max_trajectories: stop an evaluation once this many trajectories have finished.

    Raises:
        ValueError: for ``batch_T`` or ``batch_B`` below 1, negative ``eval_n_envs``, or
            ``eval_n_envs > 0`` without ``eval_max_steps``.
    """

    alternating: bool = False

    def __init__(
        self,
        EnvCls: Callable[..., Any],
        env_kwargs: dict[str, Any] | None,
        batch_T: int,
        batch_B: int,
        CollectorCls: type,
        max_decorrelation_steps: int = 100,
        TrajInfoCls: Callable[..., Any] = TrajInfo,
        eval_n_envs: int = 0,
        eval_CollectorCls: type | None = None,
        eval_env_kwargs: dict[str, Any] | None = None,
        eval_max_steps: int | None = None,
        eval_max_trajectories: int | None = None,
    ) -> None:
        batch_T = _check_count("batch_T", batch_T, 1)
        batch_B = _check_count("batch_B", batch_B, 1)
        eval_n_envs = _check_count("eval_n_envs", eval_n_envs, 0)
        self.max_decorrelation_steps = _check_count(
            "max_decorrelation_steps", max_decorrelation_steps, 0
        )
        self.EnvCls = EnvCls
        self.env_kwargs = dict(env_kwargs or {})
        self.CollectorCls = CollectorCls
        self.TrajInfoCls = TrajInfoCls
        self.eval_n_envs = eval_n_envs
        self.eval_CollectorCls = eval_CollectorCls
        self.eval_env_kwargs = dict(self.env_kwargs if eval_env_kwargs is None else eval_env_kwargs)
        self.eval_max_steps = eval_max_steps
        self.eval_max_trajectories = eval_max_trajectories
        self.batch_spec = BatchSpec(batch_T, batch_B)
        self.mid_batch_reset = CollectorCls.mid_batch_reset
        self.eval_max_T = 0
        if eval_n_envs > 0:
            if eval_max_steps is None:
                raise ValueError("eval_n_envs > 0 needs eval_max_steps (total steps per eval)")
            self.eval_max_T = math.ceil(
                _check_count("eval_max_steps", eval_max_steps, 1) / eval_n_envs
            )

    @property
    def batch_size(self) -> int:
        """Env steps per batch, ``batch_T * batch_B``."""
        return self.batch_spec.size

    def initialize(
        self,
        agent: Any,
        affinity: Any = None,
        seed: int | None = None,
        bootstrap_value: bool = False,
        traj_info_kwargs: dict[str, Any] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> dict[str, Any]:
        """Build envs and buffers, initialize ``agent`` on the env spaces, start collecting.

        Args:
            agent: an agent not yet initialized.
            affinity: CPU/GPU placement (parallel samplers).
            seed: base seed of the envs (``None``: a fresh one).
            bootstrap_value: add ``samples.agent.bootstrap_value`` (the algorithm asks).
            traj_info_kwargs: keyword arguments bound to ``TrajInfoCls`` (e.g. ``discount``).
            rank: index of this sampler among ``world_size`` synchronous replicas.
            world_size: number of replicas (each samples ``batch_B`` envs).

        Returns:
            The single-step examples dict (``observation``, ``reward``, ``done``,
            ``env_info``, ``action``, ``agent_info``), for the algorithm's initialize.
        """
        raise NotImplementedError

    def obtain_samples(self, itr: int) -> tuple[Any, list[Any]]:
        """Collect one batch; return ``(samples_pyt, completed_traj_infos)``."""
        raise NotImplementedError

    def evaluate_agent(self, itr: int) -> list[Any]:
        """Run one evaluation; return the finished trajectories' infos."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Release envs and workers."""

    def state_dict(self) -> dict[str, Any]:
        """Snapshot of the sampling run, for an exact resume through :meth:`load_state_dict`."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the run captured by :meth:`state_dict` (after :meth:`initialize`)."""
        raise NotImplementedError
