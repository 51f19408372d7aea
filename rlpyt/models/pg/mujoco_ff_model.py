"""`MujocoFfModel`: MLP Gaussian policy (state-independent std) and value for vector inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlpyt.models.mlp import ParallelMlpModel
from rlpyt.models.running_mean_std import RunningMeanStdModel
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims


class MujocoFfModel(torch.nn.Module):
    """Separate MLPs for the action mean and the value, plus a learned ``log_std`` vector.

    The two MLPs run together as one :class:`~rlpyt.models.mlp.ParallelMlpModel` for speed
    (initialised as ``torch.nn.Linear`` layers are, as in rlpyt).

    The default model of ``GaussianPgAgent`` and ``MujocoFfAgent``. Observations may be
    normalised by a running mean and variance (updated by the algorithm through
    :meth:`update_obs_rms`), then clipped.

    Args:
        observation_shape: shape of one observation (flattened inside).
        action_size: action dimension.
        hidden_sizes: hidden layers of both MLPs (``None`` for ``[64, 64]``).
        hidden_nonlinearity: module class after each hidden layer.
        mu_nonlinearity: module class applied to the mean output (``None`` for none).
        init_log_std: initial value of every entry of ``log_std``.
        normalize_observation: normalise observations by running statistics.
        norm_obs_clip: clip normalised observations to ``[-clip, clip]``.
        norm_obs_var_clip: lower bound on the variance used for normalising.
    """

    ignores_prev_inputs = True  # forward never reads prev_action or prev_reward (see agents)

    def __init__(
        self,
        observation_shape: Sequence[int],
        action_size: int,
        hidden_sizes: Sequence[int] | int | None = None,
        hidden_nonlinearity: type[torch.nn.Module] = torch.nn.Tanh,
        mu_nonlinearity: type[torch.nn.Module] | None = torch.nn.Tanh,
        init_log_std: float = 0.0,
        normalize_observation: bool = True,
        norm_obs_clip: float = 10,
        norm_obs_var_clip: float = 1e-6,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        input_size = int(np.prod(observation_shape))
        hidden_sizes = [64, 64] if hidden_sizes is None else hidden_sizes
        # Mean and value MLPs (separate weights) run together: slice 0 mean, slice 1 value.
        self.mlp = ParallelMlpModel(input_size, hidden_sizes, [action_size, 1], hidden_nonlinearity)
        self.mu_nonlinearity = None if mu_nonlinearity is None else mu_nonlinearity()
        self.log_std = torch.nn.Parameter(torch.full((action_size,), float(init_log_std)))
        self.normalize_observation = normalize_observation
        self.norm_obs_clip = norm_obs_clip
        self.norm_obs_var_clip = norm_obs_var_clip
        if normalize_observation:
            self.obs_rms = RunningMeanStdModel(observation_shape)

    def forward(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean, log-std and value of observations with leading dims ``[]``, ``[B]`` or
        ``[T, B]``; ``prev_action``/``prev_reward`` are ignored.

        Returns:
            ``(mu [..., action_size], log_std [..., action_size], value [...])``.
        """
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        if self.normalize_observation:
            observation = self.obs_rms.normalize(
                observation, self.norm_obs_clip, self.norm_obs_var_clip
            )
        obs = observation.reshape(T * B, -1).to(torch.float32)
        mu, value = self.mlp(obs)
        if self.mu_nonlinearity is not None:
            mu = self.mu_nonlinearity(mu)
        value = value.squeeze(-1)
        log_std = self.log_std.expand_as(mu)
        return tuple(restore_leading_dims((mu, log_std, value), lead_dim, T, B))

    def update_obs_rms(self, observation: torch.Tensor) -> None:
        """Fold observations ``[..., *observation_shape]`` into the running statistics."""
        if self.normalize_observation:
            self.obs_rms.update(observation)
