"""`Categorical`: a distribution over ``dim`` discrete actions, parameterised by probabilities."""

from __future__ import annotations

import torch

from rlpyt.distributions.base import Distribution
from rlpyt.distributions.discrete import DiscreteMixin
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.tensor import select_at_indexes

EPS = 1e-8  # keeps log() finite where a probability is exactly 0

DistInfo = namedarraytuple("DistInfo", ["prob"])
"""``DistInfo(prob)``: ``prob [..., dim]`` category probabilities summing to 1."""


class Categorical(DiscreteMixin, Distribution):
    """Categorical distribution over ``dim`` actions given by ``DistInfo(prob=[..., dim])``.

    Categorical policy-gradient agents sample actions from it; A2C/PPO use its log-likelihoods,
    likelihood ratios, entropies and KLs. Logs are taken of ``prob + EPS`` so that a zero
    probability gives a large negative number rather than ``-inf`` (and finite gradients).

    Args:
        dim: number of categories.
        dtype: dtype of sampled indexes.
        onehot_dtype: dtype of one-hot codes.
    """

    def sample(self, dist_info: DistInfo) -> torch.Tensor:
        """Draw one index per leading index of ``prob``; returns leading-dims shape, ``dtype``.

        Exponential race: with ``E_i ~ Exp(1)`` independent, ``argmax_i prob_i / E_i`` is
        category ``i`` with probability ``prob_i / sum(prob)`` (the Gumbel-max trick without the
        logarithms). Five small vectorised ops, several times cheaper than ``torch.multinomial``
        or inverse-CDF sampling at sampler batch sizes. ``prob`` need not be exactly normalised,
        and zero-probability categories are never drawn: ``E`` is kept above 0, so ``0 / E``
        is 0, never NaN (which ``argmax`` would pick).
        """
        prob = dist_info.prob
        race = torch.empty_like(prob).exponential_().clamp_min_(torch.finfo(prob.dtype).tiny)
        index = torch.argmax(prob / race, dim=-1)
        return index if index.dtype == self.dtype else index.to(self.dtype)

    def log_likelihood(self, indexes: torch.Tensor, dist_info: DistInfo) -> torch.Tensor:
        """``log p(indexes)``; ``indexes`` has ``prob``'s leading dims."""
        selected = select_at_indexes(indexes, dist_info.prob)
        return torch.log(selected + EPS)

    def likelihood_ratio(
        self, indexes: torch.Tensor, old_dist_info: DistInfo, new_dist_info: DistInfo
    ) -> torch.Tensor:
        """``p_new(indexes) / p_old(indexes)`` (both offset by ``EPS``)."""
        num = select_at_indexes(indexes, new_dist_info.prob)
        den = select_at_indexes(indexes, old_dist_info.prob)
        return (num + EPS) / (den + EPS)

    def entropy(self, dist_info: DistInfo) -> torch.Tensor:
        """``-sum(p log p)`` over the last dim."""
        prob = dist_info.prob
        return -torch.sum(prob * torch.log(prob + EPS), dim=-1)

    def kl(self, old_dist_info: DistInfo, new_dist_info: DistInfo) -> torch.Tensor:
        """``sum(p_old * (log p_old - log p_new))`` over the last dim."""
        p = old_dist_info.prob
        q = new_dist_info.prob
        return torch.sum(p * (torch.log(p + EPS) - torch.log(q + EPS)), dim=-1)
