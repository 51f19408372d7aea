"""Optimizer plumbing shared by every algorithm: fast defaults, zeroing and clipping gradients."""

from __future__ import annotations

from typing import Any

import torch
import torch.optim.optimizer as torch_optimizer

__all__ = ["FastAdamStep", "GradientStep", "fast_optim_kwargs", "one_foreach_group"]


def fast_optim_kwargs(OptimCls: type, optim_kwargs: dict, params: list) -> dict:
    """``optim_kwargs`` plus ``fused=True`` for Adam/AdamW when the caller chose no implementation.

    The fused kernels do the same arithmetic in one pass over all parameters instead of a
    Python loop over them: about 3-4x faster steps for small networks on the CPU (a large part
    of an update there). Only used when every parameter is a float32/float64 tensor on one CPU
    or CUDA device.
    """
    if OptimCls not in (torch.optim.Adam, torch.optim.AdamW):
        return optim_kwargs
    if {"fused", "foreach", "differentiable"} & optim_kwargs.keys() or not params:
        return optim_kwargs
    devices = {p.device for p in params}
    if len(devices) != 1 or next(iter(devices)).type not in ("cpu", "cuda"):
        return optim_kwargs
    if any(p.dtype not in (torch.float32, torch.float64) for p in params):
        return optim_kwargs
    return {**optim_kwargs, "fused": True}


def one_foreach_group(params: list) -> bool:
    """True if ``params`` are floating tensors on one CPU or CUDA device with one dtype: the
    case where ``clip_grad_norm_`` makes a single foreach group."""
    kinds = {(p.device, p.dtype) for p in params}
    if len(kinds) != 1:
        return False
    device, dtype = next(iter(kinds))
    return device.type in ("cpu", "cuda") and dtype.is_floating_point


class GradientStep:
    """Builds an optimizer over a fixed parameter list and zeroes / clips its gradients fast.

    Algorithms make one per optimizer in ``initialize`` and call :meth:`zero_grad`, then
    ``loss.backward()``, :meth:`clip_grad_norm` and ``optimizer.step()`` per update. The short
    paths do exactly what the library calls do, without their per-call overhead, which matters
    for the small networks of classic-control and MuJoCo tasks (many updates per second).

    Args:
        OptimCls: optimizer class, built as ``OptimCls(params, lr=lr, **optim_kwargs)`` (with
            ``fused=True`` added for Adam/AdamW where :func:`fast_optim_kwargs` allows).
        params: the parameters to optimize (a list, kept).
        lr: learning rate.
        optim_kwargs: extra optimizer arguments.
    """

    def __init__(
        self, OptimCls: type, params: list, lr: float, optim_kwargs: dict | None = None
    ) -> None:
        self.params = list(params)
        kwargs = fast_optim_kwargs(OptimCls, dict(optim_kwargs or {}), self.params)
        self.optimizer: torch.optim.Optimizer = OptimCls(self.params, lr=lr, **kwargs)
        self._plain_zero_grad = type(self.optimizer).zero_grad is torch.optim.Optimizer.zero_grad
        self.foreach_clip = one_foreach_group(self.params)

    def zero_grad(self) -> None:
        """``optimizer.zero_grad(set_to_none=True)``.

        For optimizers that keep ``Optimizer.zero_grad`` this sets the gradients to ``None``
        directly: the same effect without its profiler bookkeeping, which costs several times
        more than the loop for a small network.
        """
        if not self._plain_zero_grad:
            self.optimizer.zero_grad(set_to_none=True)
            return
        for param in self.params:
            param.grad = None

    def clip_grad_norm(self, max_norm: float, host_scale: bool = False) -> torch.Tensor:
        """``torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)``: the same
        arithmetic in a few foreach/tensor ops when all parameters share a device and a dtype,
        without the library's per-call grouping of tensors (about 2x faster for small
        networks).

        Args:
            max_norm: the largest total norm left unscaled.
            host_scale: for CPU gradients, read the norm and compute the scale factor on the
                host (in float64), scaling only when it is below 1: three ops fewer per call
                for callers that read values on the host anyway (DQN). Ignored on other
                devices, where reading the norm would be a device sync.

        Returns:
            The total gradient norm before clipping (a scalar tensor).
        """
        grads = [p.grad for p in self.params if p.grad is not None]
        if not self.foreach_clip or not grads:
            return torch.nn.utils.clip_grad_norm_(self.params, max_norm, foreach=True)
        with torch.no_grad():
            total_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            if host_scale and total_norm.device.type == "cpu":
                coeff = float(max_norm) / (float(total_norm) + 1e-6)
                if coeff < 1.0:
                    torch._foreach_mul_(grads, coeff)
            else:
                coeff = torch.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
                torch._foreach_mul_(grads, coeff)
        return total_norm

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()


class FastAdamStep:
    """``optimizer.step()`` of a ``GradientStep``'s optimizer, with a short path for the
    fused Adam the algorithms use by default.

    ``torch.optim.Adam.step`` spends ~0.1 ms per call in Python (state checks, grouping
    tensors by device, profiler records) around one ``torch._fused_adam_`` kernel (SAC steps
    three optimizers per update, DQN one). For a single-group ``Adam(fused=True)`` without
    amsgrad, decoupled weight decay, gradient scaling or step hooks, and once its state
    exists, this makes the same two calls Adam's fused path makes (``_foreach_add_`` on the
    step counts, then ``_fused_adam_``) on cached state lists. Anything else, a missing
    gradient, or an optimizer whose state was replaced (``load_state_dict``), takes
    ``optimizer.step()``.

    Args:
        gradient_step: the ``GradientStep`` whose optimizer to step.
    """

    def __init__(self, gradient_step: Any) -> None:
        self.optimizer = gradient_step.optimizer
        self.params = list(gradient_step.params)
        groups = self.optimizer.param_groups
        group = groups[0]
        self.eligible = (
            type(self.optimizer) is torch.optim.Adam
            and len(groups) == 1
            and group.get("fused") is True
            and not group.get("amsgrad")
            and not group.get("capturable")
            and not group.get("differentiable")
            and not group.get("decoupled_weight_decay")
            and isinstance(group.get("lr"), float)
            and len(group["params"]) == len(self.params)
        )
        self._state = None  # the ``optimizer.state`` object the cached lists belong to
        self._step_counts: torch.Tensor | None = None

    def __call__(self) -> None:
        opt = self.optimizer
        if (
            not self.eligible
            or opt.state is not self._state
            or opt._optimizer_step_pre_hooks
            or opt._optimizer_step_post_hooks
            or torch_optimizer._global_optimizer_pre_hooks
            or torch_optimizer._global_optimizer_post_hooks
        ):
            opt.step()
            self._cache()
            return
        grads = [p.grad for p in self.params]
        if any(g is None for g in grads):
            opt.step()
            return
        group = opt.param_groups[0]
        beta1, beta2 = group["betas"]
        if self._step_counts is not None:
            self._step_counts.add_(1)
        else:
            torch._foreach_add_(self._steps, 1)
        torch._fused_adam_(
            self.params,
            grads,
            self._exp_avgs,
            self._exp_avg_sqs,
            [],
            self._steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=float(beta1),
            beta2=float(beta2),
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            grad_scale=None,
            found_inf=None,
        )

    def _cache(self) -> None:
        state = self.optimizer.state
        if not self.eligible or any(p not in state for p in self.params):
            return
        self._exp_avgs = [state[p]["exp_avg"] for p in self.params]
        self._exp_avg_sqs = [state[p]["exp_avg_sq"] for p in self.params]
        steps = [state[p]["step"] for p in self.params]
        self._step_counts = None
        if len({(t.dtype, t.device, t.dim()) for t in steps}) == 1 and steps[0].dim() == 0:
            # Adam keeps one 0-d step count per parameter, and on the CPU incrementing them
            # with _foreach_add_ is a loop of small ops (~25 us for six). Made views of one
            # vector (same values; Adam's own step and state_dict see ordinary 0-d tensors),
            # they are incremented by one op.
            self._step_counts = torch.stack(steps)
            steps = list(self._step_counts.unbind(0))
            for p, step in zip(self.params, steps):
                state[p]["step"] = step
        self._steps = steps
        self._state = state
