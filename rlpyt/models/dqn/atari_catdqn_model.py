"""`AtariCatDqnModel`: conv network giving a categorical return distribution per action (C51)."""

from __future__ import annotations

from collections.abc import Sequence

from rlpyt.models.dqn.atari_dqn_model import AtariConvQModel
from rlpyt.models.dqn.heads import DistributionalHeadModel

__all__ = ["AtariCatDqnModel", "DistributionalHeadModel"]  # the head, at rlpyt's import path


class AtariCatDqnModel(AtariConvQModel):
    """Conv trunk and head giving, per action, probabilities over ``n_atoms`` return atoms.

    The default model of ``AtariCatDqnAgent`` (Bellemare et al., 2017). Output ``p [...,
    output_size, n_atoms]``, a softmax over the last dim; the atoms' values are the agent's
    (``V_min`` to ``V_max``). With ``dueling`` and ``noisy`` (and the matching algorithm
    settings) this is Rainbow's network (Hessel et al., 2018).

    Args:
        image_shape: ``(C, H, W)``.
        output_size: number of actions.
        n_atoms: number of atoms.
        fc_sizes, dueling, use_maxpool, channels, kernel_sizes, strides, paddings, noisy,
            noise_std: as for ``AtariDqnModel``.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        output_size: int,
        n_atoms: int = 51,
        fc_sizes: Sequence[int] | int = 512,
        dueling: bool = False,
        use_maxpool: bool = False,
        channels: Sequence[int] | None = None,
        kernel_sizes: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        paddings: Sequence[int] | None = None,
        noisy: bool = False,
        noise_std: float = 0.5,
    ) -> None:
        super().__init__(
            image_shape,
            output_size,
            n_atoms=int(n_atoms),
            fc_sizes=fc_sizes,
            dueling=dueling,
            use_maxpool=use_maxpool,
            channels=channels,
            kernel_sizes=kernel_sizes,
            strides=strides,
            paddings=paddings,
            noisy=noisy,
            noise_std=noise_std,
        )
