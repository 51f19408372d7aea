"""Policy-gradient models: output shapes for leading dims [], [B], [T, B]; LSTM state passing."""

import pytest
import torch
from torch.testing import assert_close

from rlpyt.models import utils as model_utils
from rlpyt.models.pg import atari_lstm_model, mujoco_lstm_model
from rlpyt.models.pg.atari_ff_model import AtariFfModel
from rlpyt.models.pg.atari_lstm_model import AtariLstmModel
from rlpyt.models.pg.mlp_model import CategoricalPgLstmModel, CategoricalPgMlpModel
from rlpyt.models.pg.mujoco_ff_model import MujocoFfModel
from rlpyt.models.pg.mujoco_lstm_model import MujocoLstmModel
from rlpyt.models.utils import RnnState

T, B, A = 3, 2, 4
IMAGE = (2, 32, 32)
SMALL_ATARI = dict(fc_sizes=16, channels=[4, 4])


def _inputs(lead, obs_shape, discrete, image=False):
    if image:
        obs = torch.randint(0, 256, lead + obs_shape, dtype=torch.uint8)
    else:
        obs = torch.randn(lead + obs_shape)
    if discrete:
        prev_action = torch.nn.functional.one_hot(torch.randint(0, A, lead), A).float()
    else:
        prev_action = torch.randn(lead + (A,))
    return obs, prev_action, torch.randn(lead)


# (constructor, observation shape, discrete actions, image input, number of policy outputs)
FF_MODELS = {
    "atari_ff": (lambda: AtariFfModel(IMAGE, A, **SMALL_ATARI), IMAGE, True, True, 1),
    "mujoco_ff": (lambda: MujocoFfModel((5,), A, hidden_sizes=[8]), (5,), False, False, 2),
    "categorical_mlp": (lambda: CategoricalPgMlpModel((3, 2), A, [8]), (3, 2), True, False, 1),
}
LSTM_MODELS = {
    "atari_lstm": (
        lambda: AtariLstmModel(IMAGE, A, lstm_size=8, **SMALL_ATARI),
        IMAGE,
        True,
        True,
        1,
    ),
    "mujoco_lstm": (
        lambda: MujocoLstmModel((5,), A, hidden_sizes=[8], lstm_size=6),
        (5,),
        False,
        False,
        2,
    ),
    "categorical_lstm": (
        lambda: CategoricalPgLstmModel((5,), A, [8], lstm_size=6),
        (5,),
        True,
        False,
        1,
    ),
}


@pytest.mark.parametrize("name", sorted(FF_MODELS))
@pytest.mark.parametrize("lead", [(), (B,), (T, B)])
def test_ff_model_shapes(name, lead):
    make, obs_shape, discrete, image, n_policy = FF_MODELS[name]
    torch.manual_seed(0)
    outputs = make()(*_inputs(lead, obs_shape, discrete, image))
    assert len(outputs) == n_policy + 1
    for policy_output in outputs[:-1]:
        assert policy_output.shape == lead + (A,)
    assert outputs[-1].shape == lead
    if discrete:
        assert_close(outputs[0].sum(-1), torch.ones(lead))


@pytest.mark.parametrize("name", sorted(LSTM_MODELS))
@pytest.mark.parametrize("lead", [(), (B,), (T, B)])
def test_lstm_model_shapes(name, lead):
    make, obs_shape, discrete, image, n_policy = LSTM_MODELS[name]
    torch.manual_seed(0)
    model = make()
    *outputs, state = model(*_inputs(lead, obs_shape, discrete, image), None)
    for policy_output in outputs[:n_policy]:
        assert policy_output.shape == lead + (A,)
    assert outputs[n_policy].shape == lead
    b = lead[-1] if lead else 1
    assert isinstance(state, RnnState)
    assert state.h.shape == state.c.shape == (1, b, model.lstm.hidden_size)


@pytest.mark.parametrize("name", sorted(LSTM_MODELS))
def test_lstm_sequence_equals_stepping_with_carried_state(name):
    make, obs_shape, discrete, image, _ = LSTM_MODELS[name]
    torch.manual_seed(0)
    model = make()
    inputs = _inputs((T, B), obs_shape, discrete, image)
    hidden = model.lstm.hidden_size
    init = RnnState(h=torch.randn(1, B, hidden), c=torch.randn(1, B, hidden))
    *seq_outputs, seq_state = model(*inputs, init)
    state = init
    for t in range(T):
        *step_outputs, state = model(*(x[t] for x in inputs), state)
        for seq_out, step_out in zip(seq_outputs, step_outputs):
            assert_close(seq_out[t], step_out)
    assert_close(tuple(state), tuple(seq_state))
    # None means zeros.
    zeros = RnnState(torch.zeros(1, B, hidden), torch.zeros(1, B, hidden))
    assert_close(model(*inputs, None)[0], model(*inputs, zeros)[0])


def test_rnn_state_is_one_class_with_both_import_paths():
    assert atari_lstm_model.RnnState is model_utils.RnnState
    assert mujoco_lstm_model.RnnState is model_utils.RnnState


def test_atari_models_scale_pixels():
    torch.manual_seed(0)
    model = AtariFfModel(IMAGE, A, **SMALL_ATARI)
    obs, prev_action, prev_reward = _inputs((B,), IMAGE, True, image=True)
    pi_uint8, v_uint8 = model(obs, prev_action, prev_reward)
    pi_float, v_float = model(obs.float(), prev_action, prev_reward)
    assert_close(pi_uint8, pi_float)
    assert_close(v_uint8, v_float)


def test_mujoco_ff_normalizes_observations():
    torch.manual_seed(0)
    model = MujocoFfModel((3,), 2, hidden_sizes=[8], norm_obs_clip=3.0)
    plain = MujocoFfModel((3,), 2, hidden_sizes=[8], normalize_observation=False)
    plain.load_state_dict(model.state_dict(), strict=False)
    data = torch.randn(50, 4, 3) * 5 + 2
    model.update_obs_rms(data)
    obs = torch.randn(4, 3) * 5 + 2
    mean = data.reshape(-1, 3).mean(0)
    std = data.reshape(-1, 3).var(0, unbiased=False).sqrt()
    normalized = ((obs - mean) / std).clamp(-3, 3)
    for got, expected in zip(model(obs, None, None), plain(normalized, None, None)):
        assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert "obs_rms.count" in model.state_dict()
    plain.update_obs_rms(data)  # a no-op without normalisation


def test_categorical_mlp_model_init():
    model = CategoricalPgMlpModel((4,), 2)
    w_pi, w_v = model.mlp.weights[-1]
    assert w_pi.abs().max() < 0.05  # policy output gain 0.01: near-uniform initial policy
    assert all((b == 0).all() for b in model.mlp.biases)
    pi, _ = model(torch.randn(8, 4), None, None)
    assert_close(pi, torch.full((8, 2), 0.5), atol=0.02, rtol=0)
