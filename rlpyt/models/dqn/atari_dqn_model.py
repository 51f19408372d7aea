"""`AtariDqnModel`: conv Q-network for image observations (Mnih et al. 2015), optionally
dueling and noisy."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlpyt.models.conv2d import Conv2dModel
from rlpyt.models.dqn.heads import make_q_head
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims

# Defaults: the three-layer conv net of Nature DQN, with rlpyt's paddings.
DEFAULT_CHANNELS = (32, 64, 64)
DEFAULT_KERNEL_SIZES = (8, 4, 3)
DEFAULT_STRIDES = (4, 2, 1)
DEFAULT_PADDINGS = (0, 1, 1)


def dqn_conv_kwargs(channels, kernel_sizes, strides, paddings) -> dict:
    """Conv settings with the DQN defaults filled in where ``None``."""
    return dict(
        channels=list(channels or DEFAULT_CHANNELS),
        kernel_sizes=list(kernel_sizes or DEFAULT_KERNEL_SIZES),
        strides=list(strides or DEFAULT_STRIDES),
        paddings=list(paddings or DEFAULT_PADDINGS),
    )


def scaled_images(observation: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """``[..., C, H, W]`` pixels (``uint8`` or float 0-255) -> ``([T * B, C, H, W]`` float32
    in ``[0, 1]``, ``(lead_dim, T, B))``."""
    lead_dim, T, B, img_shape = infer_leading_dims(observation, 3)
    img = observation.reshape((T * B,) + tuple(img_shape)).to(torch.float32) * (1.0 / 255)
    return img, (lead_dim, T, B)


class AtariConvQModel(torch.nn.Module):
    """Conv trunk plus a Q head of any kind (see ``make_q_head``): the body shared by
    :class:`AtariDqnModel` and ``AtariCatDqnModel``.

    With ``n_atoms`` the output is a softmax over atoms, ``[..., output_size, n_atoms]``;
    otherwise Q-values ``[..., output_size]``. Images are raw pixel values, scaled by
    ``1/255`` here. ``prev_action`` and ``prev_reward`` are ignored.
    """

    ignores_prev_inputs = True  # forward never reads prev_action or prev_reward (see agents)

    def __init__(
        self,
        image_shape: Sequence[int],
        output_size: int,
        n_atoms: int | None = None,
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
        super().__init__()
        c, h, w = image_shape
        self.n_atoms = n_atoms
        self.conv = Conv2dModel(
            in_channels=c,
            use_maxpool=use_maxpool,
            **dqn_conv_kwargs(channels, kernel_sizes, strides, paddings),
        )
        self.head = make_q_head(
            self.conv.conv_out_size(h, w),
            fc_sizes,
            output_size,
            dueling=dueling,
            n_atoms=n_atoms,
            noisy=noisy,
            noise_std=noise_std,
        )

    def forward(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> torch.Tensor:
        """Q-values ``[..., output_size]`` (or probabilities ``[..., output_size, n_atoms]``)
        of images ``[..., C, H, W]`` with leading dims ``[]``, ``[B]`` or ``[T, B]``."""
        img, (lead_dim, T, B) = scaled_images(observation)
        features = self.conv(img)
        out = self.head(features.reshape(features.shape[0], -1))
        if self.n_atoms is not None:
            out = torch.softmax(out, dim=-1)
        return restore_leading_dims(out, lead_dim, T, B)


class AtariDqnModel(AtariConvQModel):
    """Conv trunk and fully connected head giving one Q-value per action.

    The default model of ``AtariDqnAgent``: Nature DQN's conv net (channels ``[32, 64,
    64]``, kernels ``[8, 4, 3]``, strides ``[4, 2, 1]``, paddings ``[0, 1, 1]``) and a
    512-unit layer; ``dueling=True`` splits the head into value and advantage streams
    (``DuelingHeadModel``); ``noisy=True`` makes the head's layers ``NoisyLinear``.

    Args:
        image_shape: ``(C, H, W)``, e.g. ``(4, 84, 84)`` stacked frames.
        output_size: number of actions.
        fc_sizes: hidden sizes of the head (of each stream, when dueling).
        dueling: use a dueling head.
        use_maxpool: down-sample with max-pooling instead of strided convs.
        channels, kernel_sizes, strides, paddings: conv layers; ``None`` for the defaults.
        noisy: noisy-net head (Fortunato et al., 2017).
        noise_std: ``sigma_0`` of the noisy layers.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        output_size: int,
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
            n_atoms=None,
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
