"""Data types of sampling: `Samples` and its parts, `BatchSpec`, and per-trajectory `TrajInfo`."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from rlpyt.utils.collections import AttrDict, namedarraytuple

__all__ = [
    "AgentSamples",
    "AgentSamplesBsv",
    "BatchSpec",
    "EnvSamples",
    "Samples",
    "TrajInfo",
]

Samples = namedarraytuple("Samples", ["agent", "env"])
"""One sampler batch, ``Samples(agent=AgentSamples[Bsv], env=EnvSamples)``; leaves ``[T, B]``."""

AgentSamples = namedarraytuple("AgentSamples", ["action", "prev_action", "agent_info"])
"""Agent side of a batch. ``action[t]`` was taken at step ``t``; ``prev_action[t]`` is the
action before it (``prev_action[t + 1]`` is ``action[t]``: both are views of one ``[T + 1, B]``
array); ``agent_info`` is whatever ``agent.step`` returned besides the action."""

AgentSamplesBsv = namedarraytuple(
    "AgentSamplesBsv", ["action", "prev_action", "agent_info", "bootstrap_value"]
)
"""``AgentSamples`` plus ``bootstrap_value: [1, B] float32``, the agent's value of the
observation that follows the last step of the batch (for algorithms with
``bootstrap_value = True``)."""

EnvSamples = namedarraytuple(
    "EnvSamples", ["observation", "reward", "prev_reward", "done", "env_info"]
)
"""Env side of a batch. ``observation[t]`` is what the agent acted on at step ``t``;
``reward[t]``, ``done[t]`` and ``env_info[t]`` came back from that step; ``prev_reward[t + 1]``
is ``reward[t]`` (views of one ``[T + 1, B]`` array)."""


class BatchSpec(namedtuple("BatchSpec", ["T", "B"])):
    """Shape of one sampler batch: ``T`` time steps by ``B`` environments.

    Examples:
        >>> spec = BatchSpec(T=5, B=4)
        >>> spec.size
        20
    """

    __slots__ = ()

    @property
    def size(self) -> int:
        """Number of env steps in a batch, ``T * B``."""
        return self.T * self.B


class TrajInfo(AttrDict):
    """Running statistics of one trajectory, logged by runners once it ends.

    Collectors make one per environment (``TrajInfoCls()``; samplers bind
    ``traj_info_kwargs`` such as ``discount``), call :meth:`step` after every env step and
    :meth:`terminate` when the trajectory ends (``env_info.traj_done``, else ``done``); the
    finished object goes into the list ``obtain_samples`` returns. Runners log every key that
    does not start with ``_``; subclasses add fields in ``__init__`` and accumulate them in
    ``step`` (see ``AtariTrajInfo``).

    Fields: ``Length`` (steps), ``Return`` (sum of rewards), ``NonzeroRewards`` (count),
    ``DiscountedReturn`` (sum of ``discount**k * reward_k``).

    Args:
        discount: discount factor for ``DiscountedReturn``.
        **kwargs: extra initial entries.

    Examples:
        >>> info = TrajInfo(discount=0.5)
        >>> for r in (1.0, 0.0, 2.0):
        ...     info.step(None, None, r, False, None, None)
        >>> info.Length, info.Return, info.NonzeroRewards, info.DiscountedReturn
        (3, 3.0, 2, 1.5)
    """

    def __init__(self, discount: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._discount = discount
        self._cur_discount = 1.0
        self.Length = 0
        self.Return = 0.0
        self.NonzeroRewards = 0
        self.DiscountedReturn = 0.0

    def step(
        self,
        observation: Any,
        action: Any,
        reward: Any,
        done: Any,
        agent_info: Any,
        env_info: Any,
    ) -> None:
        """Account for one env step (``observation`` is the one the agent acted on)."""
        # Speed: collectors call this once per env step. Item access is a C-level dict
        # operation, whereas AttrDict attribute access goes through a Python method: this way
        # the step costs a tenth of what it did. Subclasses may use either.
        reward = float(reward)
        cur_discount = self["_cur_discount"]
        self["Length"] += 1
        self["Return"] += reward
        if reward != 0:
            self["NonzeroRewards"] += 1
        self["DiscountedReturn"] += cur_discount * reward
        self["_cur_discount"] = cur_discount * self["_discount"]

    def terminate(self, observation: Any) -> TrajInfo:
        """End the trajectory (``observation`` is the last one returned) and return ``self``."""
        return self

    def copy(self) -> TrajInfo:
        """Shallow copy of the same type (bypasses ``__init__``, so no field is reset)."""
        new = type(self).__new__(type(self))
        new.update(self)
        return new
