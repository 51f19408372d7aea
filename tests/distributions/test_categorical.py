"""Categorical distribution: formulas against torch.distributions, sampling, masks."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Categorical as TorchCategorical
from torch.distributions import kl_divergence
from torch.testing import assert_close

from rlpyt.distributions.categorical import Categorical, DistInfo

# Logs are of prob + 1e-8, so results differ from exact ones by ~1e-8 / prob.
TOL = dict(rtol=1e-5, atol=1e-6)


def _probs(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1)


def test_formulas_match_torch():
    dist = Categorical(dim=5)
    p, q = _probs(4, 3, 5, seed=0), _probs(4, 3, 5, seed=1)
    x = torch.randint(0, 5, (4, 3))
    ref_p, ref_q = TorchCategorical(probs=p), TorchCategorical(probs=q)
    assert_close(dist.log_likelihood(x, DistInfo(p)), ref_p.log_prob(x), **TOL)
    assert_close(dist.entropy(DistInfo(p)), ref_p.entropy(), **TOL)
    assert_close(dist.perplexity(DistInfo(p)), ref_p.entropy().exp(), **TOL)
    assert_close(dist.kl(DistInfo(p), DistInfo(q)), kl_divergence(ref_p, ref_q), **TOL)
    ratio = dist.likelihood_ratio(x, DistInfo(p), DistInfo(q))
    assert_close(ratio, (ref_q.log_prob(x) - ref_p.log_prob(x)).exp(), **TOL)


def test_means_with_valid_mask():
    dist = Categorical(dim=3)
    p, q = _probs(4, 2, 3, seed=2), _probs(4, 2, 3, seed=3)
    valid = torch.tensor([[1, 1], [1, 0], [0, 0], [1, 0]], dtype=torch.bool)
    kl = dist.kl(DistInfo(p), DistInfo(q))
    assert_close(dist.mean_kl(DistInfo(p), DistInfo(q), valid), kl[valid].mean())
    assert_close(dist.mean_kl(DistInfo(p), DistInfo(q)), kl.mean())
    ent = dist.entropy(DistInfo(p))
    assert_close(dist.mean_entropy(DistInfo(p), valid), ent[valid].mean())
    assert_close(dist.mean_perplexity(DistInfo(p), valid), ent.exp()[valid].mean())


def test_zero_probabilities_are_safe():
    dist = Categorical(dim=3)
    logits = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
    p = torch.softmax(logits, -1) * torch.tensor([1.0, 0.0, 1.0])
    info = DistInfo(p)
    values = [
        dist.log_likelihood(torch.tensor(1), info),
        dist.entropy(info),
        dist.kl(info, DistInfo(torch.tensor([1.0, 0.0, 0.0]))),
    ]
    for v in values:
        assert torch.isfinite(v)
    sum(values).backward()
    assert torch.isfinite(logits.grad).all()


def test_sample_frequencies_and_dtypes():
    torch.manual_seed(0)
    dist = Categorical(dim=4, dtype=torch.int32)
    p = torch.tensor([0.1, 0.0, 0.6, 0.3]).expand(50, 1000, 4)
    x = dist.sample(DistInfo(p))
    assert x.shape == (50, 1000) and x.dtype == torch.int32
    freq = torch.bincount(x.flatten().long(), minlength=4).double() / x.numel()
    assert freq[1] == 0
    assert_close(freq, p[0, 0].double(), atol=5e-3, rtol=0)
    assert Categorical(dim=2).sample(DistInfo(torch.tensor([0.0, 1.0]))).shape == ()


def test_onehot_round_trip():
    dist = Categorical(dim=4)
    x = torch.tensor([[0, 3], [2, 1]])
    onehot = dist.to_onehot(x)
    assert onehot.shape == (2, 2, 4) and onehot.dtype == torch.float32
    assert torch.equal(dist.from_onehot(onehot), x)
    assert dist.dim == 4


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(st.integers(1, 3), min_size=0, max_size=2),
    st.integers(0, 2**31 - 1),
)
def test_kl_properties(dim, lead, seed):
    dist = Categorical(dim=dim)
    p, q = _probs(*lead, dim, seed=seed), _probs(*lead, dim, seed=seed + 1)
    assert (dist.kl(DistInfo(p), DistInfo(q)) >= -1e-12).all()
    assert_close(dist.kl(DistInfo(p), DistInfo(p)), torch.zeros(lead, dtype=p.dtype), **TOL)
    assert dist.entropy(DistInfo(p)).shape == tuple(lead)
