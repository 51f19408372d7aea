"""`AtariR2d1Agent` and `AtariR2d1AlternatingAgent`: R2D1 agents with an ``AtariR2d1Model``."""

from __future__ import annotations

from rlpyt.agents.dqn.atari.mixin import AtariMixin
from rlpyt.agents.dqn.r2d1_agent import R2d1Agent, R2d1AlternatingAgent
from rlpyt.models.dqn.atari_r2d1_model import AtariR2d1Model


class AtariR2d1Agent(AtariMixin, R2d1Agent):
    """``R2d1Agent`` whose model gets ``image_shape`` and ``output_size`` from the spaces;
    ``ModelCls=None`` is :class:`AtariR2d1Model`."""

    DefaultModelCls = AtariR2d1Model


class AtariR2d1AlternatingAgent(AtariMixin, R2d1AlternatingAgent):
    """``R2d1AlternatingAgent`` (for ``AlternatingSampler``) with an :class:`AtariR2d1Model`
    by default."""

    DefaultModelCls = AtariR2d1Model
