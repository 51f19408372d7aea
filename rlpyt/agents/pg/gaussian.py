"""Gaussian policy-gradient agents (continuous actions), feed-forward and recurrent."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import (
    AlternatingRecurrentAgentMixin,
    RecurrentAgentMixin,
    space_shape,
    space_size,
)
from rlpyt.agents.pg.base import PgAgentBase, RecurrentPgAgentBase
from rlpyt.distributions.gaussian import DistInfoStd, Gaussian
from rlpyt.models.pg.mujoco_ff_model import MujocoFfModel
from rlpyt.models.pg.mujoco_lstm_model import MujocoLstmModel


class _GaussianPolicy:
    """What makes a PG agent Gaussian: the distribution and ``DistInfoStd(mean, log_std)``
    from the model's ``(mu, log_std)``. Mixed into the agents below."""

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the model and a ``Gaussian`` over the (vector) action space.

        Raises:
            ValueError: if actions are not vectors (``FloatBox`` of shape ``(A,)``).
        """
        if len(space_shape(env_spaces.action)) != 1:
            raise ValueError(
                f"{type(self).__name__} needs vector actions, got shape "
                f"{space_shape(env_spaces.action)}"
            )
        super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        self.distribution = Gaussian(dim=space_size(env_spaces.action))

    def default_model_kwargs(self, env_spaces: Any) -> dict:
        return dict(
            observation_shape=space_shape(env_spaces.observation),
            action_size=space_size(env_spaces.action),
        )

    def _dist_info(self, mu: torch.Tensor, log_std: torch.Tensor) -> DistInfoStd:
        return DistInfoStd(mean=mu, log_std=log_std)


class GaussianPgAgent(_GaussianPolicy, PgAgentBase):
    """Feed-forward agent with a diagonal Gaussian policy, for ``FloatBox`` actions.

    The model is called as ``model(observation, prev_action, prev_reward) -> (mu, log_std,
    value)``. With ``ModelCls=None`` it is a :class:`MujocoFfModel` sized from the spaces
    (observations normalised by running statistics; the algorithm calls
    :meth:`update_obs_rms`). Actions are not clipped to the space's bounds.
    ``agent_info`` is ``AgentInfo(dist_info=DistInfoStd(mean, log_std), value)``.
    """

    DefaultModelCls = MujocoFfModel


class RecurrentGaussianPgAgentBase(_GaussianPolicy, RecurrentPgAgentBase):
    """Recurrent Gaussian agent without state keeping; see :class:`RecurrentGaussianPgAgent`.

    The model is called as ``model(observation, prev_action, prev_reward, init_rnn_state) ->
    (mu, log_std, value, next_rnn_state)``. With ``ModelCls=None`` it is a
    :class:`MujocoLstmModel`.
    """

    DefaultModelCls = MujocoLstmModel


class RecurrentGaussianPgAgent(RecurrentAgentMixin, RecurrentGaussianPgAgentBase):
    """Recurrent Gaussian agent that keeps each env's LSTM state between steps."""


class AlternatingRecurrentGaussianPgAgent(AlternatingRecurrentAgentMixin, RecurrentGaussianPgAgent):
    """:class:`RecurrentGaussianPgAgent` for the alternating samplers: keeps one LSTM state per
    half of the envs (see :class:`~rlpyt.agents.base.AlternatingRecurrentAgentMixin`)."""
