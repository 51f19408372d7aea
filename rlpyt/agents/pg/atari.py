"""Atari policy-gradient agents: categorical agents with conv models sized from the spaces."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import AlternatingRecurrentAgentMixin, space_n, space_shape
from rlpyt.agents.pg.categorical import CategoricalPgAgent, RecurrentCategoricalPgAgent
from rlpyt.models.pg.atari_ff_model import AtariFfModel
from rlpyt.models.pg.atari_lstm_model import AtariLstmModel


class AtariMixin:
    """Gives Atari models ``image_shape`` (observation shape) and ``output_size`` (number of
    actions) from the env spaces, for whatever ``ModelCls`` the agent has."""

    def make_env_to_model_kwargs(self, env_spaces: Any) -> dict:
        return dict(
            image_shape=space_shape(env_spaces.observation),
            output_size=space_n(env_spaces.action),
        )


class AtariFfAgent(AtariMixin, CategoricalPgAgent):
    """``CategoricalPgAgent`` with an :class:`AtariFfModel` by default."""

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] = AtariFfModel,
        model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
    ) -> None:
        super().__init__(ModelCls, model_kwargs, initial_model_state_dict)


class AtariLstmAgent(AtariMixin, RecurrentCategoricalPgAgent):
    """``RecurrentCategoricalPgAgent`` with an :class:`AtariLstmModel` by default."""

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] = AtariLstmModel,
        model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
    ) -> None:
        super().__init__(ModelCls, model_kwargs, initial_model_state_dict)


class AlternatingAtariLstmAgent(AlternatingRecurrentAgentMixin, AtariLstmAgent):
    """:class:`AtariLstmAgent` for the alternating samplers: keeps one LSTM state per half of
    the envs (see :class:`~rlpyt.agents.base.AlternatingRecurrentAgentMixin`)."""
