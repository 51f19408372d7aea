"""Q-value heads: plain, distributional, and the factory `make_q_head` over all options."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlpyt.models.dqn.dueling import DistributionalDuelingHeadModel, DuelingHeadModel
from rlpyt.models.dqn.noisy import make_mlp


class DistributionalHeadModel(torch.nn.Module):
    """An MLP giving one logit per action and atom: ``[N, input_size] -> [N, A, n_atoms]``.

    The head of distributional (C51) models without dueling; the model applies the softmax
    over atoms.

    Args:
        input_size: size of the input features.
        hidden_sizes: hidden layers of the MLP.
        output_size: number of actions ``A``.
        n_atoms: number of atoms of each return distribution.
        nonlinearity: module class after each hidden layer.
        noisy: use noisy layers (:class:`~rlpyt.models.dqn.noisy.NoisyLinear`).
        noise_std: ``sigma_0`` of the noisy layers.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int] | int | None,
        output_size: int,
        n_atoms: int,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        noisy: bool = False,
        noise_std: float = 0.5,
    ) -> None:
        super().__init__()
        self.output_size = int(output_size)
        self.n_atoms = int(n_atoms)
        self.mlp = make_mlp(
            input_size, hidden_sizes, output_size * n_atoms, nonlinearity, noisy, noise_std
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[N, input_size] -> [N, output_size, n_atoms]`` logits."""
        return self.mlp(input).reshape(-1, self.output_size, self.n_atoms)


def make_q_head(
    input_size: int,
    hidden_sizes: Sequence[int] | int | None,
    output_size: int,
    dueling: bool = False,
    n_atoms: int | None = None,
    noisy: bool = False,
    noise_std: float = 0.5,
    nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
    grad_scale: float = 2 ** (-1 / 2),
) -> torch.nn.Module:
    """The head every DQN-family model ends with, chosen by its options.

    Returns a module mapping features ``[N, input_size]`` to Q-values ``[N, output_size]``
    (``n_atoms=None``) or to return-distribution logits ``[N, output_size, n_atoms]``:

    ============  ==============  ===================================
    ``dueling``   ``n_atoms``     head
    ============  ==============  ===================================
    False         None            ``MlpModel`` (or ``NoisyMlpModel``)
    True          None            ``DuelingHeadModel``
    False         int             ``DistributionalHeadModel``
    True          int             ``DistributionalDuelingHeadModel``
    ============  ==============  ===================================

    ``noisy`` makes every layer of the head a ``NoisyLinear``; ``grad_scale`` is the dueling
    heads' scaling of the gradient into the trunk.
    """
    options = dict(nonlinearity=nonlinearity, noisy=noisy, noise_std=noise_std)
    if n_atoms is None:
        if dueling:
            return DuelingHeadModel(
                input_size, hidden_sizes, output_size, grad_scale=grad_scale, **options
            )
        return make_mlp(input_size, hidden_sizes, output_size, **options)
    if dueling:
        return DistributionalDuelingHeadModel(
            input_size, hidden_sizes, output_size, n_atoms, grad_scale=grad_scale, **options
        )
    return DistributionalHeadModel(input_size, hidden_sizes, output_size, n_atoms, **options)
