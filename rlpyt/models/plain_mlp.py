"""NumPy fast paths of a plain `MlpModel` (Linear layers and elementwise activations, no
hooks): the forward pass for acting, and the forward and backward passes of small-batch
updates, computed on NumPy views of the parameters.

Why: a 64x64 Q-network's forward on one observation is a handful of matrix products of a few
hundred flops each, and an update at batch 32 a few dozen small ops, so their cost is per-op
overhead, not arithmetic. Torch spends ~3-6 us per op in dispatch (and more when stepping an
env in between evicts its code from the CPU caches), NumPy ~1 us. For one CartPole env,
``DqnAgent.step`` takes ~40 us through torch and ~20 us through :func:`host_forward`; a DQN
update's loss and gradients take ~210 us through torch ops (explicit, without autograd) and
~90 us through :func:`host_forward` + :func:`host_backward` (benchmarks/RESULTS.md).

Every function returns ``None`` for a model or batch it cannot serve, and callers then take
the ordinary module call and autograd: a layer that is not a plain ``torch.nn.Linear`` or
one of ``ReLU``, ``Tanh``, ``Sigmoid``, ``Identity``; any forward hook, global or on a
layer; parameters that are not float32 CPU tensors; or a batch with more than
``HOST_MAX_FLOPS`` multiply-adds in one matrix product (NumPy's BLAS may start threads above
that, and torch's kernels are as fast there). Results equal the module's and autograd's up to
float rounding (tests compare them).
"""

from __future__ import annotations

import weakref

import numpy as np
import torch
from torch.nn.modules import module as _module

__all__ = ["HOST_MAX_FLOPS", "host_backward", "host_forward", "plain_layers"]

_KINDS = {torch.nn.ReLU: "relu", torch.nn.Tanh: "tanh", torch.nn.Sigmoid: "sigmoid"}

# OpenBLAS runs a matrix product single-threaded up to m * n * k = 262144 multiply-adds; the
# fast paths stay at half that (batch 32 through 64x64 layers), where per-op cost dominates.
HOST_MAX_FLOPS = 131_072


def _np_relu(h: np.ndarray) -> None:
    np.maximum(h, 0, out=h)


def _np_tanh(h: np.ndarray) -> None:
    np.tanh(h, out=h)


def _np_sigmoid(h: np.ndarray) -> None:
    np.negative(h, out=h)
    np.exp(h, out=h)
    h += 1
    np.reciprocal(h, out=h)


_FORWARD = {"relu": _np_relu, "tanh": _np_tanh, "sigmoid": _np_sigmoid}


# Per-model caches, kept outside the modules so that pickling (spawned sampler workers) or
# deep-copying (target networks) a model never carries NumPy views of its parameters.
_PLAIN_LAYERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_HOST_LAYERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _global_hooks() -> bool:
    return bool(_module._global_forward_hooks or _module._global_forward_pre_hooks)


def plain_layers(mlp: torch.nn.Module) -> list[tuple[torch.nn.Linear, str | None]] | None:
    """``[(linear, activation kind after it or None), ...]`` for an ``MlpModel`` made of plain
    layers without hooks (checked at every call: hooks may be added any time), else ``None``."""
    if mlp._forward_hooks or mlp._forward_pre_hooks or _global_hooks():
        return None
    modules = tuple(mlp._modules["model"]._modules.values())
    cache = _PLAIN_LAYERS.get(mlp)
    if cache is None or cache[0] != modules:
        cache = _PLAIN_LAYERS[mlp] = (modules, _resolve(modules))
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


class _Layer:
    """One layer's parameters and their NumPy views (``weight_t`` is ``weight.T``)."""

    __slots__ = ("weight", "bias", "weight_np", "weight_t", "bias_np", "act")

    def __init__(self, linear: torch.nn.Linear, act: str | None) -> None:
        self.weight = linear._parameters["weight"]
        self.bias = linear._parameters.get("bias")
        self.weight_np = self.weight.detach().numpy()
        self.weight_t = self.weight_np.T
        self.bias_np = None if self.bias is None else self.bias.detach().numpy()
        self.act = act


def _host_layers(mlp: torch.nn.Module) -> tuple[int, list[_Layer]] | None:
    """``(max in * out, layers)`` with NumPy views of the parameters, or ``None``."""
    layers = plain_layers(mlp)
    if layers is None:
        return None
    # The views keep their parameters' storage alive, so equal addresses mean the same
    # tensors; a parameter replaced or moved (``.to``, ``.double()``) rebuilds them.
    params = [p for linear, _ in layers for p in linear._parameters.values() if p is not None]
    cache = _HOST_LAYERS.get(mlp)
    if cache is None or cache[1] is not layers or cache[0] != [p.data_ptr() for p in params]:
        ptrs = [p.data_ptr() for p in params]
        ok = all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params)
        host = None
        if ok:
            entries = [_Layer(linear, act) for linear, act in layers]
            host = (max(e.weight_np.size for e in entries), entries)
        cache = _HOST_LAYERS[mlp] = (ptrs, layers, host)
    return cache[2]


def host_forward(
    mlp: torch.nn.Module, x: np.ndarray, saved: list | None = None
) -> np.ndarray | None:
    """The MLP on NumPy input ``x [N, input_size]`` float32, in NumPy on views of the
    parameters (no copies: optimizer steps and ``load_state_dict`` show at once).

    Args:
        mlp: an ``MlpModel``.
        x: the input; not modified.
        saved: a list to receive what :func:`host_backward` needs (for updates), or ``None``.

    Returns:
        ``[N, output_size]`` float32, or ``None`` where the model or batch is not served.
    """
    host = _host_layers(mlp)
    if host is None or x.shape[0] * host[0] > HOST_MAX_FLOPS:
        return None
    layers = host[1]
    outputs = [x]
    h = x
    for layer in layers:
        h = h @ layer.weight_t
        if layer.bias_np is not None:
            h += layer.bias_np
        if layer.act is not None:
            _FORWARD[layer.act](h)
        outputs.append(h)
    if saved is not None:
        saved[:] = [layers, outputs]
    return h


def host_backward(saved: list, grad_out: np.ndarray) -> list[tuple[torch.Tensor, np.ndarray]]:
    """Gradients of the parameters from the gradient of :func:`host_forward`'s output.

    Args:
        saved: the list filled by ``host_forward(..., saved=...)``.
        grad_out: ``[N, output_size]``; not modified.

    Returns:
        ``[(parameter, gradient array), ...]`` for every parameter that requires grad (e.g.
        ``parameter.grad = torch.from_numpy(gradient)``).
    """
    layers, outputs = saved
    g = grad_out
    owned = False  # g may be changed in place (not the caller's array)
    grads: list[tuple[torch.Tensor, np.ndarray]] = []
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if layer.act is not None:  # g * act'(z), from the activation's output h = act(z)
            h = outputs[i + 1]
            if not owned:
                g = g.copy()
                owned = True
            if layer.act == "relu":
                g *= h > 0
            elif layer.act == "tanh":
                g *= 1 - h * h
            else:
                g *= h * (1 - h)
        if layer.bias is not None and layer.bias.requires_grad:
            grads.append((layer.bias, g.sum(axis=0)))
        if layer.weight.requires_grad:
            grads.append((layer.weight, g.T @ outputs[i]))
        if i > 0:
            g = g @ layer.weight_np
            owned = True
    return grads
