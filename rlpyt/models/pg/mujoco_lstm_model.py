"""`MujocoLstmModel`: MLP + LSTM Gaussian policy and value for vector observations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlpyt.models.mlp import MlpModel
from rlpyt.models.running_mean_std import RunningMeanStdModel
from rlpyt.models.utils import RnnState, run_lstm
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims

__all__ = ["MujocoLstmModel", "RnnState"]  # RnnState re-exported for rlpyt's import path


class MujocoLstmModel(torch.nn.Module):
    """MLP encoder, an LSTM over ``[features, prev_action, prev_reward]``, then one linear head
    giving the action mean, a state-dependent ``log_std`` and the value.

    The default model of ``RecurrentGaussianPgAgent`` and ``MujocoLstmAgent``.

    Args:
        observation_shape: shape of one observation (flattened inside).
        action_size: action dimension.
        hidden_sizes: hidden layers of the encoder MLP (``None`` for ``[256, 256]``).
        lstm_size: LSTM hidden size.
        nonlinearity: module class after each hidden layer.
        normalize_observation: normalise observations by running statistics
            (see ``MujocoFfModel``).
        norm_obs_clip: clip normalised observations to ``[-clip, clip]``.
        norm_obs_var_clip: lower bound on the variance used for normalising.
    """

    def __init__(
        self,
        observation_shape: Sequence[int],
        action_size: int,
        hidden_sizes: Sequence[int] | int | None = None,
        lstm_size: int = 256,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        normalize_observation: bool = False,
        norm_obs_clip: float = 10,
        norm_obs_var_clip: float = 1e-6,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        self._action_size = int(action_size)
        hidden_sizes = [256, 256] if hidden_sizes is None else hidden_sizes
        self.mlp = MlpModel(int(np.prod(observation_shape)), hidden_sizes, None, nonlinearity)
        self.lstm = torch.nn.LSTM(self.mlp.output_size + action_size + 1, lstm_size)
        self.head = torch.nn.Linear(lstm_size, 2 * action_size + 1)
        self.normalize_observation = normalize_observation
        self.norm_obs_clip = norm_obs_clip
        self.norm_obs_var_clip = norm_obs_var_clip
        if normalize_observation:
            self.obs_rms = RunningMeanStdModel(observation_shape)

    def forward(
        self,
        observation: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        init_rnn_state: RnnState | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, RnnState]:
        """Run over ``[T, B]`` (or ``[B]``, ``[]``) steps.

        Args:
            observation: ``[..., *observation_shape]``.
            prev_action: ``[..., action_size]``.
            prev_reward: ``[...]``.
            init_rnn_state: ``RnnState`` ``[N, B, H]`` or ``None`` for zeros.

        Returns:
            ``(mu [..., A], log_std [..., A], value [...], next_rnn_state [N, B, H])``.
        """
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        if self.normalize_observation:
            observation = self.obs_rms.normalize(
                observation, self.norm_obs_clip, self.norm_obs_var_clip
            )
        features = self.mlp(observation.reshape(T * B, -1).to(torch.float32))
        out, next_rnn_state = run_lstm(
            self.lstm, features, prev_action, prev_reward, T, B, init_rnn_state
        )
        out = self.head(out)
        a = self._action_size
        mu, log_std, value = out[:, :a], out[:, a:-1], out[:, -1]
        mu, log_std, value = restore_leading_dims((mu, log_std, value), lead_dim, T, B)
        return mu, log_std, value, next_rnn_state

    def update_obs_rms(self, observation: torch.Tensor) -> None:
        """Fold observations into the running statistics (no-op unless normalising)."""
        if self.normalize_observation:
            self.obs_rms.update(observation)
