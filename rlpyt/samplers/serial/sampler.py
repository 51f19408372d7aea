"""`SerialSampler`: all envs and the agent in the training process, with exact save and resume."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from rlpyt.samplers.base import BaseSampler
from rlpyt.samplers.buffer import build_samples_buffer
from rlpyt.samplers.collectors import decorrelation_rngs
from rlpyt.samplers.parallel.cpu.collectors import CpuResetCollector
from rlpyt.samplers.run_state import load_run_state_dict, run_state_dict
from rlpyt.samplers.serial.collectors import SerialEvalCollector
from rlpyt.utils.logging import logger
from rlpyt.utils.seed import make_seed, set_envs_seeds

__all__ = ["SerialSampler"]


class SerialSampler(BaseSampler):
    """Steps all ``batch_B`` envs in the calling process, with one batched agent call per step.

    The simplest sampler, for debugging and small envs; runners use it like any other. Envs
    are ``EnvCls(**env_kwargs)`` seeded ``seed + rank * batch_B + b``; the agent is initialized
    here with ``share_memory=False``; the samples buffer is private memory. See
    :class:`~rlpyt.samplers.base.BaseSampler` for the arguments; the defaults here are
    ``CollectorCls=CpuResetCollector`` and ``eval_CollectorCls=SerialEvalCollector``.

    :meth:`state_dict` captures the current agent inputs, the trajectory infos in progress,
    collector flags, and the envs themselves (``pickle.dumps``; envs that cannot be pickled are
    recorded as ``None`` with the reason, together with the envs' random generator states).
    Loaded into a freshly initialized sampler, the next :meth:`obtain_samples` continues
    exactly as the original would have (for a deterministic agent); without pickled envs, the
    envs are reset and decorrelated again, with a warning.
    """

    def __init__(
        self,
        *args: Any,
        CollectorCls: type = CpuResetCollector,
        eval_CollectorCls: type = SerialEvalCollector,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            *args, CollectorCls=CollectorCls, eval_CollectorCls=eval_CollectorCls, **kwargs
        )
        self.collector: Any = None
        self.eval_collector: Any = None
        self.envs: list[Any] = []
        self.eval_envs: list[Any] = []

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
        """Build envs, agent, buffer and collectors; see :meth:`BaseSampler.initialize`."""
        B = self.batch_spec.B
        seed = make_seed() if seed is None else int(seed)
        global_B = B * world_size
        env_ranks = list(range(rank * B, (rank + 1) * B))
        self.envs = [self.EnvCls(**self.env_kwargs) for _ in range(B)]
        set_envs_seeds(self.envs, seed + rank * B)
        agent.initialize(
            self.envs[0].spaces, share_memory=False, global_B=global_B, env_ranks=env_ranks
        )
        # The example step runs on a throwaway env, so env 0 starts exactly as a fresh env
        # seeded like it (as in the parallel samplers: samplers stay interchangeable).
        probe_env = self.EnvCls(**self.env_kwargs)
        try:
            self.samples_pyt, self.samples_np, examples = build_samples_buffer(
                agent,
                probe_env,
                self.batch_spec,
                bootstrap_value,
                agent_shared=False,
                env_shared=False,
                subprocess=False,
            )
        finally:
            probe_env.close()
        self._TrajInfo: Callable[[], Any] = functools.partial(
            self.TrajInfoCls, **(traj_info_kwargs or {})
        )
        self.collector = self.CollectorCls(
            rank=0,
            envs=self.envs,
            samples_np=self.samples_np,
            batch_T=self.batch_spec.T,
            TrajInfoCls=self._TrajInfo,
            agent=agent,
            global_B=global_B,
            env_ranks=env_ranks,
        )
        # Per env, draws only its decorrelation step count (the same in every sampler).
        self._rngs = decorrelation_rngs(seed, env_ranks)
        self.agent_inputs, self.traj_infos = self.collector.start_envs(
            self.max_decorrelation_steps, rng=self._rngs
        )
        self.collector.start_agent()
        if self.eval_n_envs > 0:
            self.eval_envs = [self.EnvCls(**self.eval_env_kwargs) for _ in range(self.eval_n_envs)]
            set_envs_seeds(self.eval_envs, seed + global_B + rank * self.eval_n_envs)
            self.eval_collector = self.eval_CollectorCls(
                envs=self.eval_envs,
                agent=agent,
                TrajInfoCls=self._TrajInfo,
                max_T=self.eval_max_T,
                max_trajectories=self.eval_max_trajectories,
            )
        self.agent = agent
        logger.log(f"Serial sampler initialized: batch_spec {tuple(self.batch_spec)}, seed {seed}.")
        return examples

    def _require_initialized(self, what: str) -> None:
        if self.collector is None:
            raise RuntimeError(
                f"SerialSampler.{what}() called before initialize(agent, ...): the sampler has "
                f"no envs, buffer or collector yet"
            )

    def obtain_samples(self, itr: int) -> tuple[Any, list[Any]]:
        """Collect ``batch_T`` steps of every env; return ``(samples_pyt, completed_infos)``.

        ``samples_pyt`` is the same buffer every call (overwritten in place).
        """
        self._require_initialized("obtain_samples")
        self.agent_inputs, self.traj_infos, completed = self.collector.collect_batch(
            self.agent_inputs, self.traj_infos, itr
        )
        self.collector.reset_if_needed(self.agent_inputs)
        return self.samples_pyt, completed

    def evaluate_agent(self, itr: int) -> list[Any]:
        """Run one evaluation on the eval envs; return the finished ``TrajInfo`` objects."""
        self._require_initialized("evaluate_agent")
        if self.eval_collector is None:
            raise RuntimeError("SerialSampler.evaluate_agent() needs eval_n_envs > 0")
        return self.eval_collector.collect_evaluation(itr)

    def shutdown(self) -> None:
        """Close every env (training and eval)."""
        for env in [*self.envs, *self.eval_envs]:
            env.close()

    def state_dict(self) -> dict[str, Any]:
        """Snapshot of the sampling run (tensors, Python values and bytes only).

        Keys: ``agent_inputs`` (leaf tensors), ``traj_infos`` (dicts), ``collector``,
        ``envs`` (``pickle.dumps`` of the env list, or ``None``), ``envs_unpicklable`` (why
        not, or ``None``), ``env_rng`` (per env, bit-generator states of the generators it
        exposes), ``decorrelation_rng`` (per env); see :mod:`rlpyt.samplers.run_state`. The
        parallel samplers write and read the same format.
        """
        self._require_initialized("state_dict")
        return run_state_dict(
            self.envs, self.agent_inputs, self.traj_infos, self.collector, self._rngs
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` of a sampler with the same settings.

        Call after :meth:`initialize`. Envs from the snapshot replace (and close) this
        sampler's envs; if the snapshot has none, the current envs are reset and decorrelated
        again (with the snapshot's random generator states), with a warning.

        Raises:
            ValueError: if the snapshot holds a different number of envs.
        """
        self._require_initialized("load_state_dict")
        self.agent_inputs, self.traj_infos = load_run_state_dict(
            state,
            self.envs,
            self.agent_inputs,
            self.collector,
            self._rngs,
            self._TrajInfo,
            self.max_decorrelation_steps,
            self.agent,
            "SerialSampler",
        )
