"""Policy-gradient agent info types and the acting/training logic shared by all PG agents."""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from rlpyt.agents.base import AgentStep, BaseAgent
from rlpyt.utils.buffer import buffer_func
from rlpyt.utils.collections import namedarraytuple

AgentInfo = namedarraytuple("AgentInfo", ["dist_info", "value"])
"""``agent_info`` of feed-forward PG agents: ``dist_info`` and ``value [B]`` per step."""

AgentInfoRnn = namedarraytuple("AgentInfoRnn", ["dist_info", "value", "prev_rnn_state"])
"""``agent_info`` of recurrent PG agents; ``prev_rnn_state`` is the state *before* the step,
batch-major ``[B, N_layers, H]`` per leaf (so ``[T, B, N, H]`` in the samples buffer)."""

# Acting runs under torch.no_grad() rather than torch.inference_mode(): callers may keep step
# outputs and use them inside autograd, where inference tensors raise errors. Collectors, which
# only copy the outputs into their NumPy buffers, call step inside torch.inference_mode().

_GRAD_ALREADY_OFF = contextlib.nullcontext()


def _no_grad() -> contextlib.AbstractContextManager:
    """``torch.no_grad()``, or a reusable no-op context where grad is already off (as in the
    collectors' inference mode): entering ``no_grad`` costs a few microseconds per step."""
    return torch.no_grad() if torch.is_grad_enabled() else _GRAD_ALREADY_OFF


class PgAgentBase(BaseAgent):
    """Feed-forward policy-gradient agent: a model returning ``(*policy_outputs, value)``.

    Not used directly: ``CategoricalPgAgent`` and ``GaussianPgAgent`` say how model outputs
    become a ``dist_info`` (:meth:`_dist_info`) and how ``prev_action`` is fed to the model
    (:meth:`_model_prev_action`). Samplers call :meth:`step`; A2C/PPO call :meth:`__call__`
    on ``[T, B]`` training data; the collector calls :meth:`value` for ``bootstrap_value``.
    """

    def _model_prev_action(self, prev_action: torch.Tensor) -> torch.Tensor:
        """``prev_action`` as the model takes it (e.g. one-hot)."""
        return prev_action

    def _dist_info(self, *policy_outputs: torch.Tensor) -> Any:
        """The ``dist_info`` namedarraytuple made from the model's policy outputs."""
        raise NotImplementedError

    def _forward(self, observation, prev_action, prev_reward) -> tuple[Any, torch.Tensor]:
        if not self._model_ignores_prev_inputs:
            prev_action = self._model_prev_action(prev_action)
        inputs = self._to_model_device(observation, prev_action, prev_reward)
        *policy_outputs, value = self.model(*inputs)
        return self._dist_info(*policy_outputs), value

    def __call__(self, observation, prev_action, prev_reward) -> tuple[Any, torch.Tensor]:
        """Training forward pass (with grad) on inputs with leading dims ``[T, B]`` (or
        ``[B]``, ``[]``).

        Returns:
            ``(dist_info, value)`` on CPU; ``value`` has the leading dims.
        """
        return self._to_cpu(*self._forward(observation, prev_action, prev_reward))

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Sample actions for ``[B]`` envs, without grad.

        Returns:
            ``AgentStep(action, AgentInfo(dist_info, value [B]))`` on CPU.
        """
        with _no_grad():
            dist_info, value = self._forward(observation, prev_action, prev_reward)
            action = self.distribution.sample(dist_info)
            agent_info = AgentInfo(dist_info, value)
            action, agent_info = self._to_cpu(action, agent_info)
        return AgentStep(action, agent_info)

    def value(self, observation, prev_action, prev_reward) -> torch.Tensor:
        """State values ``[B]`` on CPU, without grad (bootstrap values after a batch)."""
        with _no_grad():
            _, value = self._forward(observation, prev_action, prev_reward)
            return value.cpu()


class RecurrentPgAgentBase(BaseAgent):
    """Recurrent policy-gradient agent: a model taking ``init_rnn_state`` and returning
    ``(*policy_outputs, value, next_rnn_state)``.

    Combine with ``RecurrentAgentMixin`` (which keeps the per-env state between steps), as
    ``RecurrentCategoricalPgAgent`` and ``RecurrentGaussianPgAgent`` do. :meth:`step` records
    the state it started from in ``agent_info.prev_rnn_state`` (zeros at the start), so that
    algorithms can replay the batch from ``prev_rnn_state[0]``.
    """

    _model_prev_action = PgAgentBase._model_prev_action
    _dist_info = PgAgentBase._dist_info

    def _forward(self, observation, prev_action, prev_reward, init_rnn_state):
        if not self._model_ignores_prev_inputs:
            prev_action = self._model_prev_action(prev_action)
        inputs = self._to_model_device(observation, prev_action, prev_reward, init_rnn_state)
        *policy_outputs, value, next_rnn_state = self.model(*inputs)
        return self._dist_info(*policy_outputs), value, next_rnn_state

    def __call__(self, observation, prev_action, prev_reward, init_rnn_state):
        """Training forward pass (with grad) over ``[T, B]`` steps.

        Args:
            init_rnn_state: ``RnnState`` ``[N, B, H]`` (e.g. ``prev_rnn_state[0]``
                transposed), or ``None`` for zeros.

        Returns:
            ``(dist_info, value, next_rnn_state)``: ``dist_info`` and ``value [T, B]`` on CPU;
            ``next_rnn_state [N, B, H]`` stays on the model's device.
        """
        dist_info, value, next_rnn_state = self._forward(
            observation, prev_action, prev_reward, init_rnn_state
        )
        dist_info, value = self._to_cpu(dist_info, value)
        return dist_info, value, next_rnn_state

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Sample actions for ``[B]`` envs and advance their recurrent state, without grad.

        Returns:
            ``AgentStep(action, AgentInfoRnn(dist_info, value [B], prev_rnn_state
            [B, N, H]))`` on CPU.
        """
        with _no_grad():
            dist_info, value, rnn_state = self._forward(
                observation, prev_action, prev_reward, self.model_rnn_state()
            )
            action = self.distribution.sample(dist_info)
            prev_rnn_state = self.prev_rnn_state
            if prev_rnn_state is None:  # the first step: the model started from zeros
                prev_rnn_state = buffer_func(rnn_state, _batch_major_zeros)
            agent_info = AgentInfoRnn(dist_info, value, prev_rnn_state)
            action, agent_info = self._to_cpu(action, agent_info)
            self.advance_rnn_state(rnn_state)
        return AgentStep(action=action, agent_info=agent_info)

    def value(self, observation, prev_action, prev_reward) -> torch.Tensor:
        """Values ``[B]`` on CPU from the current recurrent state, which is not advanced."""
        with _no_grad():
            _, value, _ = self._forward(
                observation, prev_action, prev_reward, self.model_rnn_state()
            )
            return value.cpu()


def _batch_major_zeros(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x.transpose(0, 1), memory_format=torch.contiguous_format)
