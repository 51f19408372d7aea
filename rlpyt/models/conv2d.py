"""`Conv2dModel` (a stack of conv layers) and `Conv2dHeadModel` (conv stack plus MLP head)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlpyt.models.mlp import MlpModel
from rlpyt.models.utils import conv2d_output_shape


class Conv2dModel(torch.nn.Module):
    """Conv layers, each followed by a nonlinearity (and optionally a max-pool).

    The image trunk of Atari models (through :class:`Conv2dHeadModel`). Input
    ``[N, C, H, W]`` float, output ``[N, channels[-1], H', W']``.

    Args:
        in_channels: channels of the input image.
        channels: output channels of each conv layer.
        kernel_sizes: kernel size of each layer.
        strides: stride of each layer. With ``use_maxpool`` the convs use stride 1 and a
            ``MaxPool2d(stride)`` after the nonlinearity does the down-sampling instead.
        paddings: padding of each layer (default 0).
        nonlinearity: module class applied after each conv.
        use_maxpool: down-sample by max-pooling instead of strided convs.
        head_sizes: not supported (the flattened size depends on the image size, unknown
            here); must be ``None``. Use :class:`Conv2dHeadModel` for an MLP on top.
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        kernel_sizes: Sequence[int],
        strides: Sequence[int],
        paddings: Sequence[int] | None = None,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        use_maxpool: bool = False,
        head_sizes: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if head_sizes is not None:
            raise ValueError("Conv2dModel: head_sizes is not supported; use Conv2dHeadModel")
        if paddings is None:
            paddings = [0] * len(channels)
        if not len(channels) == len(kernel_sizes) == len(strides) == len(paddings):
            raise ValueError(
                "Conv2dModel: channels, kernel_sizes, strides and paddings need equal lengths; "
                f"got {len(channels)}, {len(kernel_sizes)}, {len(strides)}, {len(paddings)}"
            )
        in_chs = [in_channels] + list(channels[:-1])
        layers: list[torch.nn.Module] = []
        for ic, oc, k, s, p in zip(in_chs, channels, kernel_sizes, strides, paddings):
            conv_stride = 1 if use_maxpool else s
            layers += [torch.nn.Conv2d(ic, oc, k, conv_stride, p), nonlinearity()]
            if use_maxpool and s > 1:
                layers.append(torch.nn.MaxPool2d(s))
        self.conv = torch.nn.Sequential(*layers)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[N, C, H, W]`` -> ``[N, C', H', W']``."""
        return self.conv(input)

    def conv_out_size(self, h: int, w: int, c: int | None = None) -> int:
        """Number of output features ``C' * H' * W'`` for ``h x w`` input images.

        ``c`` is returned as the channel count if the model has no conv layer.
        """
        for layer in self.conv:
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
                h, w = conv2d_output_shape(h, w, layer.kernel_size, layer.stride, layer.padding)
            if isinstance(layer, torch.nn.Conv2d):
                c = layer.out_channels
        return h * w * c


class Conv2dHeadModel(torch.nn.Module):
    """A :class:`Conv2dModel` followed by a flattening :class:`MlpModel`.

    The image encoder of Atari policy and Q models. Input ``[N, C, H, W]`` float, output
    ``[N, output_size]``.

    Args:
        image_shape: ``(C, H, W)`` of input images.
        channels, kernel_sizes, strides, paddings, nonlinearity, use_maxpool: of the conv
            layers (see :class:`Conv2dModel`); ``nonlinearity`` is used in the MLP too.
        hidden_sizes: hidden layers of the MLP (int, list, or ``None`` for none).
        output_size: size of a final linear layer, or ``None`` to end with the last hidden layer
            (or with the flattened conv features when there is no hidden layer either).
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        channels: Sequence[int],
        kernel_sizes: Sequence[int],
        strides: Sequence[int],
        hidden_sizes: Sequence[int] | int | None,
        output_size: int | None = None,
        paddings: Sequence[int] | None = None,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        use_maxpool: bool = False,
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.conv = Conv2dModel(
            in_channels=c,
            channels=channels,
            kernel_sizes=kernel_sizes,
            strides=strides,
            paddings=paddings,
            nonlinearity=nonlinearity,
            use_maxpool=use_maxpool,
        )
        conv_out_size = self.conv.conv_out_size(h, w)
        self.head = MlpModel(conv_out_size, hidden_sizes, output_size, nonlinearity)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[N, C, H, W] -> [N, output_size]``."""
        features = self.conv(input)
        return self.head(features.reshape(features.shape[0], -1))

    @property
    def output_size(self) -> int:
        """Size of the output's last dim."""
        return self.head.output_size
