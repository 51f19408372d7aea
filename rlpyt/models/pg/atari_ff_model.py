"""`AtariFfModel`: conv policy and value network for image observations and discrete actions."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from rlpyt.models.conv2d import Conv2dHeadModel
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims

# Defaults: the two-layer conv net of A3C (Mnih et al., 2016), as rlpyt used for PG on Atari.
DEFAULT_CHANNELS = (16, 32)
DEFAULT_KERNEL_SIZES = (8, 4)
DEFAULT_STRIDES = (4, 2)
DEFAULT_PADDINGS = (0, 1)


def atari_conv_kwargs(channels, kernel_sizes, strides, paddings) -> dict:
    """Conv settings with the A3C defaults filled in where ``None``."""
    return dict(
        channels=list(channels or DEFAULT_CHANNELS),
        kernel_sizes=list(kernel_sizes or DEFAULT_KERNEL_SIZES),
        strides=list(strides or DEFAULT_STRIDES),
        paddings=list(paddings or DEFAULT_PADDINGS),
    )


class AtariFfModel(torch.nn.Module):
    """Conv trunk, one fully connected layer, then softmax policy and value heads.

    The default model of ``AtariFfAgent``. Images are raw pixel values (``uint8`` 0-255, or
    floats on the same scale) and are scaled by ``1/255`` here.

    Args:
        image_shape: ``(C, H, W)``, e.g. ``(4, 84, 84)`` stacked frames.
        output_size: number of actions.
        fc_sizes: hidden sizes of the fully connected layers after the convs.
        use_maxpool: down-sample with max-pooling instead of strided convs.
        channels, kernel_sizes, strides, paddings: conv layers; ``None`` for the defaults
            ``[16, 32]``, ``[8, 4]``, ``[4, 2]``, ``[0, 1]``.
    """

    ignores_prev_inputs = True  # forward never reads prev_action or prev_reward (see agents)

    def __init__(
        self,
        image_shape: Sequence[int],
        output_size: int,
        fc_sizes: Sequence[int] | int = 512,
        use_maxpool: bool = False,
        channels: Sequence[int] | None = None,
        kernel_sizes: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        paddings: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.conv = Conv2dHeadModel(
            image_shape=image_shape,
            hidden_sizes=fc_sizes,
            use_maxpool=use_maxpool,
            **atari_conv_kwargs(channels, kernel_sizes, strides, paddings),
        )
        self.pi = torch.nn.Linear(self.conv.output_size, output_size)
        self.value = torch.nn.Linear(self.conv.output_size, 1)

    def forward(
        self, image: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy and value of images ``[..., C, H, W]`` with leading dims ``[]``, ``[B]``
        or ``[T, B]``; ``prev_action``/``prev_reward`` are ignored.

        Returns:
            ``(pi [..., output_size], value [...])``.
        """
        lead_dim, T, B, img_shape = infer_leading_dims(image, 3)
        img = image.reshape((T * B,) + tuple(img_shape)).to(torch.float32) * (1.0 / 255)
        features = self.conv(img)
        pi = F.softmax(self.pi(features), dim=-1)
        value = self.value(features).squeeze(-1)
        return tuple(restore_leading_dims((pi, value), lead_dim, T, B))
