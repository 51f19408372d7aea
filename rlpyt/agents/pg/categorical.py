"""Categorical policy-gradient agents (discrete actions), feed-forward and recurrent."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import (
    AlternatingRecurrentAgentMixin,
    RecurrentAgentMixin,
    space_n,
    space_shape,
)
from rlpyt.agents.pg.base import PgAgentBase, RecurrentPgAgentBase
from rlpyt.distributions.categorical import Categorical, DistInfo
from rlpyt.models.pg.mlp_model import CategoricalPgLstmModel, CategoricalPgMlpModel


class _CategoricalPolicy:
    """What makes a PG agent categorical: the distribution, one-hot ``prev_action``, and
    ``DistInfo(prob=pi)`` from the model's ``pi``. Mixed into the agents below."""

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the model and a ``Categorical`` over the action space's ``n`` actions."""
        super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        self.distribution = Categorical(dim=space_n(env_spaces.action))

    def default_model_kwargs(self, env_spaces: Any) -> dict:
        return dict(
            observation_shape=space_shape(env_spaces.observation),
            action_size=space_n(env_spaces.action),
        )

    def _model_prev_action(self, prev_action: torch.Tensor) -> torch.Tensor:
        return self.distribution.to_onehot(prev_action)

    def _dist_info(self, pi: torch.Tensor) -> DistInfo:
        return DistInfo(prob=pi)


class CategoricalPgAgent(_CategoricalPolicy, PgAgentBase):
    """Feed-forward agent with a categorical policy, for ``IntBox``/``Discrete`` actions.

    The model is called as ``model(observation, one_hot(prev_action), prev_reward) -> (pi,
    value)``. With ``ModelCls=None`` it is a :class:`CategoricalPgMlpModel` (two tanh MLPs of
    ``[64, 64]``) sized from the spaces, so vector-observation envs such as CartPole need no
    model written. ``agent_info`` is ``AgentInfo(dist_info=DistInfo(prob), value)``.
    """

    DefaultModelCls = CategoricalPgMlpModel


class RecurrentCategoricalPgAgentBase(_CategoricalPolicy, RecurrentPgAgentBase):
    """Recurrent categorical agent without state keeping; see
    :class:`RecurrentCategoricalPgAgent`.

    The model is called as ``model(observation, one_hot(prev_action), prev_reward,
    init_rnn_state) -> (pi, value, next_rnn_state)``. With ``ModelCls=None`` it is a
    :class:`CategoricalPgLstmModel`.
    """

    DefaultModelCls = CategoricalPgLstmModel


class RecurrentCategoricalPgAgent(RecurrentAgentMixin, RecurrentCategoricalPgAgentBase):
    """Recurrent categorical agent that keeps each env's LSTM state between steps.

    ``agent_info`` is ``AgentInfoRnn(dist_info, value, prev_rnn_state)``; :meth:`reset_one`
    zeros one env's state when its episode ends.
    """


class AlternatingRecurrentCategoricalPgAgent(
    AlternatingRecurrentAgentMixin, RecurrentCategoricalPgAgent
):
    """:class:`RecurrentCategoricalPgAgent` for the alternating samplers: keeps one LSTM state
    per half of the envs (see :class:`~rlpyt.agents.base.AlternatingRecurrentAgentMixin`)."""
