"""`AtariR2d1Model`: conv + LSTM Q-network for recurrent DQN (R2D1, Kapturowski et al. 2019)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlpyt.models.conv2d import Conv2dHeadModel
from rlpyt.models.dqn.atari_dqn_model import dqn_conv_kwargs, scaled_images
from rlpyt.models.dqn.heads import make_q_head
from rlpyt.models.utils import RnnState, run_lstm
from rlpyt.utils.tensor import restore_leading_dims

__all__ = ["AtariR2d1Model", "RnnState"]  # RnnState re-exported for rlpyt's import path


class AtariR2d1Model(torch.nn.Module):
    """Conv trunk and one fully connected layer, an LSTM, then a Q head.

    The default model of ``AtariR2d1Agent``. The LSTM reads the image features with the
    one-hot previous action and the previous reward, time-major. Images are raw pixel values
    scaled by ``1/255`` here.

    Args:
        image_shape: ``(C, H, W)``.
        output_size: number of actions.
        fc_size: size of the fully connected layer after the convs.
        lstm_size: LSTM hidden size.
        head_size: hidden size of the Q head (of each stream, when dueling).
        dueling: use a dueling head.
        use_maxpool, channels, kernel_sizes, strides, paddings: conv layers, as for
            ``AtariDqnModel``.
        noisy: noisy layers in the Q head.
        noise_std: ``sigma_0`` of the noisy layers.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        output_size: int,
        fc_size: int = 512,
        lstm_size: int = 512,
        head_size: int = 512,
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
        self.conv = Conv2dHeadModel(
            image_shape=image_shape,
            hidden_sizes=fc_size,
            use_maxpool=use_maxpool,
            **dqn_conv_kwargs(channels, kernel_sizes, strides, paddings),
        )
        self.lstm = torch.nn.LSTM(self.conv.output_size + output_size + 1, lstm_size)
        self.head = make_q_head(
            lstm_size, head_size, output_size, dueling=dueling, noisy=noisy, noise_std=noise_std
        )

    def forward(
        self,
        observation: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        init_rnn_state: RnnState | None = None,
    ) -> tuple[torch.Tensor, RnnState]:
        """Run over ``[T, B]`` (or ``[B]``, ``[]``) steps.

        Args:
            observation: ``[..., C, H, W]`` pixels.
            prev_action: ``[..., output_size]`` one-hot.
            prev_reward: ``[...]``.
            init_rnn_state: ``RnnState`` ``[N, B, H]``, or ``None`` for zeros.

        Returns:
            ``(q [..., output_size], next_rnn_state [N, B, H])``.
        """
        img, (lead_dim, T, B) = scaled_images(observation)
        features = self.conv(img)
        out, next_rnn_state = run_lstm(
            self.lstm, features, prev_action, prev_reward, T, B, init_rnn_state
        )
        q = self.head(out)
        return restore_leading_dims(q, lead_dim, T, B), next_rnn_state
