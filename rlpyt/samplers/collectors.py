"""Collector interfaces: step a group of envs into a `[T, B]` samples buffer; evaluate agents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.samplers.collections import TrajInfo
from rlpyt.utils.buffer import buffer_from_example, numpify_buffer, torchify_buffer

__all__ = [
    "BaseCollector",
    "BaseEvalCollector",
    "DecorrelatingStartCollector",
    "decorrelation_rngs",
]


def decorrelation_rngs(seed: int, env_ranks: Sequence[int]) -> list[np.random.Generator]:
    """One generator per env for the decorrelation step counts, seeded by ``(seed, g)``.

    ``g`` is the env's global index (``env_ranks``). Every sampler builds its envs' generators
    here, so env ``g`` starts from the same point whichever process or collector steps it: that
    keeps serial and parallel samplers interchangeable (identical samples for a seed). The
    trailing ``1`` keeps these streams apart from any other use of ``(seed, g)``.
    """
    return [np.random.default_rng([int(seed), int(g), 1]) for g in env_ranks]


def traj_done_of(env_info: Any, done: bool) -> bool:
    """``env_info.traj_done`` if the env reports it, else ``done``: when to reset the env."""
    return getattr(env_info, "traj_done", done)


def traj_info_reads_agent_info(TrajInfoCls: Any) -> bool:
    """False only for the base :class:`TrajInfo`, whose ``step`` reads neither ``observation``
    nor ``agent_info``.

    Collectors then pass ``None`` for both instead of slicing each env's entries out of the
    batch (a nested namedarraytuple index per env step). Any subclass that overrides ``step``
    gets the real slices.
    """
    cls = getattr(TrajInfoCls, "func", TrajInfoCls)  # traj_info_kwargs are bound by partial
    return getattr(cls, "step", None) is not TrajInfo.step


def write_env_infos(env_info_row: Any, env_infos: list[Any], flat: bool) -> None:
    """Write one time step's ``env_info`` of every env into its ``[B]`` row of the buffer.

    ``flat``: every field of the row is an array (no nested namedarraytuples); then each field
    is written once for all envs, instead of one namedarraytuple assignment per env.
    """
    if flat:
        for field, column in zip(env_info_row, zip(*env_infos)):
            field[:] = column
    else:
        for b, env_info in enumerate(env_infos):
            env_info_row[b] = env_info


class BaseCollector:
    """Steps ``B`` envs for ``batch_T`` steps per call, writing into its part of a samples buffer.

    Samplers build one collector per worker (the serial sampler builds one for all envs) and
    call, in order: :meth:`start_envs` once (initial agent inputs and trajectory infos),
    :meth:`start_agent` once, then per iteration :meth:`collect_batch` followed by
    :meth:`reset_if_needed`. Subclasses set the class attribute ``mid_batch_reset``: True if an
    env that finishes its trajectory is reset inside the batch, False if it waits for the batch
    to end (the sampler reports it to the algorithm).

    Args:
        rank: index of this collector among the sampler's collectors.
        envs: the ``B`` envs this collector steps.
        samples_np: NumPy samples buffer with leaves ``[T, B, ...]`` for exactly these envs.
        batch_T: time steps per batch.
        TrajInfoCls: called with no arguments to start a ``TrajInfo`` per trajectory.
        agent: the agent that selects actions here (``None`` where actions come from
            elsewhere, e.g. a GPU sampler's action server through ``step_buffer_np``).
        sync: synchronisation primitives of parallel samplers (unused serially).
        step_buffer_np: shared per-step buffer of parallel GPU samplers (unused serially).
        global_B: number of envs across all collectors of the run.
        env_ranks: global indexes of this collector's envs (for per-env agent settings).
    """

    mid_batch_reset: bool = True

    def __init__(
        self,
        rank: int,
        envs: Sequence[Any],
        samples_np: Any,
        batch_T: int,
        TrajInfoCls: Callable[[], Any],
        agent: Any = None,
        sync: Any = None,
        step_buffer_np: Any = None,
        global_B: int = 1,
        env_ranks: Sequence[int] | None = None,
    ) -> None:
        self.rank = rank
        self.envs = envs
        self.samples_np = samples_np
        self.batch_T = batch_T
        self.TrajInfoCls = TrajInfoCls
        self.traj_info_reads_agent_info = traj_info_reads_agent_info(TrajInfoCls)
        # env_info rows can be written one field at a time (see write_env_infos).
        self.flat_env_info = samples_np is not None and all(
            isinstance(f, np.ndarray) for f in samples_np.env.env_info
        )
        self.agent = agent
        self.sync = sync
        self.step_buffer_np = step_buffer_np
        self.global_B = global_B
        self.env_ranks = env_ranks

    def start_envs(self) -> tuple[Any, list[Any]]:
        """Reset the envs; return ``(agent_inputs, traj_infos)`` for the first batch."""
        raise NotImplementedError

    def start_agent(self) -> None:
        """Prepare the agent for sampling: per-collector setup, reset, sample mode."""
        if self.agent is not None:
            self.agent.collector_initialize(global_B=self.global_B, env_ranks=self.env_ranks)
            self.agent.reset()
            self.agent.sample_mode(itr=0)

    def collect_batch(
        self, agent_inputs: Any, traj_infos: list[Any], itr: int
    ) -> tuple[Any, list[Any], list[Any]]:
        """Fill the samples buffer with ``batch_T`` steps.

        Returns:
            ``(agent_inputs, traj_infos, completed_infos)``: inputs for the next batch, the
            in-progress trajectory infos, and the infos of trajectories that ended.
        """
        raise NotImplementedError

    def reset_if_needed(self, agent_inputs: Any) -> None:
        """Reset envs that are waiting for the batch to end (no-op for mid-batch resets)."""

    def state_dict(self) -> dict[str, Any]:
        """Collector-internal run state beyond agent inputs and traj infos (for resuming)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class DecorrelatingStartCollector(BaseCollector):
    """A collector whose envs start at random points of their episodes.

    Steps every env a random number of random actions before sampling begins, so that the
    ``B`` envs do not all finish their episodes at the same time (which would correlate the
    batches). The sampler calls :meth:`start_envs` once after building the collector.
    """

    def start_envs(
        self,
        max_decorrelation_steps: int = 0,
        rng: np.random.Generator | Sequence[np.random.Generator] | None = None,
    ) -> tuple[Any, list[Any]]:
        """Reset all envs, then step env ``b`` ``n_b ~ U{0, ..., max_decorrelation_steps}``
        times with ``env.action_space.sample()`` (resetting whenever a trajectory ends).

        Args:
            max_decorrelation_steps: upper bound (inclusive) of the random step counts.
            rng: draws the step counts: a sequence holds one generator per env (what
                samplers pass, from :func:`decorrelation_rngs`), a single generator draws for
                all envs in order, ``None`` uses NumPy's global RNG.

        Returns:
            ``(agent_inputs, traj_infos)``: ``AgentInputs`` of NumPy arrays with leading dim
            ``[B]`` (observation after the random steps; the last action and reward as
            ``prev_action``/``prev_reward``, null/0 at an episode start) and one ``TrajInfo``
            per env that has counted the random steps of its current trajectory.
        """
        B = len(self.envs)
        traj_infos = [self.TrajInfoCls() for _ in range(B)]
        first_obs = [env.reset() for env in self.envs]
        null_action = self.envs[0].action_space.null_value()
        observation = buffer_from_example(first_obs[0], B)
        prev_action = buffer_from_example(null_action, B)
        prev_reward = np.zeros(B, dtype=np.float32)
        per_env = rng is not None and not isinstance(rng, np.random.Generator)
        if per_env and len(rng) != B:
            raise ValueError(f"start_envs: {len(rng)} generators for {B} envs")
        for b, env in enumerate(self.envs):
            o, a, r = first_obs[b], null_action, 0.0
            n_steps = 0
            if max_decorrelation_steps > 0:
                if per_env:
                    draw = rng[b].integers
                else:
                    draw = rng.integers if rng is not None else np.random.randint
                n_steps = int(draw(0, max_decorrelation_steps + 1))
            for _ in range(n_steps):
                a = env.action_space.sample()
                next_o, r, d, env_info = env.step(a)
                traj_infos[b].step(o, a, r, d, None, env_info)
                o = next_o
                if traj_done_of(env_info, d):
                    o = env.reset()
                    traj_infos[b] = self.TrajInfoCls()
                if d:
                    a, r = null_action, 0.0
            observation[b] = o
            prev_action[b] = a
            prev_reward[b] = r
        return AgentInputs(observation, prev_action, prev_reward), traj_infos


class BaseEvalCollector:
    """Runs the agent in eval mode on its own envs and reports finished trajectories.

    Samplers build one per eval worker (the serial sampler one for all eval envs) and call
    ``collect_evaluation(itr)`` from ``evaluate_agent``. Every evaluation starts all envs from
    a reset and runs at most ``max_T`` batched agent steps; trajectories still running at the
    end are not reported.

    Args:
        rank: index of this collector among the sampler's eval collectors.
        envs: the eval envs.
        TrajInfoCls: called with no arguments to start a ``TrajInfo`` per trajectory.
        traj_infos_queue: where finished ``TrajInfo`` objects go (parallel samplers), or
            ``None``.
        max_T: maximum number of steps of each env per evaluation.
        agent: the agent evaluated here.
        sync: synchronisation primitives of parallel samplers (``sync.stop_eval.value`` ends an
            evaluation early where present).
        step_buffer_np: shared per-step buffer of parallel GPU samplers (unused serially).
    """

    def __init__(
        self,
        rank: int,
        envs: Sequence[Any],
        TrajInfoCls: Callable[[], Any],
        traj_infos_queue: Any,
        max_T: int,
        agent: Any = None,
        sync: Any = None,
        step_buffer_np: Any = None,
    ) -> None:
        self.rank = rank
        self.envs = envs
        self.TrajInfoCls = TrajInfoCls
        self.traj_infos_queue = traj_infos_queue
        self.max_T = max_T
        self.agent = agent
        self.sync = sync
        self.step_buffer_np = step_buffer_np

    def collect_evaluation(self, itr: int) -> Any:
        """Run one evaluation at iteration ``itr``."""
        raise NotImplementedError

    def _stop_requested(self) -> bool:
        stop = getattr(self.sync, "stop_eval", None)
        return bool(stop is not None and stop.value)

    def _run_evaluation(
        self,
        itr: int,
        on_traj_done: Callable[[Any], None],
        max_trajectories: int | None = None,
    ) -> int:
        """Reset every env, then step all of them with one batched ``agent.step`` per time step
        until ``max_T`` steps, ``max_trajectories`` finished trajectories, or a stop request.

        Each finished ``TrajInfo`` is passed to ``on_traj_done``; returns how many there were.
        After a ``done`` the agent's state for that env is reset and its ``prev_action`` /
        ``prev_reward`` inputs restart at null / 0.
        """
        envs, agent = self.envs, self.agent
        B = len(envs)
        traj_infos = [self.TrajInfoCls() for _ in range(B)]
        first_obs = [env.reset() for env in envs]
        null_action = envs[0].action_space.null_value()
        observation = buffer_from_example(first_obs[0], B)
        for b, o in enumerate(first_obs):
            observation[b] = o
        prev_action = buffer_from_example(null_action, B)
        prev_action[:] = null_action
        prev_reward = np.zeros(B, dtype=np.float32)
        inputs_pyt = torchify_buffer(AgentInputs(observation, prev_action, prev_reward))
        n_completed = 0
        with torch.inference_mode():  # see rlpyt.samplers.parallel.cpu.collectors
            agent.eval_mode(itr)  # before reset: recurrent agents keep eval state apart
            agent.reset()
            for _ in range(self.max_T):
                action, agent_info = numpify_buffer(agent.step(*inputs_pyt))
                for b, env in enumerate(envs):
                    o, r, d, env_info = env.step(action[b])
                    traj_infos[b].step(observation[b], action[b], r, d, agent_info[b], env_info)
                    if traj_done_of(env_info, d):
                        on_traj_done(traj_infos[b].terminate(o))
                        n_completed += 1
                        traj_infos[b] = self.TrajInfoCls()
                        o = env.reset()
                    if d:
                        agent.reset_one(idx=b)
                    observation[b] = o
                    prev_action[b] = null_action if d else action[b]
                    prev_reward[b] = 0.0 if d else r
                if max_trajectories is not None and n_completed >= max_trajectories:
                    break
                if self._stop_requested():
                    break
        return n_completed
