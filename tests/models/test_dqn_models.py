"""DQN-family models: shapes over leading dims, dueling and distributional heads, noisy layers."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from rlpyt.agents.base import model_ignores_prev_inputs
from rlpyt.models.dqn.atari_catdqn_model import AtariCatDqnModel
from rlpyt.models.dqn.atari_dqn_model import AtariDqnModel
from rlpyt.models.dqn.atari_r2d1_model import AtariR2d1Model
from rlpyt.models.dqn.dueling import DistributionalDuelingHeadModel, DuelingHeadModel
from rlpyt.models.dqn.heads import DistributionalHeadModel, make_q_head
from rlpyt.models.dqn.mlp_q_model import MlpDqnModel, MlpR2d1Model
from rlpyt.models.dqn.noisy import (
    NoisyLinear,
    NoisyMlpModel,
    noisy_layers,
    resample_noise,
    set_noise,
)
from rlpyt.models.mlp import MlpModel
from rlpyt.models.utils import RnnState

A, N_ATOMS = 3, 5
IMAGE = (2, 32, 32)
SMALL_CONV = dict(channels=[4, 4, 4], fc_sizes=16)
SMALL_R2D1 = dict(channels=[4, 4, 4], fc_size=8, lstm_size=6, head_size=8)
LEADS = [(), (4,), (3, 2)]


def _images(lead, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, lead + IMAGE, generator=g, dtype=torch.uint8)


def _vectors(lead, size=5, seed=0):
    return torch.randn(lead + (size,), generator=torch.Generator().manual_seed(seed))


def _prev(lead):
    return torch.zeros(lead + (A,)), torch.zeros(lead)


FF_MODELS = {
    "atari": lambda **kw: AtariDqnModel(IMAGE, A, **SMALL_CONV, **kw),
    "atari_cat": lambda **kw: AtariCatDqnModel(IMAGE, A, n_atoms=N_ATOMS, **SMALL_CONV, **kw),
    "mlp": lambda **kw: MlpDqnModel((5,), A, hidden_sizes=[8], **kw),
    "mlp_cat": lambda **kw: MlpDqnModel((5,), A, hidden_sizes=[8], n_atoms=N_ATOMS, **kw),
}


@pytest.mark.parametrize("lead", LEADS)
@pytest.mark.parametrize("variant", [{}, {"dueling": True}, {"noisy": True}])
@pytest.mark.parametrize("name", list(FF_MODELS))
def test_feed_forward_shapes(name, variant, lead):
    torch.manual_seed(0)
    model = FF_MODELS[name](**variant)
    obs = _images(lead) if name.startswith("atari") else _vectors(lead)
    out = model(obs, *_prev(lead))
    if name.endswith("cat"):
        assert out.shape == lead + (A, N_ATOMS)
        assert_close(out.sum(-1), torch.ones(lead + (A,)))
        assert (out >= 0).all()
    else:
        assert out.shape == lead + (A,)
    assert model_ignores_prev_inputs(model)
    assert bool(noisy_layers(model)) == bool(variant.get("noisy"))


@pytest.mark.parametrize("lead", LEADS)
@pytest.mark.parametrize("variant", [{}, {"dueling": True}, {"noisy": True}])
@pytest.mark.parametrize("name", ["atari", "mlp"])
def test_recurrent_shapes(name, variant, lead):
    torch.manual_seed(0)
    if name == "atari":
        model, obs, H = AtariR2d1Model(IMAGE, A, **SMALL_R2D1, **variant), _images(lead), 6
    else:
        model = MlpR2d1Model((5,), A, hidden_sizes=[8], lstm_size=7, head_size=8, **variant)
        obs, H = _vectors(lead), 7
    q, state = model(obs, *_prev(lead), None)
    assert q.shape == lead + (A,)
    B = lead[-1] if lead else 1
    assert isinstance(state, RnnState)
    assert state.h.shape == state.c.shape == (1, B, H)
    assert not model_ignores_prev_inputs(model)  # reads one-hot prev_action


@pytest.mark.parametrize("name", ["atari", "mlp"])
def test_recurrent_sequence_equals_steps(name):
    torch.manual_seed(1)
    T, B = 4, 2
    if name == "atari":
        model, obs = AtariR2d1Model(IMAGE, A, **SMALL_R2D1), _images((T, B))
    else:
        model, obs = MlpR2d1Model((5,), A, hidden_sizes=[8], lstm_size=7), _vectors((T, B))
    prev_action = F.one_hot(torch.randint(0, A, (T, B)), A).float()
    prev_reward = torch.randn(T, B)
    q_seq, state_seq = model(obs, prev_action, prev_reward, None)
    state, q_steps = None, []
    for t in range(T):
        q, state = model(obs[t], prev_action[t], prev_reward[t], state)
        q_steps.append(q)
    assert_close(q_seq, torch.stack(q_steps))
    assert_close(tuple(state_seq), tuple(state))
    # prev_action and prev_reward are inputs of the LSTM
    q_other, _ = model(obs, prev_action, prev_reward + 1, None)
    assert not torch.allclose(q_other, q_seq)


def test_atari_models_scale_pixels_inside():
    torch.manual_seed(2)
    model = AtariDqnModel(IMAGE, A, **SMALL_CONV)
    img = _images((4,))
    expected = model.head(model.conv(img.float() / 255).flatten(1))
    assert_close(model(img, *_prev((4,))), expected)
    assert_close(model(img.float(), *_prev((4,))), expected)  # float pixels on 0-255 too


def test_atari_default_conv_is_nature_dqn_with_paddings():
    model = AtariDqnModel((4, 84, 84), 6)
    convs = [m for m in model.conv.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 64]
    assert [c.kernel_size[0] for c in convs] == [8, 4, 3]
    assert [c.stride[0] for c in convs] == [4, 2, 1]
    assert [c.padding[0] for c in convs] == [0, 1, 1]
    assert model.head.model[0].in_features == 64 * 10 * 10
    assert model(torch.zeros(2, 4, 84, 84, dtype=torch.uint8), None, None).shape == (2, 6)


def test_dueling_head_is_value_plus_centred_advantage():
    torch.manual_seed(3)
    head = DuelingHeadModel(6, [8], 4)
    x = torch.randn(5, 6)
    value, advantage = head.value(x), head.advantage(x)
    assert value.shape == (5, 1) and advantage.shape == (5, 4)
    q = head(x)
    assert_close(q, value + advantage - advantage.mean(-1, keepdim=True))
    assert_close(q.mean(-1, keepdim=True), value)  # the mean Q is the value


def test_distributional_dueling_head():
    torch.manual_seed(4)
    head = DistributionalDuelingHeadModel(6, [8], 4, N_ATOMS)
    x = torch.randn(5, 6)
    value = head.value(x).reshape(5, 1, N_ATOMS)
    advantage = head.advantage(x).reshape(5, 4, N_ATOMS)
    logits = head(x)
    assert logits.shape == (5, 4, N_ATOMS)
    assert_close(logits, value + advantage - advantage.mean(1, keepdim=True))
    plain = DistributionalHeadModel(6, [8], 4, N_ATOMS)
    assert_close(plain(x), plain.mlp(x).reshape(5, 4, N_ATOMS))


@pytest.mark.parametrize("cls", ["dueling", "distributional_dueling"])
def test_dueling_heads_scale_the_trunk_gradient(cls):
    def input_grad(grad_scale):
        torch.manual_seed(5)
        if cls == "dueling":
            head = DuelingHeadModel(6, [8], 4, grad_scale=grad_scale)
        else:
            head = DistributionalDuelingHeadModel(6, [8], 4, N_ATOMS, grad_scale=grad_scale)
        x = torch.randn(3, 6, generator=torch.Generator().manual_seed(0), requires_grad=True)
        head(x).square().sum().backward()
        return x.grad

    assert_close(input_grad(2 ** (-1 / 2)), input_grad(1.0) * 2 ** (-1 / 2))


def test_make_q_head_choices():
    kinds = {
        (False, None): MlpModel,
        (True, None): DuelingHeadModel,
        (False, 5): DistributionalHeadModel,
        (True, 5): DistributionalDuelingHeadModel,
    }
    for (dueling, n_atoms), cls in kinds.items():
        assert type(make_q_head(6, [8], 3, dueling=dueling, n_atoms=n_atoms)) is cls
    assert type(make_q_head(6, [8], 3, noisy=True)) is NoisyMlpModel


# --- noisy layers ---------------------------------------------------------------------------


def test_noisy_linear_initialisation_and_factorised_noise():
    torch.manual_seed(6)
    layer = NoisyLinear(16, 4, noise_std=0.5)
    bound = 1 / math.sqrt(16)
    assert (layer.weight_mu.abs() <= bound).all() and (layer.bias_mu.abs() <= bound).all()
    assert_close(layer.weight_sigma, torch.full((4, 16), 0.5 / 4))
    assert_close(layer.bias_sigma, torch.full((4,), 0.5 / 4))
    torch.manual_seed(7)
    layer.resample_noise()
    torch.manual_seed(7)
    e_in, e_out = torch.randn(16), torch.randn(4)

    def f(e):
        return e.sign() * e.abs().sqrt()

    x = torch.randn(3, 16)
    weight = layer.weight_mu + layer.weight_sigma * torch.outer(f(e_out), f(e_in))
    bias = layer.bias_mu + layer.bias_sigma * f(e_out)
    assert_close(layer(x), x @ weight.T + bias)


def test_noisy_linear_resample_and_deterministic_mode():
    torch.manual_seed(8)
    layer = NoisyLinear(5, 3)
    x = torch.randn(2, 5)
    first = layer(x)
    assert_close(layer(x), first)  # forward alone does not redraw
    layer.resample_noise()
    second = layer(x)
    assert not torch.allclose(first, second)
    layer.noise_on = False
    mean = F.linear(x, layer.weight_mu, layer.bias_mu)
    assert_close(layer(x), mean)
    layer.resample_noise()
    assert_close(layer(x), mean)  # no noise at all while off
    # train()/eval() do not switch the noise: agents act in eval mode with noise.
    layer.noise_on = True
    layer.eval()
    assert not torch.allclose(layer(x), mean)


def test_noisy_linear_gradients_and_state_dict():
    layer = NoisyLinear(5, 3)
    layer(torch.randn(2, 5)).sum().backward()
    assert layer.weight_sigma.grad is not None and layer.weight_sigma.grad.abs().sum() > 0
    assert set(layer.state_dict()) == {"weight_mu", "weight_sigma", "bias_mu", "bias_sigma"}
    no_bias = NoisyLinear(5, 3, bias=False)
    assert no_bias(torch.randn(2, 5)).shape == (2, 3)


def test_noise_can_be_redrawn_in_inference_mode_then_trained():
    layer = NoisyLinear(4, 2)
    with torch.inference_mode():  # where samplers call sample_mode
        layer.resample_noise()
    assert not layer.noise_in.is_inference()
    layer(torch.randn(3, 4)).sum().backward()


def test_model_noise_helpers():
    torch.manual_seed(9)
    model = MlpDqnModel((5,), A, hidden_sizes=[8], dueling=True, noisy=True)
    assert len(noisy_layers(model)) == 4  # two layers in each of two streams
    x = _vectors((6,))
    before = model(x, None, None)
    resample_noise(model)
    assert not torch.allclose(model(x, None, None), before)
    set_noise(model, False)
    off = model(x, None, None)
    resample_noise(model)
    assert_close(model(x, None, None), off)
    set_noise(model, True)
    assert not torch.allclose(model(x, None, None), off)
    # models without noisy layers: the helpers do nothing
    plain = MlpDqnModel((5,), A)
    resample_noise(plain)
    set_noise(plain, False)
    assert noisy_layers(plain) == []
