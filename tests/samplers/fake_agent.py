"""Deterministic fake agents for exact-layout sampler tests (no model, no randomness)."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import AgentStep, BaseAgent
from rlpyt.utils.collections import namedarraytuple


def _main_leaf(observation: Any) -> torch.Tensor:
    """The observation, or its first field for multi-part (namedarraytuple) observations."""
    return observation.get(0) if hasattr(observation, "_fields") else observation


FakeAgentInfo = namedarraytuple("FakeAgentInfo", ["value"])
FakeAgentInfoRnn = namedarraytuple("FakeAgentInfoRnn", ["value", "prev_rnn_state"])


class FakeAgent:
    """``action = floor(scale * sum|observation|) % n``; ``value = observation[..., 0] + 0.5``.

    Multi-part observations use their first field. On ``CountingEnv`` (observation
    ``[k, k]``) that is ``action = 2k % 3`` and
    ``value = k + 0.5``. Records every call the samplers make, for assertions.
    """

    recurrent = False

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.step_batch_sizes: list[int] = []
        self.reset_ones: list[int] = []
        self.n_resets = 0
        self.modes: list[tuple[str, int]] = []
        self.collector_init: tuple[int, Any] | None = None
        self.init_args: dict[str, Any] | None = None

    def initialize(
        self, env_spaces: Any, share_memory: bool = False, global_B: int = 1, env_ranks: Any = None
    ) -> None:
        self.n = int(env_spaces.action.n)
        self.init_args = dict(share_memory=share_memory, global_B=global_B, env_ranks=env_ranks)

    def collector_initialize(self, global_B: int = 1, env_ranks: Any = None) -> None:
        self.collector_init = (global_B, env_ranks)

    def _value(self, observation: torch.Tensor) -> torch.Tensor:
        return _main_leaf(observation)[..., 0].float() + 0.5

    def step(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> AgentStep:
        observation = _main_leaf(observation)
        self.step_batch_sizes.append(observation.shape[0])
        flat = observation.abs().reshape(observation.shape[0], -1).sum(-1)
        action = torch.floor(flat * self.scale).long() % self.n
        return AgentStep(action=action, agent_info=FakeAgentInfo(value=self._value(observation)))

    def value(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> torch.Tensor:
        return self._value(observation)

    def reset(self) -> None:
        self.n_resets += 1

    def reset_one(self, idx: int) -> None:
        self.reset_ones.append(int(idx))

    def sample_mode(self, itr: int) -> None:
        self.modes.append(("sample", itr))

    def eval_mode(self, itr: int) -> None:
        self.modes.append(("eval", itr))

    def train_mode(self, itr: int) -> None:
        self.modes.append(("train", itr))


class FakeRecurrentAgent(FakeAgent):
    """:class:`FakeAgent` plus an ``[N=2, B, H=3]`` state stored batch-major in ``agent_info``.

    The state of env ``b`` counts the steps since its last reset (all entries equal).
    Evaluation keeps its own state, as ``RecurrentAgentMixin`` does.
    """

    recurrent = True

    def eval_mode(self, itr: int) -> None:
        # As RecurrentAgentMixin: evaluation starts from zeros and leaves the sampler's state.
        if not self.modes or self.modes[-1][0] != "eval":
            self._sample_rnn_state = getattr(self, "rnn_state", None)
            self.rnn_state = None
        super().eval_mode(itr)

    def sample_mode(self, itr: int) -> None:
        if self.modes and self.modes[-1][0] == "eval":
            self.rnn_state = self._sample_rnn_state
        super().sample_mode(itr)

    def reset(self) -> None:
        super().reset()
        self.rnn_state: torch.Tensor | None = None

    def reset_one(self, idx: int) -> None:
        super().reset_one(idx)
        if self.rnn_state is not None:
            self.rnn_state[:, idx] = 0

    def step(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> AgentStep:
        action = super().step(observation, prev_action, prev_reward).action
        B = _main_leaf(observation).shape[0]
        if getattr(self, "rnn_state", None) is None:
            self.rnn_state = torch.zeros(2, B, 3)
        prev = self.rnn_state.transpose(0, 1).clone()  # [B, N, H]
        self.rnn_state = self.rnn_state + 1
        info = FakeAgentInfoRnn(value=self._value(observation), prev_rnn_state=prev)
        return AgentStep(action=action, agent_info=info)


class OffsetModel(torch.nn.Module):
    """A model with one scalar parameter ``offset`` (zero at start)."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = torch.nn.Parameter(torch.zeros(()))


class FakeModelAgent(BaseAgent):
    """A real ``BaseAgent`` (model, shared memory) acting like :class:`FakeAgent` plus a
    trainable offset: ``action = floor(sum|observation| + offset) % n``,
    ``value = observation[..., 0] + offset``.

    Changing ``model.offset`` in the master changes the actions parallel workers take once
    the sampler has published the parameters, which tests shared-memory parameter sync.
    """

    def __init__(self) -> None:
        super().__init__(ModelCls=OffsetModel)

    def initialize(
        self, env_spaces: Any, share_memory: bool = False, global_B: int = 1, env_ranks: Any = None
    ) -> None:
        super().initialize(env_spaces, share_memory, global_B, env_ranks)
        self.n = int(env_spaces.action.n)

    def step(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> AgentStep:
        offset = self.model.offset
        flat = observation.abs().reshape(observation.shape[0], -1).sum(-1)
        action = torch.floor(flat + offset).long() % self.n
        value = observation[..., 0].float() + offset
        return AgentStep(action=action, agent_info=FakeAgentInfo(value=value))
