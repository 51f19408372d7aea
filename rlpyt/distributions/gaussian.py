"""`Gaussian`: diagonal Gaussian actions, optionally clipped or tanh-squashed."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rlpyt.distributions.base import Distribution
from rlpyt.utils.collections import namedarraytuple

EPS = 1e-6  # keeps atanh finite when inverting squashed actions at the bounds
_LOG_2PI = math.log(2 * math.pi)
_LOG_2 = math.log(2.0)

DistInfo = namedarraytuple("DistInfo", ["mean"])
"""``DistInfo(mean)``: for a Gaussian whose std is fixed with :meth:`Gaussian.set_std`."""

DistInfoStd = namedarraytuple("DistInfoStd", ["mean", "log_std"])
"""``DistInfoStd(mean, log_std)``: both ``[..., dim]``."""


class Gaussian(Distribution):
    """Diagonal Gaussian over ``dim``-dimensional actions.

    Gaussian policy-gradient agents sample from it with ``DistInfoStd(mean, log_std)``; DDPG and
    TD3 use a fixed exploration std (:meth:`set_std`) with ``DistInfo(mean)``; SAC uses
    :meth:`sample_loglikelihood` with ``squash`` for tanh-bounded actions.

    Sampling is reparameterised (``mean + std * noise``), so gradients flow to ``mean`` and
    ``log_std`` from :meth:`sample` and :meth:`sample_loglikelihood` unless called under
    ``torch.no_grad()``.

    Squashing: with ``squash=s`` a sample is ``x = s * tanh(u)`` with ``u`` Gaussian, and
    :meth:`log_likelihood` / :meth:`sample_loglikelihood` return the density of ``x`` by the
    change of variables ``log p(x) = log N(u) - sum(log s + log(1 - tanh(u)^2))``, using the
    stable identity ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))``.
    :meth:`log_likelihood` recovers ``u = atanh(x / s)`` (clamped ``EPS`` inside the bounds).
    :meth:`entropy` and :meth:`kl` refer to the Gaussian of ``u``; the KL is the same for the
    squashed variables (``tanh`` is a bijection), the entropy is not.

    Args:
        dim: action dimension.
        std: fixed standard deviation (float or tensor broadcastable to ``[..., dim]``); when
            ``None`` the std comes from ``dist_info.log_std``.
        clip: clamp samples to ``[-clip, clip]`` (after squashing, if any). Log-likelihoods of
            clipped samples are those of the unclipped draw.
        noise_clip: clamp the noise ``std * N(0, 1)`` to ``[-noise_clip, noise_clip]`` in
            :meth:`sample` (TD3's target smoothing); :meth:`sample_loglikelihood` ignores it.
        min_std: lower bound on the std (``log_std`` is clamped to ``log(min_std)``).
        max_std: upper bound on the std.
        squash: scale ``s`` of tanh squashing, e.g. ``1`` for actions in ``(-1, 1)``.
    """

    def __init__(
        self,
        dim: int,
        std: float | torch.Tensor | None = None,
        clip: float | None = None,
        noise_clip: float | None = None,
        min_std: float | None = None,
        max_std: float | None = None,
        squash: float | None = None,
    ) -> None:
        self._dim = int(dim)
        self.std = std
        self.clip = clip
        self.noise_clip = noise_clip
        self.min_std = min_std
        self.max_std = max_std
        self.min_log_std = None if min_std is None else math.log(min_std)
        self.max_log_std = None if max_std is None else math.log(max_std)
        self.squash = squash

    @property
    def dim(self) -> int:
        """Action dimension."""
        return self._dim

    # --- settings --------------------------------------------------------------------------

    def set_std(self, std: float | torch.Tensor | None) -> None:
        """Fix the std (e.g. an exploration schedule); ``None`` reads ``dist_info.log_std``."""
        self.std = std

    def set_clip(self, clip: float | None) -> None:
        self.clip = clip

    def set_noise_clip(self, noise_clip: float | None) -> None:
        self.noise_clip = noise_clip

    def set_squash(self, squash: float | None) -> None:
        self.squash = squash

    # --- helpers ---------------------------------------------------------------------------

    def _log_std(self, dist_info) -> torch.Tensor:
        """``log_std`` of ``dist_info`` (or of the fixed std), clamped to [min_std, max_std]."""
        mean = dist_info.mean
        if self.std is None:
            log_std = dist_info.log_std
        else:
            std = torch.as_tensor(self.std, dtype=mean.dtype, device=mean.device)
            log_std = torch.log(std).expand_as(mean)
        if self.min_log_std is not None or self.max_log_std is not None:
            log_std = torch.clamp(log_std, min=self.min_log_std, max=self.max_log_std)
        return log_std

    @staticmethod
    def _gaussian_log_prob(z: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
        """Log density given the standardised value ``z = (u - mean) / std``; sums the last dim."""
        return torch.sum(-0.5 * z.square() - log_std, dim=-1) - 0.5 * _LOG_2PI * z.shape[-1]

    def _squash_log_det(self, u: torch.Tensor) -> torch.Tensor:
        """``sum(log |d(s * tanh(u)) / du|)`` over the last dim, computed stably."""
        log_det = 2.0 * (_LOG_2 - u - F.softplus(-2.0 * u))
        return torch.sum(log_det, dim=-1) + u.shape[-1] * math.log(self.squash)

    # --- sampling --------------------------------------------------------------------------

    def sample(self, dist_info) -> torch.Tensor:
        """Draw ``[..., dim]`` actions: ``mean + std * noise``, then squash and/or clip."""
        mean = dist_info.mean
        std = torch.exp(self._log_std(dist_info))
        noise = std * torch.randn_like(mean)
        if self.noise_clip is not None:
            noise = torch.clamp(noise, -self.noise_clip, self.noise_clip)
        x = mean + noise
        if self.squash is not None:
            x = self.squash * torch.tanh(x)
        if self.clip is not None:
            x = torch.clamp(x, -self.clip, self.clip)
        return x

    def sample_loglikelihood(self, dist_info) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw actions and their log-likelihoods together (reparameterised, as SAC needs).

        Cheaper and more accurate than :meth:`sample` followed by :meth:`log_likelihood`:
        the pre-squash value is known, so no ``atanh`` is needed.

        Returns:
            ``(x [..., dim], log_likelihood [...])``.
        """
        mean = dist_info.mean
        log_std = self._log_std(dist_info)
        z = torch.randn_like(mean)
        u = mean + torch.exp(log_std) * z
        logli = self._gaussian_log_prob(z, log_std)
        if self.squash is not None:
            logli = logli - self._squash_log_det(u)
            x = self.squash * torch.tanh(u)
        else:
            x = u
        if self.clip is not None:
            x = torch.clamp(x, -self.clip, self.clip)
        return x, logli

    # --- densities and divergences ---------------------------------------------------------

    def log_likelihood(self, x: torch.Tensor, dist_info) -> torch.Tensor:
        """Log density of actions ``x [..., dim]``; returns the leading dims.

        With ``squash`` set, ``x`` is a squashed action and the density includes the
        change-of-variables term (see the class docstring).
        """
        mean = dist_info.mean
        log_std = self._log_std(dist_info)
        if self.squash is None:
            u = x
        else:
            y = torch.clamp(x / self.squash, -1.0 + EPS, 1.0 - EPS)
            u = torch.atanh(y)
        z = (u - mean) * torch.exp(-log_std)
        logli = self._gaussian_log_prob(z, log_std)
        if self.squash is not None:
            logli = logli - self._squash_log_det(u)
        return logli

    def likelihood_ratio(self, x: torch.Tensor, old_dist_info, new_dist_info) -> torch.Tensor:
        """``exp(log p_new(x) - log p_old(x))``."""
        logli_old = self.log_likelihood(x, old_dist_info)
        logli_new = self.log_likelihood(x, new_dist_info)
        return torch.exp(logli_new - logli_old)

    def entropy(self, dist_info) -> torch.Tensor:
        """Entropy of the (pre-squash) Gaussian: ``sum(log_std + 0.5 * log(2 pi e))``."""
        log_std = self._log_std(dist_info)
        return torch.sum(log_std, dim=-1) + 0.5 * (_LOG_2PI + 1.0) * log_std.shape[-1]

    def kl(self, old_dist_info, new_dist_info) -> torch.Tensor:
        """``KL(old || new)`` of two diagonal Gaussians, summed over the last dim."""
        old_mean, new_mean = old_dist_info.mean, new_dist_info.mean
        old_log_std = self._log_std(old_dist_info)
        new_log_std = self._log_std(new_dist_info)
        num = (old_mean - new_mean).square() + torch.exp(2.0 * old_log_std)
        den = 2.0 * torch.exp(2.0 * new_log_std)
        return torch.sum(num / den + new_log_std - old_log_std - 0.5, dim=-1)
