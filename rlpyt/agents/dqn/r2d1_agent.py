"""`R2d1Agent`: recurrent epsilon-greedy Q agent with a target network (R2D1, Kapturowski et
al. 2019)."""

from __future__ import annotations

import torch

from rlpyt.agents.base import AgentStep, AlternatingRecurrentAgentMixin, RecurrentAgentMixin
from rlpyt.agents.dqn.base import QAgentBase
from rlpyt.agents.pg.base import _batch_major_zeros, _no_grad
from rlpyt.models.dqn.mlp_q_model import MlpR2d1Model
from rlpyt.models.utils import RnnState
from rlpyt.utils.buffer import buffer_func
from rlpyt.utils.collections import namedarraytuple

AgentInfo = namedarraytuple("AgentInfo", ["q", "prev_rnn_state"])
"""``agent_info`` of R2D1 agents: ``q [B, A]`` and ``prev_rnn_state``, the recurrent state
*before* the step, batch-major ``RnnState`` leaves ``[B, N_layers, H]`` (so ``[T, B, N, H]``
in the samples buffer, from which sequence replay buffers store initial states)."""


class R2d1AgentBase(QAgentBase):
    """Recurrent Q agent without state keeping; see :class:`R2d1Agent`.

    The model is called as ``model(observation, one_hot(prev_action), prev_reward,
    init_rnn_state) -> (q, next_rnn_state)``. With ``ModelCls=None`` it is an
    ``MlpR2d1Model`` sized from the spaces.
    """

    DefaultModelCls = MlpR2d1Model

    def __call__(
        self, observation, prev_action, prev_reward, init_rnn_state: RnnState | None
    ) -> tuple[torch.Tensor, RnnState]:
        """Q-values over ``[T, B]`` steps with grad, from ``init_rnn_state``.

        Args:
            init_rnn_state: ``RnnState`` ``[N, B, H]`` (e.g. a stored ``prev_rnn_state``
                transposed), or ``None`` for zeros.

        Returns:
            ``(q [T, B, A], next_rnn_state [N, B, H])``, on the model's device.
        """
        return self._forward(self.model, observation, prev_action, prev_reward, init_rnn_state)

    def target(
        self, observation, prev_action, prev_reward, init_rnn_state: RnnState | None
    ) -> tuple[torch.Tensor, RnnState]:
        """As :meth:`__call__`, with the target network (call under ``torch.no_grad()``)."""
        return self._forward(
            self.target_model, observation, prev_action, prev_reward, init_rnn_state
        )

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Epsilon-greedy actions for ``[B]`` envs, advancing their recurrent state.

        Returns:
            ``AgentStep(action [B], AgentInfo(q [B, A], prev_rnn_state [B, N, H]))`` on CPU.
        """
        with _no_grad():
            q, rnn_state = self._forward(
                self.model, observation, prev_action, prev_reward, self.model_rnn_state()
            )
            prev_rnn_state = self.prev_rnn_state
            if prev_rnn_state is None:  # the first step: the model started from zeros
                prev_rnn_state = buffer_func(rnn_state, _batch_major_zeros)
            q, prev_rnn_state = self._to_cpu(q, prev_rnn_state)
            self._epsilon_for_batch(self._n_envs(prev_reward))
            action = self.distribution.sample(q)
            self.advance_rnn_state(rnn_state)
        return AgentStep(action=action, agent_info=AgentInfo(q=q, prev_rnn_state=prev_rnn_state))


class R2d1Agent(RecurrentAgentMixin, R2d1AgentBase):
    """Recurrent epsilon-greedy Q agent that keeps each env's LSTM state between steps.

    Samplers call :meth:`step` and :meth:`reset_one` at episode ends; R2D1 replays stored
    sequences from ``agent_info.prev_rnn_state`` (transposed to ``[N, B, H]``) through
    :meth:`__call__` and :meth:`target`. ``agent_info`` is ``AgentInfo(q, prev_rnn_state)``.

    Args:
        ModelCls, model_kwargs, initial_model_state_dict: see ``QAgentBase``
            (``ModelCls=None``: ``MlpR2d1Model``).
        eps_init, eps_final, eps_final_min, eps_itr_min, eps_itr_max, eps_eval: the
            exploration schedule (keyword only; see ``EpsilonGreedyAgentMixin``).
    """


class R2d1AlternatingAgent(AlternatingRecurrentAgentMixin, R2d1AgentBase):
    """:class:`R2d1Agent` for the alternating samplers: keeps the recurrent states of the two
    halves of its envs apart (``AlternatingRecurrentAgentMixin``); per-env epsilons follow
    the half being served."""
