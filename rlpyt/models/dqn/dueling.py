"""Dueling Q heads (Wang et al. 2016): separate value and advantage streams, for expected
values (`DuelingHeadModel`) and for return distributions (`DistributionalDuelingHeadModel`)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlpyt.models.dqn.noisy import make_mlp
from rlpyt.models.utils import scale_grad


class DuelingHeadModel(torch.nn.Module):
    """``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')`` from two MLP streams.

    Subtracting the mean advantage makes the split into ``V`` and ``A`` identifiable
    (Wang et al., 2016, "Dueling Network Architectures for Deep Reinforcement Learning",
    eq. 9). Both streams read the same features; the gradient they send back into the trunk
    is scaled by ``grad_scale`` (``1/sqrt(2)`` in the paper, so that the trunk's gradient
    keeps the size it would have with one stream).

    Args:
        input_size: size of the input features.
        hidden_sizes: hidden layers of each stream.
        output_size: number of actions.
        grad_scale: factor on the gradient into the input (1 for none).
        nonlinearity: module class after each hidden layer.
        noisy: use noisy layers in both streams.
        noise_std: ``sigma_0`` of the noisy layers.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int] | int | None,
        output_size: int,
        grad_scale: float = 2 ** (-1 / 2),
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        noisy: bool = False,
        noise_std: float = 0.5,
    ) -> None:
        super().__init__()
        self.grad_scale = grad_scale
        self.value = make_mlp(input_size, hidden_sizes, 1, nonlinearity, noisy, noise_std)
        self.advantage = make_mlp(
            input_size, hidden_sizes, output_size, nonlinearity, noisy, noise_std
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[N, input_size] -> [N, output_size]`` Q-values."""
        if self.grad_scale != 1:
            input = scale_grad(input, self.grad_scale)
        value = self.value(input)  # [N, 1]
        advantage = self.advantage(input)  # [N, A]
        return value + (advantage - advantage.mean(dim=-1, keepdim=True))


class DistributionalDuelingHeadModel(torch.nn.Module):
    """Dueling head over return-distribution logits, as in Rainbow (Hessel et al., 2018):
    ``logits(s, a) = V(s) + A(s, a) - mean_a' A(s, a')`` per atom.

    Args:
        input_size: size of the input features.
        hidden_sizes: hidden layers of each stream.
        output_size: number of actions ``A``.
        n_atoms: number of atoms.
        grad_scale: factor on the gradient into the input (1 for none).
        nonlinearity: module class after each hidden layer.
        noisy: use noisy layers in both streams.
        noise_std: ``sigma_0`` of the noisy layers.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int] | int | None,
        output_size: int,
        n_atoms: int,
        grad_scale: float = 2 ** (-1 / 2),
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        noisy: bool = False,
        noise_std: float = 0.5,
    ) -> None:
        super().__init__()
        self.output_size = int(output_size)
        self.n_atoms = int(n_atoms)
        self.grad_scale = grad_scale
        self.value = make_mlp(input_size, hidden_sizes, n_atoms, nonlinearity, noisy, noise_std)
        self.advantage = make_mlp(
            input_size, hidden_sizes, output_size * n_atoms, nonlinearity, noisy, noise_std
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[N, input_size] -> [N, output_size, n_atoms]`` logits."""
        if self.grad_scale != 1:
            input = scale_grad(input, self.grad_scale)
        value = self.value(input).unsqueeze(1)  # [N, 1, n_atoms]
        advantage = self.advantage(input).reshape(-1, self.output_size, self.n_atoms)
        return value + (advantage - advantage.mean(dim=1, keepdim=True))
