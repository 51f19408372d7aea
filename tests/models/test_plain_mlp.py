"""Plain-MLP fast paths: NumPy inference and explicit gradients equal the module and autograd."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from rlpyt.models import plain_mlp
from rlpyt.models.dqn.mlp_q_model import MlpDqnModel
from rlpyt.models.mlp import MlpModel

ACTIVATIONS = [torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid]


def _mlp(nonlinearity=torch.nn.ReLU, hidden=(16, 8), output_size=3, seed=0):
    torch.manual_seed(seed)
    return MlpModel(5, list(hidden), output_size, nonlinearity)


def _x(*lead, seed=1):
    return torch.randn(*lead, 5, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("nonlinearity", ACTIVATIONS)
@pytest.mark.parametrize("hidden, output_size", [((16, 8), 3), ((), 3), ((16,), None)])
@pytest.mark.parametrize("n", [1, 7])
def test_host_forward_equals_module(nonlinearity, hidden, output_size, n):
    mlp = _mlp(nonlinearity, hidden, output_size)
    x = _x(n)
    out = plain_mlp.host_forward(mlp, x.numpy())
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    with torch.no_grad():
        assert_close(torch.from_numpy(out), mlp(x), atol=1e-5, rtol=1e-5)


def test_host_forward_sees_parameter_updates_and_replacements():
    mlp = _mlp()
    x = _x(2)
    plain_mlp.host_forward(mlp, x.numpy())
    with torch.no_grad():
        for p in mlp.parameters():
            p.mul_(-0.5)  # in place, as optimizer steps and load_state_dict do
        assert_close(torch.from_numpy(plain_mlp.host_forward(mlp, x.numpy())), mlp(x))
        mlp.model[2].weight = torch.nn.Parameter(torch.ones(8, 16))  # a new tensor
        assert_close(torch.from_numpy(plain_mlp.host_forward(mlp, x.numpy())), mlp(x))
        mlp.model[4].bias = torch.nn.Parameter(torch.full((3,), 5.0))
        assert_close(torch.from_numpy(plain_mlp.host_forward(mlp, x.numpy())), mlp(x))
        mlp.model[0] = torch.nn.Linear(5, 16)  # a new layer
        assert_close(torch.from_numpy(plain_mlp.host_forward(mlp, x.numpy())), mlp(x))


def test_models_pickle_and_copy_without_host_caches():
    mlp = _mlp()
    x = _x(3)
    plain_mlp.host_forward(mlp, x.numpy())  # fills the caches
    assert not any("cache" in key for key in vars(mlp))
    for twin in (pickle.loads(pickle.dumps(mlp)), copy.deepcopy(mlp)):
        with torch.no_grad():
            for p in twin.parameters():
                p.mul_(2.0)
            assert_close(torch.from_numpy(plain_mlp.host_forward(twin, x.numpy())), twin(x))
            assert_close(torch.from_numpy(plain_mlp.host_forward(mlp, x.numpy())), mlp(x))


def test_fast_paths_decline_what_they_cannot_serve():
    x = _x(2).numpy()
    mlp = _mlp()
    handle = mlp.model[1].register_forward_hook(lambda *args: None)
    assert plain_mlp.host_forward(mlp, x) is None
    handle.remove()
    handle = torch.nn.modules.module.register_module_forward_hook(lambda *args: None)
    try:
        assert plain_mlp.host_forward(mlp, x) is None
    finally:
        handle.remove()
    assert plain_mlp.host_forward(mlp, x) is not None
    big = np.zeros((plain_mlp.HOST_MAX_FLOPS // (16 * 8) + 1, 5), np.float32)
    assert plain_mlp.host_forward(mlp, big) is None  # large batches: the torch path
    assert plain_mlp.host_forward(_mlp(torch.nn.ELU), x) is None  # unknown activation
    assert plain_mlp.host_forward(mlp.double(), x.astype(np.float64)) is None


@pytest.mark.parametrize("nonlinearity", ACTIVATIONS)
@pytest.mark.parametrize("hidden, output_size", [((16, 8), 3), ((), 3), ((16,), None)])
def test_host_gradients_equal_autograd(nonlinearity, hidden, output_size):
    mlp = _mlp(nonlinearity, hidden, output_size)
    x = _x(6)
    out = mlp(x)
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
    expected = torch.autograd.grad(out, list(mlp.parameters()), grad_out)
    grad_np = grad_out.numpy().copy()
    saved: list = []
    out_host = plain_mlp.host_forward(mlp, x.numpy(), saved)
    grads = dict(plain_mlp.host_backward(saved, grad_np))
    assert_close(torch.from_numpy(out_host), out.detach(), atol=1e-5, rtol=1e-5)
    assert np.array_equal(grad_np, grad_out.numpy())  # the caller's gradient is not changed
    assert set(grads) == set(mlp.parameters())
    for param, want in zip(mlp.parameters(), expected):
        got = grads[param]
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        assert_close(torch.from_numpy(got), want, atol=1e-5, rtol=1e-5)


def test_host_backward_skips_frozen_parameters():
    mlp = _mlp()
    mlp.model[0].weight.requires_grad_(False)
    saved: list = []
    out = plain_mlp.host_forward(mlp, _x(4).numpy(), saved)
    grads = dict(plain_mlp.host_backward(saved, np.ones_like(out)))
    assert mlp.model[0].weight not in grads and mlp.model[0].bias in grads


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(dueling=True),
        dict(noisy=True),
        dict(n_atoms=5),
        dict(hidden_sizes=[8], fast_paths=False),
        dict(hidden_sizes=[8]),
    ],
)
def test_dqn_model_fast_paths(kwargs):
    torch.manual_seed(0)
    model = MlpDqnModel((2, 3), action_size=4, **kwargs)
    obs = torch.randn(5, 2, 3)
    plain = kwargs == dict(hidden_sizes=[8])
    host = model.host_forward(obs.numpy())
    if not plain:
        assert host is None
        return
    with torch.no_grad():
        want = model(obs, None, None)
    assert_close(torch.from_numpy(host), want, atol=1e-5, rtol=1e-5)
    assert_close(torch.from_numpy(model.host_forward(obs[0].numpy())), want[0])
    assert model.host_forward(obs.numpy().astype(np.float64)).dtype == np.float32
    # [T, B] leading dims, and gradients through the model's own host_backward
    obs_tb = obs.reshape(1, 5, 2, 3)
    saved: list = []
    q = model.host_forward(obs_tb.numpy(), saved)
    assert q.shape == (1, 5, 4)
    grads = dict(model.host_backward(saved, np.ones_like(q)))
    expected = torch.autograd.grad(model(obs_tb, None, None).sum(), list(model.parameters()))
    for param, want in zip(model.parameters(), expected):
        assert_close(torch.from_numpy(grads[param]), want, atol=1e-5, rtol=1e-5)
