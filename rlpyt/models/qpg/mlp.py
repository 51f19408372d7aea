"""MLP models of the Q-function policy-gradient agents: `MuMlpModel` (deterministic policy),
`PiMlpModel` (Gaussian policy), `QofMuMlpModel` (action value), `VMlpModel` (state value)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlpyt.models.mlp import MlpModel
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims


def flat_observation(observation: torch.Tensor, N: int) -> torch.Tensor:
    """``observation [..., *observation_shape]`` as ``[N, prod(observation_shape)]`` float32."""
    x = observation.reshape(N, -1)
    return x if x.dtype == torch.float32 else x.to(torch.float32)


def q_input(observation: torch.Tensor, action: torch.Tensor, N: int) -> torch.Tensor:
    """The input rows of an action-value MLP: ``[N, obs_size + action_size]``, the flattened
    observation followed by the action (both float32)."""
    a = action.reshape(N, -1)
    if a.dtype != torch.float32:
        a = a.to(torch.float32)
    return torch.cat([flat_observation(observation, N), a], dim=-1)


class MuMlpModel(torch.nn.Module):
    """Deterministic policy ``mu(s) = output_max * tanh(MLP(s))`` (DDPG, TD3).

    The agents read the output as a normalized action in ``[-1, 1]`` per dimension and scale it
    to the env's bounds themselves (see ``rlpyt.agents.qpg.base.ActionScaling``), so keep
    ``output_max=1`` with them.

    Args:
        observation_shape: shape of one observation (flattened inside).
        hidden_sizes: hidden layer sizes (ReLU).
        action_size: action dimension.
        output_max: scale of the tanh output.
    """

    ignores_prev_inputs = True  # forward never reads prev_action or prev_reward

    def __init__(
        self,
        observation_shape: Sequence[int],
        hidden_sizes: Sequence[int] | int | None,
        action_size: int,
        output_max: float = 1,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        self._output_max = output_max
        self.mlp = MlpModel(int(np.prod(observation_shape)), hidden_sizes, action_size)

    def forward(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> torch.Tensor:
        """``mu [..., action_size]`` for observations with leading dims ``[]``, ``[B]`` or
        ``[T, B]``; ``prev_action``/``prev_reward`` are ignored."""
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        mu = torch.tanh(self.mlp(flat_observation(observation, T * B)))
        if self._output_max != 1:
            mu = mu * self._output_max
        return restore_leading_dims(mu, lead_dim, T, B)


class PiMlpModel(torch.nn.Module):
    """Gaussian policy head for SAC: one MLP whose ``2 * action_size`` outputs are the mean and
    the log-std of the pre-squash Gaussian (the agent clamps the std and squashes with tanh).

    Args:
        observation_shape: shape of one observation (flattened inside).
        hidden_sizes: hidden layer sizes (ReLU).
        action_size: action dimension.
    """

    ignores_prev_inputs = True

    def __init__(
        self,
        observation_shape: Sequence[int],
        hidden_sizes: Sequence[int] | int | None,
        action_size: int,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        self._action_size = int(action_size)
        self.mlp = MlpModel(int(np.prod(observation_shape)), hidden_sizes, 2 * self._action_size)

    def forward(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu [..., action_size], log_std [..., action_size])`` for observations with
        leading dims ``[]``, ``[B]`` or ``[T, B]``."""
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        out = self.mlp(flat_observation(observation, T * B))
        mu, log_std = out.split(self._action_size, dim=-1)
        return tuple(restore_leading_dims((mu, log_std), lead_dim, T, B))


class QofMuMlpModel(torch.nn.Module):
    """Action value ``Q(s, a)``: an MLP on the flattened observation concatenated with the
    action, one output.

    The agents evaluate several of these (TD3's and SAC's twin critics) as one fused
    :class:`~rlpyt.models.qpg.ensemble.QofMuEnsembleMlpModel` with the same layers and the same
    ``state_dict`` per member.

    Args:
        observation_shape: shape of one observation (flattened inside).
        hidden_sizes: hidden layer sizes (ReLU).
        action_size: action dimension.
    """

    ignores_prev_inputs = True

    def __init__(
        self,
        observation_shape: Sequence[int],
        hidden_sizes: Sequence[int] | int | None,
        action_size: int,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        input_size = int(np.prod(observation_shape)) + int(action_size)
        self.mlp = MlpModel(input_size, hidden_sizes, 1)

    def forward(
        self,
        observation: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        action: torch.Tensor,
    ) -> torch.Tensor:
        """``q [...]`` for observations with leading dims ``[]``, ``[B]`` or ``[T, B]`` and
        actions ``[..., action_size]`` with the same leading dims."""
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        q = self.mlp(q_input(observation, action, T * B)).squeeze(-1)
        return restore_leading_dims(q, lead_dim, T, B)


class VMlpModel(torch.nn.Module):
    """State value ``V(s)``: an MLP on the flattened observation, one output (the V model of
    the first SAC version; the twin-Q SAC agent does not use it).

    Args:
        observation_shape: shape of one observation (flattened inside).
        hidden_sizes: hidden layer sizes (ReLU).
        action_size: ignored (accepted so that the agents' env keyword arguments fit).
    """

    ignores_prev_inputs = True

    def __init__(
        self,
        observation_shape: Sequence[int],
        hidden_sizes: Sequence[int] | int | None,
        action_size: int | None = None,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        self.mlp = MlpModel(int(np.prod(observation_shape)), hidden_sizes, 1)

    def forward(
        self,
        observation: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        action: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``v [...]`` for observations with leading dims ``[]``, ``[B]`` or ``[T, B]``;
        ``action`` is ignored."""
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        v = self.mlp(flat_observation(observation, T * B)).squeeze(-1)
        return restore_leading_dims(v, lead_dim, T, B)
