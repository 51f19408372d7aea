"""`AtariDqnAgent`: ``DqnAgent`` with an ``AtariDqnModel`` by default."""

from __future__ import annotations

from rlpyt.agents.dqn.atari.mixin import AtariMixin
from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.models.dqn.atari_dqn_model import AtariDqnModel


class AtariDqnAgent(AtariMixin, DqnAgent):
    """``DqnAgent`` whose model gets ``image_shape`` and ``output_size`` from the spaces;
    ``ModelCls=None`` (the default) is :class:`AtariDqnModel`."""

    DefaultModelCls = AtariDqnModel
