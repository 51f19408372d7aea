"""Noisy-net layers (factorised Gaussian noise, Fortunato et al. 2017) and their noise control."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from rlpyt.models.mlp import MlpModel


class NoisyLinear(torch.nn.Module):
    """A linear layer with learned, factorised Gaussian noise on its weights and bias.

    ``y = (W_mu + W_sigma * (f(e_out) f(e_in)^T)) x + b_mu + b_sigma * f(e_out)`` with
    ``e_in ~ N(0, I_in)``, ``e_out ~ N(0, I_out)`` and ``f(e) = sign(e) sqrt(|e|)``
    (Fortunato et al., 2017, "Noisy Networks for Exploration", eq. 10-11): ``in + out``
    random numbers per draw instead of ``in * out``. Initialisation as in that paper's
    factorised case: ``mu ~ U(-1/sqrt(in), 1/sqrt(in))``, ``sigma = noise_std / sqrt(in)``.

    The noise is a pair of buffers, not redrawn by ``forward``: it changes only when
    :meth:`resample_noise` is called (the DQN agents and algorithms decide when, see
    ``docs/dqn.md``). With ``noise_on = False`` the layer is deterministic and uses the mean
    weights ``W_mu, b_mu`` (evaluation). ``noise_on`` is independent of ``train()``/
    ``eval()``, because agents act with ``model.eval()`` and still need noise to explore.
    The noise buffers are not persistent: they are not in ``state_dict`` (the agents redraw
    them before they matter), so each process holding a copy draws its own.

    Args:
        in_features: input size.
        out_features: output size.
        bias: learn a (noisy) bias.
        noise_std: ``sigma_0``, the initial noise scale (times ``1/sqrt(in_features)``).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, noise_std: float = 0.5
    ) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.noise_std = float(noise_std)
        self.weight_mu = torch.nn.Parameter(torch.empty(self.out_features, self.in_features))
        self.weight_sigma = torch.nn.Parameter(torch.empty(self.out_features, self.in_features))
        if bias:
            self.bias_mu = torch.nn.Parameter(torch.empty(self.out_features))
            self.bias_sigma = torch.nn.Parameter(torch.empty(self.out_features))
        else:
            self.register_parameter("bias_mu", None)
            self.register_parameter("bias_sigma", None)
        self.register_buffer("noise_in", torch.zeros(self.in_features), persistent=False)
        self.register_buffer("noise_out", torch.zeros(self.out_features), persistent=False)
        self.noise_on = True
        self.reset_parameters()
        self.resample_noise()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise means uniformly in ``+-1/sqrt(in)`` and sigmas to ``noise_std/sqrt(in)``."""
        bound = 1.0 / math.sqrt(self.in_features)
        sigma = self.noise_std / math.sqrt(self.in_features)
        self.weight_mu.uniform_(-bound, bound)
        self.weight_sigma.fill_(sigma)
        if self.bias_mu is not None:
            self.bias_mu.uniform_(-bound, bound)
            self.bias_sigma.fill_(sigma)

    @torch.no_grad()
    def resample_noise(self) -> None:
        """Draw new noise ``f(e_in)``, ``f(e_out)`` (in place, so allowed in inference mode)."""
        for noise in (self.noise_in, self.noise_out):
            noise.normal_()
            noise.copy_(noise.sign() * noise.abs().sqrt())

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[..., in_features] -> [..., out_features]``, noisy while ``noise_on``."""
        if not self.noise_on:
            return F.linear(input, self.weight_mu, self.bias_mu)
        # The weight-space form costs in*out extra work once per call; the equivalent
        # activation-space form would cost a second matmul per row of the batch.
        weight = torch.addcmul(
            self.weight_mu, self.weight_sigma, torch.outer(self.noise_out, self.noise_in)
        )
        bias = None
        if self.bias_mu is not None:
            bias = torch.addcmul(self.bias_mu, self.bias_sigma, self.noise_out)
        return F.linear(input, weight, bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias_mu is not None}, noise_std={self.noise_std}"
        )


class NoisyMlpModel(torch.nn.Module):
    """An MLP whose every layer is a :class:`NoisyLinear` (the noisy twin of ``MlpModel``).

    Used by the Q heads when ``noisy=True`` (Rainbow replaces all fully connected layers
    after the conv trunk by noisy ones).

    Args:
        input_size: size of the last input dim.
        hidden_sizes: hidden layer sizes (int, list, or ``None`` for none).
        output_size: size of a final layer without nonlinearity, or ``None``.
        nonlinearity: module class after each hidden layer.
        noise_std: ``sigma_0`` of every layer.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int] | int | None,
        output_size: int | None = None,
        nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
        noise_std: float = 0.5,
    ) -> None:
        super().__init__()
        if hidden_sizes is None:
            hidden_sizes = []
        elif isinstance(hidden_sizes, int):
            hidden_sizes = [hidden_sizes]
        layers: list[torch.nn.Module] = []
        last = int(input_size)
        for size in hidden_sizes:
            layers += [NoisyLinear(last, int(size), noise_std=noise_std), nonlinearity()]
            last = int(size)
        if output_size is not None:
            layers.append(NoisyLinear(last, int(output_size), noise_std=noise_std))
            last = int(output_size)
        self.model = torch.nn.Sequential(*layers)
        self._output_size = last

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """``[..., input_size] -> [..., output_size]``."""
        return self.model(input)

    @property
    def output_size(self) -> int:
        """Size of the output's last dim."""
        return self._output_size


def noisy_layers(module: torch.nn.Module) -> list[NoisyLinear]:
    """Every :class:`NoisyLinear` inside ``module`` (empty for models without noise)."""
    return [m for m in module.modules() if isinstance(m, NoisyLinear)]


def resample_noise(module: torch.nn.Module) -> None:
    """Draw new noise in every noisy layer of ``module`` (a no-op without any)."""
    for layer in noisy_layers(module):
        layer.resample_noise()


def set_noise(module: torch.nn.Module, on: bool) -> None:
    """Switch the noise of every noisy layer of ``module`` on (explore, train) or off (use the
    mean weights: deterministic evaluation)."""
    for layer in noisy_layers(module):
        layer.noise_on = bool(on)


def make_mlp(
    input_size: int,
    hidden_sizes: Sequence[int] | int | None,
    output_size: int | None = None,
    nonlinearity: type[torch.nn.Module] = torch.nn.ReLU,
    noisy: bool = False,
    noise_std: float = 0.5,
) -> MlpModel | NoisyMlpModel:
    """An ``MlpModel``, or with ``noisy`` a ``NoisyMlpModel`` with the same layout."""
    if noisy:
        return NoisyMlpModel(input_size, hidden_sizes, output_size, nonlinearity, noise_std)
    return MlpModel(input_size, hidden_sizes, output_size, nonlinearity)
