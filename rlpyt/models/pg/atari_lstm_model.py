"""`AtariLstmModel`: conv + LSTM policy and value network for Atari."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from rlpyt.models.conv2d import Conv2dHeadModel
from rlpyt.models.pg.atari_ff_model import atari_conv_kwargs
from rlpyt.models.utils import RnnState, run_lstm
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims

__all__ = ["AtariLstmModel", "RnnState"]  # RnnState re-exported for rlpyt's import path


class AtariLstmModel(torch.nn.Module):
    """Conv trunk and fully connected layer, an LSTM, then softmax policy and value heads.

    The default model of ``AtariLstmAgent``. The LSTM input at each step is the image features
    concatenated with the one-hot previous action and the previous reward. Images are raw
    pixel values scaled by ``1/255`` here.

    Args:
        image_shape: ``(C, H, W)``.
        output_size: number of actions.
        fc_sizes: hidden sizes of the fully connected layers after the convs.
        lstm_size: LSTM hidden size.
        use_maxpool, channels, kernel_sizes, strides, paddings: as for ``AtariFfModel``.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        output_size: int,
        fc_sizes: Sequence[int] | int = 512,
        lstm_size: int = 512,
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
        self.lstm = torch.nn.LSTM(self.conv.output_size + output_size + 1, lstm_size)
        self.pi_v_head = torch.nn.Linear(lstm_size, output_size + 1)

    def forward(
        self,
        image: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        init_rnn_state: RnnState | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, RnnState]:
        """Run over ``[T, B]`` (or ``[B]``, ``[]``) steps.

        Args:
            image: ``[..., C, H, W]``.
            prev_action: ``[..., output_size]`` one-hot.
            prev_reward: ``[...]``.
            init_rnn_state: ``RnnState`` ``[N, B, H]`` or ``None`` for zeros.

        Returns:
            ``(pi [..., output_size], value [...], next_rnn_state [N, B, H])``.
        """
        lead_dim, T, B, img_shape = infer_leading_dims(image, 3)
        img = image.reshape((T * B,) + tuple(img_shape)).to(torch.float32) * (1.0 / 255)
        features = self.conv(img)
        out, next_rnn_state = run_lstm(
            self.lstm, features, prev_action, prev_reward, T, B, init_rnn_state
        )
        pi_v = self.pi_v_head(out)
        pi = F.softmax(pi_v[:, :-1], dim=-1)
        value = pi_v[:, -1]
        pi, value = restore_leading_dims((pi, value), lead_dim, T, B)
        return pi, value, next_rnn_state
