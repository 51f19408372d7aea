"""Collectors for GPU samplers: workers step envs; the master's action server selects actions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlpyt.agents.base import AgentInputs, AgentStep
from rlpyt.samplers.collectors import BaseEvalCollector
from rlpyt.samplers.parallel.cpu.collectors import (
    CpuEvalCollector,
    CpuResetCollector,
    CpuWaitResetCollector,
)
from rlpyt.samplers.parallel.worker import master_alive
from rlpyt.utils.buffer import buffer_from_example, numpify_buffer, torchify_buffer
from rlpyt.utils.collections import namedarraytuple

__all__ = [
    "EvalStopped",
    "GpuEvalCollector",
    "GpuResetCollector",
    "GpuWaitResetCollector",
    "StepBuffer",
    "build_step_buffer",
]

# The per-step exchange between workers and the master, leaves [B, ...]: workers write the
# agent inputs (observation, prev_action, prev_reward) and ``reset_one`` flags; the master
# writes ``action`` and ``agent_info`` (and ``value`` when asked for the bootstrap value).
StepBuffer = namedarraytuple(
    "StepBuffer",
    ["observation", "prev_action", "prev_reward", "action", "agent_info", "value", "reset_one"],
)

# A worker never waits longer than this for the master without checking that it lives.
POLL_S = 0.5


class EvalStopped(Exception):
    """The master ended the evaluation (enough trajectories) instead of sending actions."""


def build_step_buffer(examples: dict[str, Any], B: int, bootstrap_value: bool) -> Any:
    """A shared-memory ``StepBuffer`` for ``B`` envs, allocated from the samples examples.

    ``value`` is only allocated with ``bootstrap_value`` (shaped like ``agent_info.value``).
    """
    value = examples["agent_info"].value if bootstrap_value else None
    return buffer_from_example(
        StepBuffer(
            observation=examples["observation"],
            prev_action=examples["action"],
            prev_reward=np.float32(0),
            action=examples["action"],
            agent_info=examples["agent_info"],
            value=value,
            reset_one=np.bool_(False),
        ),
        B,
        share_memory=True,
    )


class ActionServerClient:
    """Stands in for the agent inside a GPU-sampler worker.

    The collectors call it like an agent. :meth:`step` writes the inputs into this worker's
    rows of the shared step buffer, signals ``obs_ready`` and waits for ``act_ready``; the
    master has then written actions for all envs (one batched ``agent.step``).
    :meth:`reset_one` only flags the env; the master resets the agent's state for it before
    its next step. Modes and ``reset`` are the master's business (no-ops here).

    Args:
        step_buffer_np: this worker's rows ``[B_worker]`` of the shared ``StepBuffer``.
        obs_ready: semaphore this worker releases when its inputs are written.
        act_ready: semaphore the master releases when actions are written.
        sync: the sampler's shared flags (``stop_eval``).
        evaluation: this client serves an eval collector (the master may stop it).
    """

    def __init__(
        self,
        step_buffer_np: Any,
        obs_ready: Any,
        act_ready: Any,
        sync: Any,
        evaluation: bool = False,
    ) -> None:
        self.step_np = step_buffer_np
        self.obs_ready = obs_ready
        self.act_ready = act_ready
        self.sync = sync
        self.evaluation = evaluation
        self._inputs = AgentInputs(
            step_buffer_np.observation, step_buffer_np.prev_action, step_buffer_np.prev_reward
        )
        self._step_pyt = torchify_buffer(
            AgentStep(step_buffer_np.action, step_buffer_np.agent_info)
        )
        self._value_pyt = (
            None if step_buffer_np.value is None else torch.from_numpy(step_buffer_np.value)
        )

    def _exchange(self, observation: Any, prev_action: Any, prev_reward: Any) -> None:
        self._inputs[:] = numpify_buffer(AgentInputs(observation, prev_action, prev_reward))
        self.obs_ready.release()
        while not self.act_ready.acquire(timeout=POLL_S):
            if self.sync.closing.value or not master_alive():
                raise SystemExit(0)  # shutting down, or the master is gone
        if self.evaluation and self.sync.stop_eval.value:
            raise EvalStopped

    def step(self, observation: Any, prev_action: Any, prev_reward: Any) -> AgentStep:
        """Actions for this worker's envs, from the master (torch views of the step buffer)."""
        self._exchange(observation, prev_action, prev_reward)
        return self._step_pyt

    def value(self, observation: Any, prev_action: Any, prev_reward: Any) -> torch.Tensor:
        """Bootstrap values for this worker's envs, from the master."""
        self._exchange(observation, prev_action, prev_reward)
        return self._value_pyt

    def reset_one(self, idx: int) -> None:
        self.step_np.reset_one[idx] = True

    def reset(self) -> None:
        pass

    def collector_initialize(self, global_B: int = 1, env_ranks: Any = None) -> None:
        pass

    def sample_mode(self, itr: int) -> None:
        pass

    def eval_mode(self, itr: int) -> None:
        pass


def _client(collector: Any, evaluation: bool) -> ActionServerClient:
    sync = collector.sync
    return ActionServerClient(
        collector.step_buffer_np,
        sync.obs_ready[collector.rank],
        sync.act_ready[collector.rank],
        sync,
        evaluation=evaluation,
    )


class GpuResetCollector(CpuResetCollector):
    """``CpuResetCollector`` whose actions come from the master's action server.

    The worker steps its envs, records samples, trajectory infos and resets exactly as the CPU
    collector does (so samples are identical for the same agent); only ``agent.step`` (and
    ``agent.value`` for the bootstrap value) runs in the master, batched over all envs of the
    sampler, through the shared step buffer and the per-worker semaphores in ``sync``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = _client(self, evaluation=False)


class GpuWaitResetCollector(CpuWaitResetCollector):
    """``CpuWaitResetCollector`` (envs wait for the batch end after ``done``) whose actions
    come from the master's action server; see :class:`GpuResetCollector`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = _client(self, evaluation=False)


class GpuEvalCollector(CpuEvalCollector):
    """Evaluation in a GPU-sampler worker: envs step here, actions come from the master.

    Sends each finished ``TrajInfo`` on ``traj_infos_queue`` and ``None`` at the end, like
    ``CpuEvalCollector``. The master ends an evaluation early (``eval_max_trajectories``)
    at a step boundary, so no env takes a step beyond the one on which the limit was reached.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        BaseEvalCollector.__init__(self, *args, **kwargs)
        self.agent = _client(self, evaluation=True)

    def collect_evaluation(self, itr: int) -> None:
        try:
            self._run_evaluation(itr, self.traj_infos_queue.put)
        except EvalStopped:
            pass
        self.traj_infos_queue.put(None)  # end marker
