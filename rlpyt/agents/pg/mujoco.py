"""MuJoCo policy-gradient agents: Gaussian agents with MLP models sized from the spaces."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import AlternatingRecurrentAgentMixin, space_shape, space_size
from rlpyt.agents.pg.gaussian import GaussianPgAgent, RecurrentGaussianPgAgent
from rlpyt.models.pg.mujoco_ff_model import MujocoFfModel
from rlpyt.models.pg.mujoco_lstm_model import MujocoLstmModel


class MujocoMixin:
    """Gives vector-observation models ``observation_shape`` and ``action_size`` (the action
    dimension) from the env spaces, for whatever ``ModelCls`` the agent has."""

    def make_env_to_model_kwargs(self, env_spaces: Any) -> dict:
        return dict(
            observation_shape=space_shape(env_spaces.observation),
            action_size=space_size(env_spaces.action),
        )


class MujocoFfAgent(MujocoMixin, GaussianPgAgent):
    """``GaussianPgAgent`` with a :class:`MujocoFfModel` by default."""

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] = MujocoFfModel,
        model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
    ) -> None:
        super().__init__(ModelCls, model_kwargs, initial_model_state_dict)


class MujocoLstmAgent(MujocoMixin, RecurrentGaussianPgAgent):
    """``RecurrentGaussianPgAgent`` with a :class:`MujocoLstmModel` by default."""

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] = MujocoLstmModel,
        model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
    ) -> None:
        super().__init__(ModelCls, model_kwargs, initial_model_state_dict)


class AlternatingMujocoLstmAgent(AlternatingRecurrentAgentMixin, MujocoLstmAgent):
    """:class:`MujocoLstmAgent` for the alternating samplers: keeps one LSTM state per half of
    the envs (see :class:`~rlpyt.agents.base.AlternatingRecurrentAgentMixin`)."""
