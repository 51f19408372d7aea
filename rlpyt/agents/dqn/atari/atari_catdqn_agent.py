"""`AtariCatDqnAgent`: ``CatDqnAgent`` with an ``AtariCatDqnModel`` by default."""

from __future__ import annotations

from rlpyt.agents.dqn.atari.mixin import AtariMixin
from rlpyt.agents.dqn.catdqn_agent import CatDqnAgent
from rlpyt.models.dqn.atari_catdqn_model import AtariCatDqnModel


class AtariCatDqnAgent(AtariMixin, CatDqnAgent):
    """``CatDqnAgent`` whose model gets ``image_shape`` and ``output_size`` from the spaces
    (and ``n_atoms`` from the agent); ``ModelCls=None`` is :class:`AtariCatDqnModel`."""

    DefaultModelCls = AtariCatDqnModel
