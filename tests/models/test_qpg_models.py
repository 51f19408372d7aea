"""Q-function policy-gradient models: shapes for leading dims [], [B], [T, B]; the fused critic
ensemble against separate QofMuMlpModel instances (values, gradients, Adam steps, state dicts)."""

import copy
import math

import pytest
import torch
from torch.testing import assert_close

from rlpyt.models.qpg.ensemble import (
    QofMuEnsembleMlpModel,
    QofMuMemberView,
    SeparateQEnsemble,
    make_q_ensemble,
)
from rlpyt.models.qpg.mlp import MuMlpModel, PiMlpModel, QofMuMlpModel, VMlpModel

T, B, A = 3, 2, 4
OBS = (3, 2)  # multi-dimensional: flattened inside the models
LEADS = [(), (B,), (T, B)]


def _inputs(lead, obs_shape=OBS):
    return torch.randn(lead + obs_shape), torch.randn(lead + (A,)), torch.randn(lead)


@pytest.mark.parametrize("lead", LEADS)
def test_policy_and_value_shapes(lead):
    obs, prev_action, prev_reward = _inputs(lead)
    mu = MuMlpModel(OBS, [8, 8], A, output_max=2.5)(obs, prev_action, prev_reward)
    assert mu.shape == lead + (A,)
    assert mu.abs().max() <= 2.5
    mean, log_std = PiMlpModel(OBS, [8], A)(obs, prev_action, prev_reward)
    assert mean.shape == log_std.shape == lead + (A,)
    assert VMlpModel(OBS, [8], A)(obs, prev_action, prev_reward).shape == lead
    q = QofMuMlpModel(OBS, [8, 8], A)(obs, prev_action, prev_reward, torch.randn(lead + (A,)))
    assert q.shape == lead


@pytest.mark.parametrize("lead", LEADS)
def test_ensemble_shapes(lead):
    obs, prev_action, prev_reward = _inputs(lead)
    action = torch.randn(lead + (A,))
    ensemble = QofMuEnsembleMlpModel(OBS, [8, 8], A, ensemble_size=3)
    qs = ensemble(obs, prev_action, prev_reward, action)
    assert isinstance(qs, tuple) and len(qs) == 3
    assert all(q.shape == lead for q in qs)
    assert ensemble(obs, prev_action, prev_reward, action, member=2).shape == lead
    assert ensemble.member(1)(obs, prev_action, prev_reward, action).shape == lead


def test_pi_model_splits_mean_and_log_std():
    model = PiMlpModel((5,), [8], A)
    obs = torch.randn(B, 5)
    out = model.mlp(obs)
    mean, log_std = model(obs, None, None)
    assert_close(mean, out[:, :A])
    assert_close(log_std, out[:, A:])


def test_observations_are_flattened_and_cast():
    model = QofMuMlpModel(OBS, [8], A)
    obs = torch.randn(T, B, *OBS, dtype=torch.float64)
    action = torch.randn(T, B, A)
    q = model(obs, None, None, action)
    flat = torch.cat([obs.reshape(T * B, -1).float(), action.reshape(T * B, -1)], dim=-1)
    assert_close(q, model.mlp(flat).reshape(T, B))


def _twin_and_separate(hidden=(16, 16)):
    torch.manual_seed(0)
    separate = [QofMuMlpModel(OBS, list(hidden), A) for _ in range(2)]
    fused = QofMuEnsembleMlpModel(OBS, list(hidden), A, ensemble_size=2)
    for j, model in enumerate(separate):
        fused.member(j).load_state_dict(model.state_dict())
    return fused, separate


def test_fused_twin_equals_two_separate_mlps_values_and_gradients():
    fused, separate = _twin_and_separate()
    obs, prev_action, prev_reward = _inputs((T, B))
    action = torch.randn(T, B, A, requires_grad=True)
    action_ref = action.detach().clone().requires_grad_(True)
    q1, q2 = fused(obs, prev_action, prev_reward, action)
    r1, r2 = (m(obs, prev_action, prev_reward, action_ref) for m in separate)
    assert_close(q1, r1)
    assert_close(q2, r2)
    weights = torch.randn(T, B)
    (weights * torch.min(q1, q2)).sum().backward()
    (weights * torch.min(r1, r2)).sum().backward()
    assert_close(action.grad, action_ref.grad)
    for j, model in enumerate(separate):
        for i, (w, b) in enumerate(zip(fused.mlp.weights, fused.mlp.biases)):
            linear = model.mlp.model[2 * i]
            assert_close(w.grad[j].t(), linear.weight.grad)
            assert_close(b.grad[j, 0], linear.bias.grad)


def test_gradients_keep_the_parameter_layout():
    # Optimizers and DDP buckets expect gradients laid out as their parameters.
    fused, _ = _twin_and_separate()
    obs, prev_action, prev_reward = _inputs((B,))
    q1, q2 = fused(obs, prev_action, prev_reward, torch.randn(B, A))
    (q1 + q2).sum().backward()
    assert all(p.grad.stride() == p.stride() for p in fused.parameters())


def test_member_forward_uses_only_its_slice():
    fused, separate = _twin_and_separate()
    obs, prev_action, prev_reward = _inputs((B,))
    action = torch.randn(B, A)
    q2 = fused(obs, prev_action, prev_reward, action, member=1)
    assert_close(q2, separate[1](obs, prev_action, prev_reward, action))
    q2.sum().backward()
    for w in fused.mlp.weights:
        assert w.grad[0].abs().sum() == 0 and w.grad[1].abs().sum() > 0


def test_one_adam_over_the_ensemble_equals_one_adam_per_critic():
    fused, separate = _twin_and_separate()
    opt = torch.optim.Adam(fused.parameters(), lr=1e-2)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in separate]
    for _ in range(3):
        obs, prev_action, prev_reward = _inputs((B,))
        action, y = torch.randn(B, A), torch.randn(B)
        q1, q2 = fused(obs, prev_action, prev_reward, action)
        opt.zero_grad()
        (0.5 * (q1 - y).square().mean() + 0.5 * (q2 - y).square().mean()).backward()
        opt.step()
        for model, o in zip(separate, opts):
            o.zero_grad()
            (0.5 * (model(obs, prev_action, prev_reward, action) - y).square().mean()).backward()
            o.step()
    for j, model in enumerate(separate):
        assert_close(fused.member(j).state_dict(), model.state_dict())


def test_member_state_dict_layout_and_round_trip():
    fused, separate = _twin_and_separate()
    state = fused.member(1).state_dict()
    assert list(state) == list(separate[1].state_dict())
    assert all(v.is_contiguous() for v in state.values())
    state["mlp.model.0.bias"].add_(1.0)  # copies: editing them leaves the ensemble alone
    assert_close(fused.member(1).state_dict()["mlp.model.0.bias"], separate[1].mlp.model[0].bias)
    other = QofMuMlpModel(OBS, [16, 16], A)
    other.load_state_dict(fused.member(0).state_dict())
    obs, prev_action, prev_reward = _inputs((B,))
    action = torch.randn(B, A)
    assert_close(other(obs, None, None, action), fused.member(0)(obs, None, None, action))
    prefixed = fused.member(0).state_dict(prefix="q.")
    assert all(k.startswith("q.mlp.model.") for k in prefixed)


def test_member_load_state_dict_errors():
    fused, _ = _twin_and_separate()
    wrong = QofMuMlpModel(OBS, [16, 8], A).state_dict()
    with pytest.raises(RuntimeError, match="shape"):
        fused.member(0).load_state_dict(wrong)
    partial = dict(QofMuMlpModel(OBS, [16, 16], A).state_dict())
    del partial["mlp.model.4.bias"]
    with pytest.raises(RuntimeError, match="missing"):
        fused.member(0).load_state_dict(partial)
    result = fused.member(0).load_state_dict(partial, strict=False)
    assert result.missing_keys == ["mlp.model.4.bias"]


def test_member_view_owns_no_parameters():
    fused, _ = _twin_and_separate()
    view = fused.member(0)
    assert isinstance(view, QofMuMemberView) and view.ensemble is fused
    with pytest.raises(RuntimeError, match="q_parameters"):
        list(view.parameters())
    # The views are not submodules: the ensemble lists each stacked tensor once.
    assert len(list(fused.parameters())) == 6
    assert [name for name, _ in fused.named_children()] == ["mlp"]


def test_deepcopy_keeps_views_on_the_copy():
    fused, _ = _twin_and_separate()
    target = copy.deepcopy(fused)
    assert target.member(0).ensemble is target
    with torch.no_grad():
        target.mlp.weight0.zero_()
    assert fused.mlp.weight0.abs().sum() > 0


def test_ensemble_initialisation_matches_linear_bounds():
    fused = QofMuEnsembleMlpModel((10,), [32], 6, ensemble_size=2)
    for w, b in zip(fused.mlp.weights, fused.mlp.biases):
        bound = 1 / math.sqrt(w.shape[1])
        assert w.abs().max() <= bound and b.abs().max() <= bound
        assert w.abs().max() > 0.8 * bound  # uniform over the whole range
    assert not torch.equal(fused.mlp.weight0[0], fused.mlp.weight0[1])  # independent members


def test_make_q_ensemble_fuses_only_the_plain_class():
    kwargs = dict(observation_shape=OBS, hidden_sizes=[8], action_size=A)
    assert isinstance(make_q_ensemble(QofMuMlpModel, 2, **kwargs), QofMuEnsembleMlpModel)
    single = make_q_ensemble(QofMuMlpModel, 1, **kwargs)
    assert isinstance(single, SeparateQEnsemble) and type(single.member(0)) is QofMuMlpModel

    class MyQ(QofMuMlpModel):
        pass

    separate = make_q_ensemble(MyQ, 2, **kwargs)
    assert isinstance(separate, SeparateQEnsemble) and type(separate.member(1)) is MyQ
    obs, prev_action, prev_reward = _inputs((B,))
    action = torch.randn(B, A)
    q1, q2 = separate(obs, prev_action, prev_reward, action)
    assert_close(q2, separate.member(1)(obs, prev_action, prev_reward, action))
    assert_close(separate(obs, prev_action, prev_reward, action, member=0), q1)
