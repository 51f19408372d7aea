"""The `Distribution` interface and the `dist_info` convention shared by agents and algorithms."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.utils.tensor import valid_mean

# The convention: a distribution object holds only fixed settings (its dimension, clipping,
# squashing); the parameters that change per step travel separately as a ``dist_info``
# namedarraytuple of tensors (e.g. ``DistInfo(prob)`` or ``DistInfoStd(mean, log_std)``) with
# any leading dims. Agents produce ``dist_info`` in ``step`` (stored in ``agent_info`` for the
# algorithm) and in ``__call__`` (the training forward); algorithms then ask the distribution
# for log-likelihoods, ratios, entropies and KLs of old against new ``dist_info``.


class Distribution:
    """Interface of an action distribution parameterised by a ``dist_info`` namedarraytuple.

    Agents call :meth:`sample` when acting; policy-gradient algorithms call
    :meth:`log_likelihood`, :meth:`likelihood_ratio`, :meth:`mean_entropy` and :meth:`mean_kl`
    on ``dist_info`` leaves shaped ``[T, B, ...]`` (any leading dims work). Every per-sample
    method reduces over the event dims and keeps the leading dims; the ``mean_*`` methods average
    over the leading dims, counting only entries where ``valid`` is true (or weighting by it).
    """

    @property
    def dim(self) -> int:
        """Size of the event dim (number of categories, or action dimension)."""
        raise NotImplementedError

    def sample(self, dist_info: Any) -> torch.Tensor:
        """Draw one sample per leading index.

        Returns:
            Tensor with ``dist_info``'s leading dims (plus the event dim for vector actions).
        """
        raise NotImplementedError

    def log_likelihood(self, x: torch.Tensor, dist_info: Any) -> torch.Tensor:
        """Log-probability (or log-density) of ``x`` under ``dist_info``; shape: leading dims."""
        raise NotImplementedError

    def likelihood_ratio(self, x: torch.Tensor, old_dist_info: Any, new_dist_info: Any):
        """``p_new(x) / p_old(x)``, the importance ratio of PPO's clipped objective."""
        raise NotImplementedError

    def entropy(self, dist_info: Any) -> torch.Tensor:
        """Entropy (in nats) per leading index."""
        raise NotImplementedError

    def kl(self, old_dist_info: Any, new_dist_info: Any) -> torch.Tensor:
        """``KL(old || new)`` per leading index."""
        raise NotImplementedError

    def perplexity(self, dist_info: Any) -> torch.Tensor:
        """``exp(entropy)``: the effective number of equally likely outcomes."""
        return torch.exp(self.entropy(dist_info))

    def mean_kl(
        self, old_dist_info: Any, new_dist_info: Any, valid: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Scalar mean of :meth:`kl` over valid entries (``valid_mean``)."""
        return valid_mean(self.kl(old_dist_info, new_dist_info), valid)

    def mean_entropy(self, dist_info: Any, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Scalar mean of :meth:`entropy` over valid entries."""
        return valid_mean(self.entropy(dist_info), valid)

    def mean_perplexity(self, dist_info: Any, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Scalar mean of :meth:`perplexity` over valid entries."""
        return valid_mean(self.perplexity(dist_info), valid)
