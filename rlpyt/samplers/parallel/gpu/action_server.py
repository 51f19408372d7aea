"""`ActionServer`: the master-side loops of GPU samplers, one batched `agent.step` per step."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.utils.buffer import numpify_buffer, torchify_buffer
from rlpyt.utils.logging import logger

__all__ = ["ActionServer"]


class ActionServer:
    """Selects actions in the master for the envs that GPU-sampler workers step.

    Used as a base of ``GpuSampler`` (whose ``obtain_samples`` / ``evaluate_agent`` call
    :meth:`serve_actions` / :meth:`serve_actions_evaluation`). Per time step: wait until
    every worker has written its envs' agent inputs into the shared step buffer and released
    its ``obs_ready`` semaphore (each wait is bounded by 0.5 s, after which the workers'
    liveness and error pipes are checked); reset the agent's state for envs the workers
    flagged (``reset_one``); run one ``agent.step`` for all envs; write actions and
    ``agent_info``; release every ``act_ready``. The agent may sit on a GPU or on the CPU.

    Expects on ``self``: ``agent``, ``batch_spec``, ``sync`` (``obs_ready``, ``act_ready``
    lists indexed by worker rank, ``stop_eval``), ``step_buffer_np`` / ``eval_step_buffer_np``,
    ``workers``, ``_eval_workers``, ``eval_max_T``, ``eval_max_trajectories``, ``_acquire``,
    ``_poll_workers``.
    """

    def serve_actions(self, itr: int) -> None:
        """Serve ``batch_T`` steps (and the bootstrap value, if the buffer has one)."""
        step_np = self.step_buffer_np
        inputs = torchify_buffer(
            AgentInputs(step_np.observation, step_np.prev_action, step_np.prev_reward)
        )
        groups = self._serving_groups()
        self.agent.sample_mode(itr)
        with torch.inference_mode():
            for _ in range(self.batch_spec.T):
                self._serve_step(groups, step_np, inputs)
            if step_np.value is not None:
                self._serve_step(groups, step_np, inputs, value=True)

    def _serving_groups(self) -> list[tuple[list[Any], slice]]:
        """Worker groups and their env rows, served in turn: here one group of all envs."""
        return [(self.workers, slice(0, self.batch_spec.B))]

    # Alternating samplers serve each group as soon as its inputs are in (overlap = True).
    overlap_groups: bool = True

    def _serve_step(
        self, groups: list[tuple[list[Any], slice]], step_np: Any, inputs: Any, value: bool = False
    ) -> None:
        """One step for every group: wait for its inputs, act (or evaluate ``agent.value``)
        on its rows, release its workers."""
        if not self.overlap_groups:
            for workers, _ in groups:
                self._wait_inputs(workers)
        for workers, rows in groups:
            if self.overlap_groups:
                self._wait_inputs(workers)
            self._reset_flagged(step_np, rows)
            if value:
                step_np.value[rows] = numpify_buffer(self.agent.value(*inputs[rows]))
            else:
                action, agent_info = numpify_buffer(self.agent.step(*inputs[rows]))
                step_np.action[rows] = action
                step_np.agent_info[rows] = agent_info
            if self.overlap_groups:
                self._release_actions(workers)
        if not self.overlap_groups:
            for workers, _ in groups:
                self._release_actions(workers)

    def serve_actions_evaluation(self, itr: int) -> list[Any]:
        """Serve one evaluation (at most ``eval_max_T`` steps); return finished traj infos.

        Trajectory infos arrive on the workers' pipes; each is in before its worker asks for
        the next step, so once ``eval_max_trajectories`` have arrived the master stops the
        evaluation at that step boundary (``sync.stop_eval``, workers leave their loop),
        exactly as ``SerialSampler`` stops after the step that reached the limit.
        """
        step_np = self.eval_step_buffer_np
        step_np.reset_one[:] = False
        inputs = torchify_buffer(
            AgentInputs(step_np.observation, step_np.prev_action, step_np.prev_reward)
        )
        workers = self._eval_workers
        infos: list[Any] = []
        finished: set[int] = set()

        def on_message(worker: Any, kind: str, payload: Any) -> None:
            self._expect(worker, kind, "traj")
            if payload is None:
                finished.add(worker.rank)
            else:
                infos.append(payload)

        max_trajectories = self.eval_max_trajectories
        self.agent.eval_mode(itr)
        self.agent.reset()
        with torch.inference_mode():
            for _ in range(self.eval_max_T):
                self._wait_inputs(workers, on_message)
                self._poll_workers(on_message)  # the trajectories of the last step
                if max_trajectories is not None and len(infos) >= max_trajectories:
                    logger.log(f"Evaluation reached {max_trajectories} trajectories; stopping.")
                    self.sync.stop_eval.value = True
                    self._release_actions(workers)
                    break
                self._reset_flagged(step_np)
                action, agent_info = numpify_buffer(self.agent.step(*inputs))
                step_np.action[:] = action
                step_np.agent_info[:] = agent_info
                self._release_actions(workers)
        remaining = [w for w in workers if w.rank not in finished]
        self._gather(remaining, lambda w, kind, p: on_message(w, kind, p) or p is None, "eval")
        self.sync.stop_eval.value = False
        return infos

    def _wait_inputs(self, workers: Any, on_message: Any = None) -> None:
        for worker in workers:
            self._acquire(self.sync.obs_ready[worker.rank], on_message)

    def _release_actions(self, workers: Any) -> None:
        for worker in workers:
            self.sync.act_ready[worker.rank].release()

    def _reset_flagged(self, step_np: Any, rows: slice | None = None) -> None:
        """``agent.reset_one(b)`` for every env ``b`` (in ``rows``) a worker flagged."""
        rows = slice(0, len(step_np.reset_one)) if rows is None else rows
        flags = step_np.reset_one[rows]
        if flags.any():
            # Recurrent agents keep their state as inference tensors (made while acting), so
            # in-place resets of it happen in inference mode too (as in the CPU collectors).
            with torch.inference_mode():
                for b in np.flatnonzero(flags):
                    self.agent.reset_one(idx=int(b) + rows.start)
            flags[:] = False
