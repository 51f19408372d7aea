"""EpsilonGreedy, CategoricalEpsilonGreedy: greedy choice, random frequencies, per-env epsilon."""

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.distributions.epsilon_greedy import CategoricalEpsilonGreedy, EpsilonGreedy
from rlpyt.utils.seed import set_seed

# Q-values on the CPU without grad take the NumPy path; with grad (never the case when acting)
# they take the vectorised torch path every other device uses: both are tested on the CPU.
PATHS = ["numpy", "torch"]


def _on(path, q):
    return q.requires_grad_() if path == "torch" else q


def _q(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("lead", [(), (5,), (4, 3)])
def test_greedy_with_zero_epsilon(lead):
    dist = EpsilonGreedy(dim=6, epsilon=0.0)
    q = _q(*lead, 6)
    action = dist.sample(q)
    assert action.shape == lead and action.dtype == torch.long
    assert torch.equal(action, q.argmax(-1))


@pytest.mark.parametrize("path", PATHS)
def test_default_epsilon_is_one_and_all_random(path):
    dist = EpsilonGreedy(dim=4)
    assert dist.epsilon == 1.0
    set_seed(0)
    q = torch.zeros(40_000, 4)
    q[:, 0] = 1.0  # action 0 greedy everywhere
    counts = torch.bincount(dist.sample(_on(path, q)), minlength=4).float() / len(q)
    assert_close(counts, torch.full((4,), 0.25), atol=0.01, rtol=0)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("eps", [0.1, 0.5])
def test_random_action_frequency(eps, path):
    set_seed(1)
    dim, n = 5, 100_000
    dist = EpsilonGreedy(dim=dim, epsilon=eps)
    q = torch.zeros(n, dim)
    q[:, 2] = 1.0
    action = dist.sample(_on(path, q))
    assert action.dtype == torch.long and not action.requires_grad
    # A random draw may pick the greedy action too.
    non_greedy = (action != 2).float().mean().item()
    assert non_greedy == pytest.approx(eps * (dim - 1) / dim, abs=0.006)
    others = torch.bincount(action[action != 2], minlength=dim).float()
    others = others[[0, 1, 3, 4]] / others.sum()
    assert_close(others, torch.full((4,), 0.25), atol=0.02, rtol=0)


@pytest.mark.parametrize("path", PATHS)
def test_per_env_epsilon_vector_broadcasts_over_time(path):
    set_seed(2)
    eps = torch.tensor([0.0, 0.3, 1.0])
    dist = EpsilonGreedy(dim=2, epsilon=eps)
    assert dist.epsilon is eps
    q = torch.zeros(20_000, 3, 2)  # [T, B, A]
    q[..., 1] = 1.0
    action = dist.sample(_on(path, q))
    assert action.shape == (20_000, 3)
    non_greedy = (action == 0).float().mean(0)  # one of the 2 actions: eps / 2
    assert non_greedy[0].item() == 0.0
    assert non_greedy[1].item() == pytest.approx(0.15, abs=0.01)
    assert non_greedy[2].item() == pytest.approx(0.5, abs=0.015)
    assert dist.sample(q[0]).shape == (3,)  # [B, A] with the same vector


def test_set_epsilon_scalar_tensor_and_vector():
    dist = EpsilonGreedy(dim=3, epsilon=0.5)
    dist.set_epsilon(torch.tensor(0.0))
    assert dist.epsilon == 0.0 and isinstance(dist.epsilon, float)
    q = _q(7, 3)
    assert torch.equal(dist.sample(q), q.argmax(-1))
    dist.set_epsilon(torch.zeros(7))
    assert torch.equal(dist.sample(q), q.argmax(-1))
    dist.set_epsilon(torch.ones(7))
    set_seed(3)
    many = torch.stack([dist.sample(q) for _ in range(200)])
    assert not (many == q.argmax(-1)).all()


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_numpy_path_matches_torch_argmax_and_seed(lead):
    dist = EpsilonGreedy(dim=4, epsilon=0.0)
    q = _q(*lead, 4, seed=5)
    action = dist.sample_numpy(q.numpy())
    assert action.shape == lead and action.dtype == np.int64
    assert np.array_equal(action, q.argmax(-1).numpy())
    dist.set_epsilon(0.5)  # the same seed gives the same actions
    q = _q(1000, 4, seed=6)
    set_seed(7)
    first = dist.sample(q)
    set_seed(7)
    assert torch.equal(dist.sample(q), first)
    assert not torch.equal(first, q.argmax(-1))


def test_sampled_dtype_and_onehot():
    dist = EpsilonGreedy(dim=3, epsilon=0.0, dtype=torch.int32)
    assert dist.sample(_q(4, 3)).dtype == torch.int32
    assert dist.to_onehot(torch.tensor([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_categorical_greedy_on_expected_value_not_mode():
    z = torch.tensor([-10.0, 0.0, 10.0])
    # Action 0: most mass on 0 (mode 0, mean 0); action 1: split on -10 and +10 with more
    # on +10 (smaller mode probability, larger mean 2).
    p = torch.tensor([[[0.0, 1.0, 0.0], [0.4, 0.0, 0.6]]])
    dist = CategoricalEpsilonGreedy(dim=2, z=z, epsilon=0.0)
    assert_close(dist.expected_value(p), torch.tensor([[0.0, 2.0]]))
    assert dist.sample(p).tolist() == [1]
    dist.set_z(torch.tensor([10.0, 0.0, -10.0]))  # flipped support: action 1 now worse
    assert dist.sample(p).tolist() == [0]
    assert_close(dist.z, torch.tensor([10.0, 0.0, -10.0]))


@pytest.mark.parametrize("lead", [(), (5,), (4, 3)])
def test_categorical_shapes_and_randomness(lead):
    z = torch.linspace(-1, 1, 7)
    p = torch.softmax(_q(*lead, 4, 7), dim=-1)
    dist = CategoricalEpsilonGreedy(dim=4, z=z, epsilon=0.0)
    action = dist.sample(p)
    assert action.shape == lead
    assert torch.equal(action, (p * z).sum(-1).argmax(-1))
    dist.set_epsilon(1.0)
    set_seed(4)
    p = torch.softmax(_q(30_000, 4, 7), dim=-1)
    counts = torch.bincount(dist.sample(p), minlength=4).float() / 30_000
    assert_close(counts, torch.full((4,), 0.25), atol=0.015, rtol=0)
