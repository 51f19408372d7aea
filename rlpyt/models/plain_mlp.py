"""Fast paths of a plain `MlpModel` (Linear layers and elementwise activations, no hooks):
NumPy inference for acting, and forward/backward passes written out for small-network updates.

Why: a 64x64 Q-network's forward on one observation is a handful of matrix products of a few
hundred flops each, so its cost is all per-op overhead. Torch spends ~3-6 us per op in
dispatch (and more when stepping an env in between evicts its code from the CPU caches);
NumPy ~1 us. For one CartPole env, ``DqnAgent.step`` takes ~40 us through torch and ~8 us
through :func:`host_forward` (benchmarks/RESULTS.md). Likewise a DQN update through autograd
records and replays ~30 nodes; :func:`explicit_forward` / :func:`explicit_backward` compute
the same gradients with ~5 ops per layer and no graph (about 2.5x faster at batch 32).

Every function returns ``None`` for a model it cannot serve (a layer that is not a plain
``torch.nn.Linear`` or one of ``ReLU``, ``Tanh``, ``Sigmoid``, ``Identity``; any forward hook,
global or on a layer; parameters that are not float32 on the CPU for :func:`host_forward`),
and callers then take the ordinary module call. Results equal the module's up to float
rounding (tests compare them, and the gradients with autograd's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.modules import module as _module

__all__ = ["explicit_backward", "explicit_forward", "host_forward", "plain_layers"]

# Activations by kind: the forward in place (torch, NumPy) and the derivative written in terms
# of the activation's output ``h`` (what is saved): relu' = [h > 0], tanh' = 1 - h^2,
# sigmoid' = h (1 - h).
_KINDS = {torch.nn.ReLU: "relu", torch.nn.Tanh: "tanh", torch.nn.Sigmoid: "sigmoid"}
_TORCH_INPLACE = {
    "relu": torch.Tensor.relu_,
    "tanh": torch.Tensor.tanh_,
    "sigmoid": torch.Tensor.sigmoid_,
}

# NumPy's matrix product hands work to its BLAS, which may start threads above ~2.6e5 flops
# (OpenBLAS); the host path is for the overhead-bound sizes well below that.
HOST_MAX_FLOPS = 65_536


def _np_relu(h: np.ndarray) -> None:
    np.maximum(h, 0, out=h)


def _np_tanh(h: np.ndarray) -> None:
    np.tanh(h, out=h)


def _np_sigmoid(h: np.ndarray) -> None:
    np.negative(h, out=h)
    np.exp(h, out=h)
    h += 1
    np.reciprocal(h, out=h)


_NUMPY_INPLACE = {"relu": _np_relu, "tanh": _np_tanh, "sigmoid": _np_sigmoid}


def _global_hooks() -> bool:
    return bool(_module._global_forward_hooks or _module._global_forward_pre_hooks)


def plain_layers(mlp: torch.nn.Module) -> list[tuple[torch.nn.Linear, str | None]] | None:
    """``[(linear, activation kind after it or None), ...]`` for an ``MlpModel`` made of plain
    layers without hooks (checked at every call: hooks may be added any time), else ``None``."""
    if mlp._forward_hooks or mlp._forward_pre_hooks or _global_hooks():
        return None
    modules = tuple(mlp._modules["model"]._modules.values())
    cache = mlp.__dict__.get("_plain_layers_cache")
    if cache is None or cache[0] != modules:
        cache = mlp.__dict__["_plain_layers_cache"] = (modules, _resolve(modules))
    for module in modules:
        if module._forward_hooks or module._forward_pre_hooks:
            return None
    return cache[1]


def _resolve(modules: tuple) -> list | None:
    layers: list[list] = []
    for module in modules:
        kind = type(module)
        if kind is torch.nn.Linear:
            if not isinstance(module._parameters.get("weight"), torch.Tensor):
                return None  # parametrized: its weight is computed, not a parameter
            layers.append([module, None])
        elif kind is torch.nn.Identity:
            continue
        elif kind in _KINDS and layers and layers[-1][1] is None:
            layers[-1][1] = _KINDS[kind]
        else:
            return None
    return [tuple(layer) for layer in layers] or None


def host_forward(mlp: torch.nn.Module, x: np.ndarray) -> np.ndarray | None:
    """The MLP on NumPy input ``[N, input_size]`` float32, computed in NumPy on views of the
    parameters (no copies: optimizer steps and ``load_state_dict`` show at once).

    Returns:
        ``[N, output_size]`` float32, or ``None`` where the model is not plain, its
        parameters are not float32 CPU tensors, or the batch is large enough for the torch
        path (``N * max(in * out) > HOST_MAX_FLOPS``).
    """
    layers = plain_layers(mlp)
    if layers is None:
        return None
    # The views keep their parameters' storage alive, so equal addresses mean the same
    # tensors; a parameter replaced or moved (``.to``, ``.double()``) rebuilds them.
    cache = mlp.__dict__.get("_host_views_cache")
    if (
        cache is None
        or cache[1] is not layers
        or cache[0] != [linear._parameters["weight"].data_ptr() for linear, _ in layers]
    ):
        cache = mlp.__dict__["_host_views_cache"] = _host_views(layers)
    max_flops, views = cache[2]
    if views is None or x.shape[0] * max_flops > HOST_MAX_FLOPS:
        return None
    h = x
    for weight_t, bias, act in views:
        h = h @ weight_t
        if bias is not None:
            h += bias
        if act is not None:
            act(h)
    return h


def _host_views(layers: list) -> tuple[list[int], list, tuple[int, list | None]]:
    """``(weight addresses, layers, (max in*out, [(weight.T, bias, activation)] or None))``."""
    params = [(lin._parameters["weight"], lin._parameters.get("bias")) for lin, _ in layers]
    ptrs = [w.data_ptr() for w, _ in params]
    flat = [p for pair in params for p in pair if p is not None]
    if not all(p.device.type == "cpu" and p.dtype == torch.float32 for p in flat):
        return ptrs, layers, (0, None)
    views = [
        (w.detach().numpy().T, None if b is None else b.detach().numpy(), _NUMPY_INPLACE.get(act))
        for (w, b), (_, act) in zip(params, layers)
    ]
    return ptrs, layers, (max(w.shape[0] * w.shape[1] for w, _ in params), views)


def explicit_forward(mlp: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, Any] | None:
    """The MLP's output for ``x [..., input_size]`` plus what :func:`explicit_backward` needs.

    Call without grad (``torch.no_grad()``): no graph is recorded; gradients come from
    :func:`explicit_backward`. Returns ``None`` where the model is not plain.
    """
    layers = plain_layers(mlp)
    if layers is None:
        return None
    lead = x.shape[:-1]
    h = x.reshape(-1, x.shape[-1]) if x.dim() != 2 else x
    outputs = [h]
    for linear, act in layers:
        params = linear._parameters
        bias = params.get("bias")
        if bias is None:
            h = F.linear(h, params["weight"])
        else:  # what F.linear does for a 2-D input, without its dispatch layer
            h = torch.addmm(bias, h, params["weight"].t())
        if act is not None:  # in place: the fresh linear output is not needed afterwards
            h = _TORCH_INPLACE[act](h)
        outputs.append(h)
    out = h if x.dim() == 2 else h.reshape(*lead, h.shape[-1])
    return out, (layers, outputs)


def explicit_backward(
    saved: Any, grad_out: torch.Tensor
) -> list[tuple[torch.nn.Parameter, torch.Tensor]]:
    """Gradients of the parameters from the gradient of :func:`explicit_forward`'s output.

    Returns:
        ``[(parameter, gradient), ...]`` for every parameter that requires grad, to be
        stored in (or added to) ``parameter.grad``.
    """
    layers, outputs = saved
    g = grad_out.reshape(-1, grad_out.shape[-1]) if grad_out.dim() != 2 else grad_out
    grads: list[tuple[torch.nn.Parameter, torch.Tensor]] = []
    for i in range(len(layers) - 1, -1, -1):
        linear, act = layers[i]
        if act is not None:  # (out of place: the caller's tensor is never changed)
            g = _activation_backward(act, g, outputs[i + 1])
        weight, bias = linear._parameters["weight"], linear._parameters.get("bias")
        if bias is not None and bias.requires_grad:
            grads.append((bias, g.sum(0)))
        if weight.requires_grad:
            grads.append((weight, g.t().mm(outputs[i])))
        if i > 0:
            g = g.mm(weight)
    return grads


def _activation_backward(kind: str, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``g * act'(z)`` from the activation's output ``h = act(z)``: the kernels autograd
    itself uses for these activations (one op each, the same values)."""
    return _BACKWARD[kind](g, h)


_aten = torch.ops.aten
_BACKWARD = {
    "relu": lambda g, h: _aten.threshold_backward.default(g, h, 0),
    "tanh": _aten.tanh_backward.default,
    "sigmoid": _aten.sigmoid_backward.default,
}
