"""Gaussian distribution: formulas against torch.distributions, squashing, clipping, std."""

import math

import pytest
import torch
from torch.distributions import (
    AffineTransform,
    Independent,
    Normal,
    TanhTransform,
    TransformedDistribution,
    kl_divergence,
)
from torch.testing import assert_close

from rlpyt.distributions.gaussian import DistInfo, DistInfoStd, Gaussian


def _info(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(*shape, generator=g, dtype=torch.float64)
    log_std = 0.3 * torch.randn(*shape, generator=g, dtype=torch.float64) - 0.5
    return DistInfoStd(mean=mean, log_std=log_std)


def _ref(info):
    return Independent(Normal(info.mean, info.log_std.exp()), 1)


def test_formulas_match_torch():
    dist = Gaussian(dim=3)
    old, new = _info(4, 2, 3, seed=0), _info(4, 2, 3, seed=1)
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    assert_close(dist.log_likelihood(x, old), _ref(old).log_prob(x))
    assert_close(dist.entropy(old), _ref(old).entropy())
    assert_close(dist.perplexity(old), _ref(old).entropy().exp())
    assert_close(dist.kl(old, new), kl_divergence(_ref(old), _ref(new)))
    ratio = dist.likelihood_ratio(x, old, new)
    assert_close(ratio, (_ref(new).log_prob(x) - _ref(old).log_prob(x)).exp())
    valid = torch.rand(4, 2) > 0.5
    valid[0, 0] = True
    assert_close(dist.mean_kl(old, new, valid), dist.kl(old, new)[valid].mean())
    assert_close(dist.mean_entropy(old, valid), dist.entropy(old)[valid].mean())


def test_fixed_std_and_std_clamps():
    mean = torch.randn(5, 2, dtype=torch.float64)
    x = torch.randn(5, 2, dtype=torch.float64)
    dist = Gaussian(dim=2, std=0.3)
    ref = Independent(Normal(mean, torch.full_like(mean, 0.3)), 1)
    assert_close(dist.log_likelihood(x, DistInfo(mean)), ref.log_prob(x))
    assert_close(dist.entropy(DistInfo(mean)), ref.entropy())
    dist.set_std(None)
    info = DistInfoStd(mean, torch.full_like(mean, math.log(0.3)))
    assert_close(dist.log_likelihood(x, info), ref.log_prob(x))
    clamped = Gaussian(dim=2, min_std=0.1, max_std=0.5)
    log_std = torch.tensor([[-5.0, 3.0]], dtype=torch.float64).expand(5, 2)
    ref = Independent(Normal(mean, torch.tensor([0.1, 0.5], dtype=torch.float64)), 1)
    assert_close(clamped.log_likelihood(x, DistInfoStd(mean, log_std)), ref.log_prob(x))


@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_squash_log_likelihood_matches_transformed_distribution(scale):
    dist = Gaussian(dim=3, squash=scale)
    info = _info(6, 3, seed=2)
    ref = Independent(
        TransformedDistribution(
            Normal(info.mean, info.log_std.exp()),
            [TanhTransform(), AffineTransform(0.0, scale)],
        ),
        1,
    )
    x = scale * torch.tanh(torch.randn(6, 3, dtype=torch.float64))
    assert_close(dist.log_likelihood(x, info), ref.log_prob(x))
    torch.manual_seed(0)
    sample, logli = dist.sample_loglikelihood(info)
    assert (sample.abs() < scale).all()
    assert_close(logli, ref.log_prob(sample), rtol=1e-6, atol=1e-6)
    assert_close(logli, dist.log_likelihood(sample, info), rtol=1e-6, atol=1e-6)


def test_squash_is_stable_far_in_the_tails():
    dist = Gaussian(dim=2, squash=1.0)
    mean = torch.tensor([[40.0, -40.0]], requires_grad=True)
    log_std = torch.zeros(1, 2, requires_grad=True)
    x, logli = dist.sample_loglikelihood(DistInfoStd(mean, log_std))
    assert torch.isfinite(logli).all()
    logli.sum().backward()
    assert torch.isfinite(mean.grad).all() and torch.isfinite(log_std.grad).all()


def test_sample_loglikelihood_is_reparameterised():
    dist = Gaussian(dim=2)
    mean = torch.zeros(3, 2, requires_grad=True)
    log_std = torch.zeros(3, 2, requires_grad=True)
    x, logli = dist.sample_loglikelihood(DistInfoStd(mean, log_std))
    assert_close(logli, dist.log_likelihood(x.detach(), DistInfoStd(mean, log_std)).detach())
    x.sum().backward()
    assert_close(mean.grad, torch.ones(3, 2))
    assert log_std.grad.abs().sum() > 0
    assert dist.sample(DistInfoStd(mean, log_std)).requires_grad


def test_clip_and_noise_clip():
    torch.manual_seed(0)
    mean = torch.zeros(1000, 2)
    info = DistInfoStd(mean, torch.full_like(mean, math.log(3.0)))
    x = Gaussian(dim=2, clip=1.0).sample(info)
    assert x.abs().max() <= 1.0 and (x.abs() == 1.0).any()
    x = Gaussian(dim=2, noise_clip=0.5).sample(info)
    assert x.abs().max() <= 0.5
    dist = Gaussian(dim=2, std=0.1)
    dist.set_noise_clip(0.05)
    assert (dist.sample(DistInfo(mean + 2)) - 2).abs().max() <= 0.05 + 1e-6
    x = Gaussian(dim=2, squash=2.0, clip=1.5).sample(info)
    assert x.abs().max() <= 1.5


def test_sample_statistics():
    torch.manual_seed(1)
    info = DistInfoStd(torch.full((20000, 2), 1.5), torch.full((20000, 2), math.log(0.5)))
    x = Gaussian(dim=2).sample(info)
    assert_close(x.mean(0), torch.full((2,), 1.5), atol=0.02, rtol=0)
    assert_close(x.std(0), torch.full((2,), 0.5), atol=0.02, rtol=0)
