"""`SerialEvalCollector`: evaluation in the training process, returning finished trajectories."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rlpyt.samplers.collectors import BaseEvalCollector

__all__ = ["SerialEvalCollector"]


class SerialEvalCollector(BaseEvalCollector):
    """Evaluates the agent on eval envs inside the calling process.

    ``SerialSampler.evaluate_agent`` calls :meth:`collect_evaluation`. All envs are reset, then
    stepped together (one batched ``agent.step`` per time step, agent in eval mode) until
    ``max_T`` steps have passed or ``max_trajectories`` trajectories have finished.

    Args:
        envs: the eval envs.
        agent: the agent to evaluate.
        TrajInfoCls: called with no arguments to start a ``TrajInfo`` per trajectory.
        max_T: maximum number of steps of each env per evaluation.
        max_trajectories: stop after the step on which this many trajectories have finished
            (``None``: no limit). Trajectories that finish on that same step in other envs
            are kept too, so slightly more may be returned.
    """

    def __init__(
        self,
        envs: Sequence[Any],
        agent: Any,
        TrajInfoCls: Callable[[], Any],
        max_T: int,
        max_trajectories: int | None = None,
    ) -> None:
        super().__init__(
            rank=0,
            envs=envs,
            TrajInfoCls=TrajInfoCls,
            traj_infos_queue=None,
            max_T=max_T,
            agent=agent,
        )
        self.max_trajectories = max_trajectories

    def collect_evaluation(self, itr: int) -> list[Any]:
        """Run one evaluation; return the finished ``TrajInfo`` objects in order of finishing."""
        completed: list[Any] = []
        self._run_evaluation(itr, completed.append, self.max_trajectories)
        return completed
