"""Default categorical PG models for vector observations, feed-forward and recurrent."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from rlpyt.models.mlp import MlpModel, ParallelMlpModel
from rlpyt.models.running_mean_std import RunningMeanStdModel
from rlpyt.models.utils import RnnState, run_lstm
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims


class CategoricalPgMlpModel(torch.nn.Module):
    """Separate policy and value MLPs; softmax over ``action_size`` actions.

    The default model of ``CategoricalPgAgent``. Separate tanh networks with orthogonal
    initialisation (hidden gain ``sqrt(2)``, policy output gain 0.01, value output gain 1,
    zero biases) match the usual PPO/A2C setting for small control tasks (as in
    Stable-Baselines3 and CleanRL). Both networks run together as one
    :class:`~rlpyt.models.mlp.ParallelMlpModel` (``mlp``; slice 0 policy, slice 1 value)
    for speed.

    Args:
        observation_shape: shape of one observation (flattened; cast to float32).
        action_size: number of actions.
        hidden_sizes: hidden layers of both MLPs (``None`` for ``[64, 64]``).
        nonlinearity: module class after each hidden layer.
        normalize_observation: normalise observations by running statistics (the algorithm
            updates them through :meth:`update_obs_rms`).
        norm_obs_clip: clip normalised observations to ``[-clip, clip]``.
        norm_obs_var_clip: lower bound on the variance used for normalising.
    """

    ignores_prev_inputs = True  # forward never reads prev_action or prev_reward (see agents)

    def __init__(
        self,
        observation_shape: Sequence[int],
        action_size: int,
        hidden_sizes: Sequence[int] | int | None = None,
        nonlinearity: type[torch.nn.Module] = torch.nn.Tanh,
        normalize_observation: bool = False,
        norm_obs_clip: float = 10,
        norm_obs_var_clip: float = 1e-6,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        input_size = int(np.prod(observation_shape))
        hidden_sizes = [64, 64] if hidden_sizes is None else hidden_sizes
        self.mlp = ParallelMlpModel(input_size, hidden_sizes, [action_size, 1], nonlinearity)
        self._orthogonal_init()
        self.normalize_observation = normalize_observation
        self.norm_obs_clip = norm_obs_clip
        self.norm_obs_var_clip = norm_obs_var_clip
        if normalize_observation:
            self.obs_rms = RunningMeanStdModel(observation_shape)

    @torch.no_grad()
    def _orthogonal_init(self) -> None:
        weights, biases = list(self.mlp.weights), list(self.mlp.biases)
        for i, weight in enumerate(weights):
            is_output = i == len(weights) - 1
            for j, gain in enumerate((0.01, 1.0) if is_output else (math.sqrt(2), math.sqrt(2))):
                torch.nn.init.orthogonal_(weight[j], gain=gain)
        for bias in biases:
            bias.zero_()

    def forward(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy and value for observations with leading dims ``[]``, ``[B]`` or ``[T, B]``;
        ``prev_action``/``prev_reward`` are ignored.

        Returns:
            ``(pi [..., action_size], value [...])``.
        """
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        if self.normalize_observation:
            observation = self.obs_rms.normalize(
                observation, self.norm_obs_clip, self.norm_obs_var_clip
            )
        # The sampler calls this once per time step with [B, obs_size] float32 observations:
        # the checks below skip a no-op reshape, cast, split and leading-dims restore there.
        flat = lead_dim == 1 and self._obs_ndim == 1
        x = observation if flat else observation.reshape(T * B, -1)
        if x.dtype != torch.float32:
            x = x.to(torch.float32)
        logits, value = self.mlp.forward_stacked(x).unbind(0)  # [N, A] and [N, A]
        pi = logits.softmax(-1)
        value = value.select(-1, 0)  # the value network's one output
        if lead_dim == 1:
            return pi, value
        return tuple(restore_leading_dims((pi, value), lead_dim, T, B))

    def update_obs_rms(self, observation: torch.Tensor) -> None:
        """Fold observations into the running statistics (no-op unless normalising)."""
        if self.normalize_observation:
            self.obs_rms.update(observation)


class CategoricalPgLstmModel(torch.nn.Module):
    """MLP encoder, an LSTM over ``[features, one-hot prev_action, prev_reward]``, then a linear
    head giving action probabilities and the value.

    The default model of ``RecurrentCategoricalPgAgent``.

    Args:
        observation_shape: shape of one observation (flattened; cast to float32).
        action_size: number of actions.
        hidden_sizes: hidden layers of the encoder MLP (``None`` for ``[64]``).
        lstm_size: LSTM hidden size.
        nonlinearity: module class after each hidden layer.
        normalize_observation, norm_obs_clip, norm_obs_var_clip: as for
            :class:`CategoricalPgMlpModel`.
    """

    def __init__(
        self,
        observation_shape: Sequence[int],
        action_size: int,
        hidden_sizes: Sequence[int] | int | None = None,
        lstm_size: int = 64,
        nonlinearity: type[torch.nn.Module] = torch.nn.Tanh,
        normalize_observation: bool = False,
        norm_obs_clip: float = 10,
        norm_obs_var_clip: float = 1e-6,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        hidden_sizes = [64] if hidden_sizes is None else hidden_sizes
        self.mlp = MlpModel(int(np.prod(observation_shape)), hidden_sizes, None, nonlinearity)
        self.lstm = torch.nn.LSTM(self.mlp.output_size + action_size + 1, lstm_size)
        self.pi_v_head = torch.nn.Linear(lstm_size, action_size + 1)
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
    ) -> tuple[torch.Tensor, torch.Tensor, RnnState]:
        """Run over ``[T, B]`` (or ``[B]``, ``[]``) steps.

        Args:
            observation: ``[..., *observation_shape]``.
            prev_action: ``[..., action_size]`` one-hot.
            prev_reward: ``[...]``.
            init_rnn_state: ``RnnState`` ``[N, B, H]`` or ``None`` for zeros.

        Returns:
            ``(pi [..., action_size], value [...], next_rnn_state [N, B, H])``.
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
        pi_v = self.pi_v_head(out)
        pi = F.softmax(pi_v[:, :-1], dim=-1)
        value = pi_v[:, -1]
        pi, value = restore_leading_dims((pi, value), lead_dim, T, B)
        return pi, value, next_rnn_state

    def update_obs_rms(self, observation: torch.Tensor) -> None:
        """Fold observations into the running statistics (no-op unless normalising)."""
        if self.normalize_observation:
            self.obs_rms.update(observation)
