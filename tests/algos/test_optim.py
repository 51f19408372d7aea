"""GradientStep and the fused-optimizer default."""

import pytest
import torch

from rlpyt.algos.optim import GradientStep, fast_optim_kwargs


def _params(dtype=torch.float32):
    torch.manual_seed(0)
    return [torch.nn.Parameter(torch.randn(3, 4, dtype=dtype)), torch.nn.Parameter(torch.randn(4))]


def test_fused_only_for_adam_without_explicit_choice():
    params = _params()
    assert fast_optim_kwargs(torch.optim.Adam, {}, params) == {"fused": True}
    assert fast_optim_kwargs(torch.optim.AdamW, {"eps": 1e-5}, params)["fused"] is True
    assert fast_optim_kwargs(torch.optim.Adam, {"foreach": False}, params) == {"foreach": False}
    assert fast_optim_kwargs(torch.optim.RMSprop, {}, params) == {}
    assert fast_optim_kwargs(torch.optim.Adam, {}, []) == {}
    half = [torch.nn.Parameter(torch.randn(2, dtype=torch.float16))]
    assert fast_optim_kwargs(torch.optim.Adam, {}, half) == {}


@pytest.mark.parametrize("host_scale", [False, True])
@pytest.mark.parametrize("OptimCls", [torch.optim.Adam, torch.optim.SGD])
def test_steps_like_the_plain_optimizer(OptimCls, host_scale):
    params, reference = _params(), _params()
    step = GradientStep(OptimCls, params, lr=0.01)
    plain = OptimCls(reference, lr=0.01)
    for _ in range(3):
        step.zero_grad()
        plain.zero_grad(set_to_none=True)
        for p, r in zip(params, reference):
            p.grad = torch.ones_like(p)
            r.grad = torch.ones_like(r)
        norm = step.clip_grad_norm(0.5, host_scale=host_scale)
        torch.testing.assert_close(norm, torch.nn.utils.clip_grad_norm_(reference, 0.5))
        step.optimizer.step()
        plain.step()
    for p, r in zip(params, reference):
        torch.testing.assert_close(p, r)
    for p in params:  # a norm below max_norm leaves the gradients as they are
        p.grad = torch.full_like(p, 1e-3)
    step.clip_grad_norm(10.0, host_scale=host_scale)
    assert all(torch.equal(p.grad, torch.full_like(p, 1e-3)) for p in params)
    step.zero_grad()
    assert all(p.grad is None for p in params)
    assert "state" in step.state_dict()
