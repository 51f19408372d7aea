"""Q-networks for vector observations: `MlpDqnModel` (feed-forward; dueling, distributional and
noisy options) and `MlpR2d1Model` (MLP + LSTM), the default models of the DQN-family agents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlpyt.models import plain_mlp
from rlpyt.models.dqn.heads import make_q_head
from rlpyt.models.mlp import MlpModel
from rlpyt.models.utils import RnnState, run_lstm
from rlpyt.utils.tensor import infer_leading_dims, restore_leading_dims


class MlpDqnModel(torch.nn.Module):
    """An MLP from flattened observations to Q-values, or to return distributions.

    The default model of ``DqnAgent`` (and, with ``n_atoms`` set by the agent, of
    ``CatDqnAgent``), so any env with vector observations and discrete actions (CartPole,
    Acrobot, LunarLander, ...) needs no model written. The whole network is the head of
    ``make_q_head``: with ``dueling`` the value and advantage streams each get
    ``hidden_sizes``; with ``noisy`` every layer is a ``NoisyLinear``.

    Args:
        observation_shape: shape of one observation (flattened; cast to float32).
        action_size: number of actions.
        hidden_sizes: hidden layers (``None`` for ``[64, 64]``).
        dueling: dueling head (Wang et al., 2016).
        n_atoms: return atoms for distributional RL (C51); ``None`` for Q-values. With atoms
            the output is a softmax over them, ``[..., action_size, n_atoms]``.
        noisy: noisy layers (Fortunato et al., 2017).
        noise_std: ``sigma_0`` of the noisy layers.
        nonlinearity: module class after each hidden layer.
        fast_paths: let agents and DQN use the plain-MLP fast paths where they apply (Q-values
            without dueling, atoms or noise; ReLU, Tanh or Sigmoid; no hooks): NumPy forward
            passes for acting and updates (:meth:`host_forward`) and explicit gradients
            (:meth:`host_backward`), see ``rlpyt.models.plain_mlp``. ``False`` always goes
            through the module and autograd (same results up to float rounding).
    """

    ignores_prev_inputs = True  # forward never reads prev_action or prev_reward (see agents)

    def __init__(
        self,
        observation_shape: Sequence[int],
        action_size: int,
        hidden_sizes: Sequence[int] | int | None = None,
        dueling: bool = False,
        n_atoms: int | None = None,
        noisy: bool = False,
        noise_std: float = 0.5,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        fast_paths: bool = True,
    ) -> None:
        super().__init__()
        self.fast_paths = bool(fast_paths)
        self._obs_ndim = len(observation_shape)
        self._input_size = int(np.prod(observation_shape))
        self.n_atoms = None if n_atoms is None else int(n_atoms)
        self.head = make_q_head(
            self._input_size,
            [64, 64] if hidden_sizes is None else hidden_sizes,
            action_size,
            dueling=dueling,
            n_atoms=self.n_atoms,
            noisy=noisy,
            noise_std=noise_std,
            nonlinearity=nonlinearity,
        )

    def forward(
        self, observation: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor
    ) -> torch.Tensor:
        """Q-values ``[..., action_size]`` (or probabilities ``[..., action_size, n_atoms]``)
        for observations with leading dims ``[]``, ``[B]`` or ``[T, B]``;
        ``prev_action``/``prev_reward`` are ignored."""
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        x = observation if lead_dim == 1 and self._obs_ndim == 1 else observation.reshape(T * B, -1)
        if x.dtype != torch.float32:
            x = x.to(torch.float32)
        out = self.head(x)
        if self.n_atoms is not None:
            out = torch.softmax(out, dim=-1)
        return restore_leading_dims(out, lead_dim, T, B)

    # --- fast paths of the plain Q-network (``rlpyt.models.plain_mlp``) ---------------------

    def _plain_head(self) -> MlpModel | None:
        """The head, if it is a plain ``MlpModel`` giving Q-values and no hook is on this model."""
        head = self._modules["head"]  # (``self.head`` goes through Module.__getattr__)
        if not self.fast_paths or self.n_atoms is not None or type(head) is not MlpModel:
            return None
        if self._forward_hooks or self._forward_pre_hooks:
            return None
        return head

    def host_forward(self, observation: np.ndarray, saved: list | None = None) -> np.ndarray | None:
        """Q-values computed in NumPy (``rlpyt.models.plain_mlp``) for observations with
        leading dims ``[]``, ``[B]`` or ``[T, B]``: for acting (``DqnAgent.step``) and, with
        ``saved`` (a list that receives what :meth:`host_backward` needs), for updates
        (``DQN``). ``None`` where the fast path does not apply (dueling, distributional or
        noisy heads, hooks, parameters not float32 on the CPU, large batches, or
        ``fast_paths=False``): the caller then uses the module."""
        head = self._plain_head()
        if head is None:
            return None
        lead = observation.shape[: observation.ndim - self._obs_ndim]
        x = observation.reshape(-1, self._input_size)
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        q = plain_mlp.host_forward(head, x, saved)
        return None if q is None else q.reshape(*lead, q.shape[-1])

    def host_backward(
        self, saved: list, grad_q: np.ndarray
    ) -> list[tuple[torch.nn.Parameter, np.ndarray]]:
        """``[(parameter, gradient array)]`` from the gradient of the Q-values of
        ``host_forward(..., saved=saved)`` (same shape as they had)."""
        return plain_mlp.host_backward(saved, grad_q.reshape(-1, grad_q.shape[-1]))


class MlpR2d1Model(torch.nn.Module):
    """MLP encoder, an LSTM over ``[features, one-hot prev_action, prev_reward]``, then a Q
    head: the default model of ``R2d1Agent`` for vector observations.

    Args:
        observation_shape: shape of one observation (flattened; cast to float32).
        action_size: number of actions.
        hidden_sizes: hidden layers of the encoder (``None`` for ``[64]``).
        lstm_size: LSTM hidden size.
        head_size: hidden size of the Q head (of each stream, when dueling).
        dueling: dueling head.
        noisy: noisy layers in the head.
        noise_std: ``sigma_0`` of the noisy layers.
        nonlinearity: module class after each hidden layer.
    """

    def __init__(
        self,
        observation_shape: Sequence[int],
        action_size: int,
        hidden_sizes: Sequence[int] | int | None = None,
        lstm_size: int = 64,
        head_size: Sequence[int] | int | None = 64,
        dueling: bool = False,
        noisy: bool = False,
        noise_std: float = 0.5,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
    ) -> None:
        super().__init__()
        self._obs_ndim = len(observation_shape)
        hidden_sizes = [64] if hidden_sizes is None else hidden_sizes
        self.mlp = MlpModel(int(np.prod(observation_shape)), hidden_sizes, None, nonlinearity)
        self.lstm = torch.nn.LSTM(self.mlp.output_size + action_size + 1, lstm_size)
        self.head = make_q_head(
            lstm_size,
            head_size,
            action_size,
            dueling=dueling,
            noisy=noisy,
            noise_std=noise_std,
            nonlinearity=nonlinearity,
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
            observation: ``[..., *observation_shape]``.
            prev_action: ``[..., action_size]`` one-hot.
            prev_reward: ``[...]``.
            init_rnn_state: ``RnnState`` ``[N, B, H]``, or ``None`` for zeros.

        Returns:
            ``(q [..., action_size], next_rnn_state [N, B, H])``.
        """
        lead_dim, T, B, _ = infer_leading_dims(observation, self._obs_ndim)
        features = self.mlp(observation.reshape(T * B, -1).to(torch.float32))
        out, next_rnn_state = run_lstm(
            self.lstm, features, prev_action, prev_reward, T, B, init_rnn_state
        )
        q = self.head(out)
        return restore_leading_dims(q, lead_dim, T, B), next_rnn_state
