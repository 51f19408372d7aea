"""MLP, parallel MLP, conv models and model utilities."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from rlpyt.models.conv2d import Conv2dHeadModel, Conv2dModel
from rlpyt.models.mlp import MlpModel, ParallelMlpModel
from rlpyt.models.utils import (
    conv2d_output_shape,
    scale_grad,
    strip_ddp_state_dict,
    update_state_dict,
)


@pytest.mark.parametrize(
    "hidden, output, expected", [([8, 6], 3, 3), ([8, 6], None, 6), (5, None, 5), (None, None, 4)]
)
def test_mlp_sizes(hidden, output, expected):
    mlp = MlpModel(4, hidden, output)
    assert mlp.output_size == expected
    assert mlp(torch.zeros(2, 7, 4)).shape == (2, 7, expected)


def test_mlp_fast_path_matches_modules_and_keeps_hooks():
    torch.manual_seed(0)
    mlp = MlpModel(4, [8, 8], 2, torch.nn.Tanh)
    x = torch.randn(5, 4)
    assert_close(mlp(x), mlp.model(x))
    calls = []
    mlp.model[0].register_forward_hook(lambda *args: calls.append(1))
    mlp(x)
    assert calls == [1]


def test_parallel_mlp_equals_separate_networks():
    torch.manual_seed(0)
    par = ParallelMlpModel(4, [8, 6], [3, 1], torch.nn.Tanh)
    x = torch.randn(5, 4, requires_grad=True)
    outs = par(x)
    for j, size in enumerate([3, 1]):
        h = x
        for i, (w, b) in enumerate(zip(par.weights, par.biases)):
            h = F.linear(h, w[j].T, b[j, 0])
            if i < 2:
                h = torch.tanh(h)
        assert_close(outs[j], h[:, :size])
    (outs[0].sum() + outs[1].sum()).backward()
    # The value network's unused output units get no gradient.
    assert (par.weights[-1].grad[1, :, 1:] == 0).all()
    assert sorted(n for n, _ in par.named_parameters()) == [
        "bias0",
        "bias1",
        "bias2",
        "weight0",
        "weight1",
        "weight2",
    ]


@pytest.mark.parametrize("use_maxpool", [False, True])
def test_conv_out_size_matches_forward(use_maxpool):
    conv = Conv2dModel(3, [4, 5], [5, 3], [2, 2], paddings=[1, 0], use_maxpool=use_maxpool)
    out = conv(torch.zeros(2, 3, 37, 29))
    assert out[0].numel() == conv.conv_out_size(37, 29)
    with pytest.raises(ValueError):
        Conv2dModel(3, [4], [5], [2], head_sizes=[16])
    with pytest.raises(ValueError):
        Conv2dModel(3, [4, 5], [5], [2])


def test_conv_head_model():
    model = Conv2dHeadModel((2, 20, 20), [4], [4], [2], hidden_sizes=[16], output_size=3)
    assert model.output_size == 3
    assert model(torch.zeros(6, 2, 20, 20)).shape == (6, 3)
    assert Conv2dHeadModel((2, 20, 20), [4], [4], [2], hidden_sizes=None).output_size == 324


def test_conv2d_output_shape():
    layer = torch.nn.Conv2d(1, 1, kernel_size=(5, 3), stride=(2, 1), padding=(1, 2), dilation=2)
    out = layer(torch.zeros(1, 1, 40, 31))
    shape = conv2d_output_shape(40, 31, (5, 3), (2, 1), (1, 2), 2)
    assert shape == tuple(out.shape[-2:])
    assert conv2d_output_shape(84, 84, 8, 4) == (20, 20)


def test_scale_grad():
    x = torch.ones(3, requires_grad=True)
    y = scale_grad(x, 0.25)
    assert_close(y, x.detach())
    (2 * y).sum().backward()
    assert_close(x.grad, torch.full((3,), 0.5))


def test_update_state_dict_copy_and_polyak():
    torch.manual_seed(0)
    src, dst = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    ddp_keys = {"module." + k: v for k, v in src.state_dict().items()}
    update_state_dict(dst, ddp_keys, tau=0.25)
    for k, v in dst.state_dict().items():
        assert_close(v, 0.25 * src.state_dict()[k] + 0.75 * before[k])
    update_state_dict(dst, src.state_dict(), tau=1)
    for k, v in dst.state_dict().items():
        assert torch.equal(v, src.state_dict()[k])
    assert list(strip_ddp_state_dict({"module.a.module.b": 1, "b": 2})) == ["a.module.b", "b"]


@pytest.mark.parametrize(
    "nonlinearity", [torch.nn.Tanh, torch.nn.ReLU, torch.nn.Sigmoid, torch.nn.ELU]
)
def test_parallel_mlp_in_place_activations_match_out_of_place(nonlinearity):
    # The known activations run in place on each baddbmm output; values and gradients must be
    # those of the plain out-of-place computation.
    torch.manual_seed(0)
    par = ParallelMlpModel(4, [8, 6], [3, 1], nonlinearity)
    x = torch.randn(5, 4)
    stacked = par.forward_stacked(x)
    h = x.expand(2, 5, 4)
    for i, (w, b) in enumerate(zip(par.weights, par.biases)):
        h = torch.baddbmm(b, h, w)
        if i < 2:
            h = nonlinearity()(h)
    assert torch.equal(stacked, h)
    grads = torch.autograd.grad(stacked.sum(), list(par.parameters()))
    expected = torch.autograd.grad(h.sum(), list(par.parameters()))
    for got, want in zip(grads, expected):
        assert torch.equal(got, want)
    outs = par(x)
    assert torch.equal(outs[0], stacked[0]) and torch.equal(outs[1], stacked[1, :, :1])
