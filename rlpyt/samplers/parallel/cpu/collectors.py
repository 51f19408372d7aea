"""Collectors that run the agent next to their envs: mid-batch reset, wait-reset, and evaluation."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlpyt.samplers.buffer import copy_leaves_into, leaves_to_tensors
from rlpyt.samplers.collectors import (
    BaseEvalCollector,
    DecorrelatingStartCollector,
    traj_done_of,
    write_env_infos,
)
from rlpyt.utils.buffer import buffer_func, numpify_buffer, torchify_buffer

__all__ = ["CpuEvalCollector", "CpuResetCollector", "CpuWaitResetCollector"]

# The collectors act under torch.inference_mode() (cheaper per op than no_grad, which matters
# at one small agent.step per time step): what the agent returns is only copied into the NumPy
# samples buffer, so no inference tensor reaches training code. Recurrent agents keep their
# state as inference tensors between batches; every in-place change of it (reset_one) happens
# here, also in inference mode.


class CpuResetCollector(DecorrelatingStartCollector):
    """Collects ``[T, B]`` batches, resetting each env as soon as its trajectory ends.

    Used by ``SerialSampler`` (default) and the CPU-parallel sampler's workers. At each time
    step: the current observations are recorded, the agent selects actions for all ``B`` envs
    in one batched ``agent.step``, then each env steps once. When ``env_info.traj_done`` (or
    ``done`` for envs without that field) the trajectory info is finished and the env reset
    within the batch; on every ``done`` the agent's per-env state is reset (``reset_one``).
    Rows after a reset hold the new episode, so algorithms see ``done`` mid-batch
    (``mid_batch_reset = True``).
    """

    mid_batch_reset = True

    def collect_batch(
        self, agent_inputs: Any, traj_infos: list[Any], itr: int
    ) -> tuple[Any, list[Any], list[Any]]:
        """Step every env ``batch_T`` times into ``samples_np``; see :class:`BaseCollector`.

        ``agent_inputs`` (NumPy ``[B]`` arrays) are updated in place and fed to the agent
        through torch views of the same memory, so the loop allocates no buffers.
        """
        agent_buf, env_buf = self.samples_np.agent, self.samples_np.env
        completed: list[Any] = []
        reads_inputs = self.traj_info_reads_agent_info
        flat_env_info = self.flat_env_info
        env_infos: list[Any] = [None] * len(self.envs)
        observation, prev_action, prev_reward = agent_inputs
        inputs_pyt = torchify_buffer(agent_inputs)
        # Leading entries; prev_action[t + 1] / prev_reward[t + 1] alias action[t] / reward[t].
        agent_buf.prev_action[0] = prev_action
        env_buf.prev_reward[0] = prev_reward
        with torch.inference_mode():
            self.agent.sample_mode(itr)
            for t in range(self.batch_T):
                env_buf.observation[t] = observation
                action, agent_info = numpify_buffer(self.agent.step(*inputs_pyt))
                agent_buf.action[t] = action
                agent_buf.agent_info[t] = agent_info
                done_t = env_buf.done[t]  # row view
                for b, env in enumerate(self.envs):
                    a = action[b]
                    o, r, d, env_info = env.step(a)
                    if reads_inputs:
                        traj_infos[b].step(observation[b], a, r, d, agent_info[b], env_info)
                    else:  # the base TrajInfo: skip slicing what it never reads
                        traj_infos[b].step(None, a, r, d, None, env_info)
                    if traj_done_of(env_info, d):
                        completed.append(traj_infos[b].terminate(o))
                        traj_infos[b] = self.TrajInfoCls()
                        o = env.reset()
                    if d:
                        self.agent.reset_one(idx=b)
                    observation[b] = o
                    prev_reward[b] = r
                    done_t[b] = d
                    env_infos[b] = env_info
                write_env_infos(env_buf.env_info[t], env_infos, flat_env_info)
                prev_action[:] = action
                env_buf.reward[t] = prev_reward
            if "bootstrap_value" in agent_buf:
                agent_buf.bootstrap_value[0] = numpify_buffer(self.agent.value(*inputs_pyt))
        return agent_inputs, traj_infos, completed


class CpuWaitResetCollector(DecorrelatingStartCollector):
    """Collects ``[T, B]`` batches in which an env that finishes an episode waits for the batch
    to end (``mid_batch_reset = False``).

    For recurrent agents (whole-batch sequences start from one stored state) and for envs with
    slow resets. After a ``done`` at step ``t`` the env is *frozen*: it is not stepped again in
    this batch, and rows ``t' > t`` of that env hold ``done = True``, observation, reward,
    ``agent_info`` and ``env_info`` zero, and the action space's null value as action, so
    algorithms mask them out (everything after the first ``done`` is invalid). Its trajectory
    info is finished at the ``done`` step if ``traj_done`` (else ``done``) holds.

    Between batches, the sampler calls :meth:`reset_if_needed`: frozen envs whose trajectory
    ended are reset, and those that were only ``done`` (e.g. an Atari life loss) continue from
    the observation they returned; in both cases the agent's state for that env is reset and
    its ``prev_action`` / ``prev_reward`` inputs restart at null / 0.
    """

    mid_batch_reset = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        B = len(self.envs)
        self.done = np.zeros(B, dtype=bool)  # env ended an episode this batch: frozen
        self.need_reset = np.zeros(B, dtype=bool)  # ... and its trajectory: reset it
        # Observation returned at the done step, where the episode continues without a reset.
        self.temp_observation = buffer_func(self.samples_np.env.observation[0], np.zeros_like)
        self._null_action = self.envs[0].action_space.null_value()

    def start_envs(self, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        """As :meth:`DecorrelatingStartCollector.start_envs`; also unfreezes every env."""
        self.done[:] = False
        self.need_reset[:] = False
        return super().start_envs(*args, **kwargs)

    def collect_batch(
        self, agent_inputs: Any, traj_infos: list[Any], itr: int
    ) -> tuple[Any, list[Any], list[Any]]:
        """Step every non-frozen env ``batch_T`` times into ``samples_np``; see the class."""
        agent_buf, env_buf = self.samples_np.agent, self.samples_np.env
        completed: list[Any] = []
        reads_inputs = self.traj_info_reads_agent_info
        observation, prev_action, prev_reward = agent_inputs
        inputs_pyt = torchify_buffer(agent_inputs)
        frozen = self.done
        # Leading entries; prev_action[t + 1] / prev_reward[t + 1] alias action[t] / reward[t].
        agent_buf.prev_action[0] = prev_action
        env_buf.prev_reward[0] = prev_reward
        with torch.inference_mode():
            self.agent.sample_mode(itr)
            for t in range(self.batch_T):
                env_buf.observation[t] = observation
                action, agent_info = numpify_buffer(self.agent.step(*inputs_pyt))
                agent_buf.action[t] = action
                agent_buf.agent_info[t] = agent_info
                if frozen.any():  # blank the rows of frozen envs (not the agent's outputs)
                    agent_buf.action[t, frozen] = self._null_action
                    agent_buf.agent_info[t, frozen] = 0
                for b, env in enumerate(self.envs):
                    if frozen[b]:
                        prev_reward[b] = 0.0
                        env_buf.env_info[t, b] = 0
                        continue
                    a = action[b]
                    o, r, d, env_info = env.step(a)
                    if reads_inputs:
                        traj_infos[b].step(observation[b], a, r, d, agent_info[b], env_info)
                    else:  # the base TrajInfo: skip slicing what it never reads
                        traj_infos[b].step(None, a, r, d, None, env_info)
                    if traj_done_of(env_info, d):
                        completed.append(traj_infos[b].terminate(o))
                        traj_infos[b] = self.TrajInfoCls()
                        self.need_reset[b] = True
                    if d:
                        self.temp_observation[b] = o
                        o = 0  # frozen from the next step on: blank observation
                        frozen[b] = True
                    observation[b] = o
                    prev_reward[b] = r
                    env_buf.env_info[t, b] = env_info
                env_buf.done[t] = frozen
                prev_action[:] = agent_buf.action[t]
                env_buf.reward[t] = prev_reward
            if "bootstrap_value" in agent_buf:
                # Frozen envs get the value of a blank input; their rows are masked by done.
                agent_buf.bootstrap_value[0] = numpify_buffer(self.agent.value(*inputs_pyt))
        return agent_inputs, traj_infos, completed

    def reset_if_needed(self, agent_inputs: Any) -> None:
        """Restart every env frozen in the last batch (reset it if its trajectory ended)."""
        if not self.done.any():
            return
        with torch.inference_mode():
            for b in np.flatnonzero(self.done):
                o = self.envs[b].reset() if self.need_reset[b] else self.temp_observation[b]
                agent_inputs.observation[b] = o
                agent_inputs.prev_action[b] = self._null_action
                agent_inputs.prev_reward[b] = 0.0
                self.agent.reset_one(idx=int(b))
        self.done[:] = False
        self.need_reset[:] = False

    def state_dict(self) -> dict[str, Any]:
        """Frozen/reset flags and held observations (tensors, copies)."""
        return {
            "done": torch.from_numpy(self.done.copy()),
            "need_reset": torch.from_numpy(self.need_reset.copy()),
            "temp_observation": leaves_to_tensors(self.temp_observation),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.done[:] = np.asarray(state["done"])
        self.need_reset[:] = np.asarray(state["need_reset"])
        copy_leaves_into(self.temp_observation, state["temp_observation"])


class CpuEvalCollector(BaseEvalCollector):
    """Evaluates the agent on its envs and sends each finished ``TrajInfo`` to
    ``traj_infos_queue``, then ``None`` as an end marker.

    Used by the workers of parallel samplers (``SerialSampler`` uses ``SerialEvalCollector``).
    Runs at most ``max_T`` batched steps, or until ``sync.stop_eval.value`` is set.
    """

    def collect_evaluation(self, itr: int) -> None:
        self._run_evaluation(itr, self.traj_infos_queue.put)
        self.traj_infos_queue.put(None)  # end marker
