"""Model helpers: the `RnnState` type, conv output shapes, gradient scaling, state-dict updates."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import torch

from rlpyt.utils.collections import namedarraytuple

RnnState = namedarraytuple("RnnState", ["h", "c"])
"""``RnnState(h, c)``: LSTM hidden and cell state, each ``[N_layers, B, H]`` on the model side.

Agents store it batch-major (``[B, N_layers, H]``) in ``agent_info.prev_rnn_state``; algorithms
transpose the first time step back to ``[N_layers, B, H]`` for ``init_rnn_state``.
"""

_DDP_PREFIX = "module."


def conv2d_output_shape(
    h: int,
    w: int,
    kernel_size: int | tuple[int, int] = 1,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> tuple[int, int]:
    """Height and width after a ``Conv2d`` or ``MaxPool2d`` with these settings.

    Examples:
        >>> conv2d_output_shape(84, 84, kernel_size=8, stride=4)
        (20, 20)
    """
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return h, w


def _pair(x: int | tuple[int, int]) -> tuple[int, int]:
    return (x, x) if isinstance(x, int) else (int(x[0]), int(x[1]))


class ScaleGrad(torch.autograd.Function):
    """Identity on the forward pass; multiplies the gradient by ``scale`` on the way back.

    Used to damp the gradient that a shared trunk receives from one of several heads (e.g. the
    dueling DQN trunk, scaled by ``1/sqrt(2)``). Call it as :func:`scale_grad`.
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return grad_output * ctx.scale, None


def scale_grad(tensor: torch.Tensor, scale: float) -> torch.Tensor:
    """``tensor`` unchanged, with its incoming gradient multiplied by ``scale``."""
    return ScaleGrad.apply(tensor, scale)


def strip_ddp_state_dict(state_dict: Mapping[str, torch.Tensor]) -> OrderedDict:
    """Drop the ``module.`` prefix that ``DistributedDataParallel`` puts on every key.

    Keys without the prefix are kept as they are, so this is safe on any state dict.
    """
    n = len(_DDP_PREFIX)
    return OrderedDict(
        (k[n:] if k.startswith(_DDP_PREFIX) else k, v) for k, v in state_dict.items()
    )


def update_state_dict(
    model: torch.nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    tau: float = 1,
    strip_ddp: bool = True,
) -> None:
    """Load ``state_dict`` into ``model``, or move ``model`` a fraction ``tau`` towards it.

    Algorithms call this to update target networks: ``tau=1`` copies, ``0 < tau < 1`` does a
    Polyak (soft) update ``p <- tau * new + (1 - tau) * p`` in place on floating-point entries
    (integer buffers, e.g. counters, are copied).

    Args:
        model: the module to update (e.g. a target network).
        state_dict: the source parameters (e.g. ``agent.state_dict()`` of the online network).
        tau: interpolation factor in ``[0, 1]``.
        strip_ddp: remove ``module.`` prefixes from ``state_dict`` keys first.
    """
    if strip_ddp:
        state_dict = strip_ddp_state_dict(state_dict)
    if tau == 1:
        model.load_state_dict(state_dict)
        return
    own = model.state_dict()
    missing = own.keys() - state_dict.keys()
    if missing:
        raise KeyError(f"update_state_dict: state_dict lacks keys {sorted(missing)}")
    with torch.no_grad():
        for key, target in own.items():
            source = state_dict[key].to(target.device)
            if target.is_floating_point():
                target.lerp_(source.to(target.dtype), tau)
            else:
                target.copy_(source)


def run_lstm(
    lstm: torch.nn.LSTM,
    features: torch.Tensor,
    prev_action: torch.Tensor,
    prev_reward: torch.Tensor,
    T: int,
    B: int,
    init_rnn_state: RnnState | None,
) -> tuple[torch.Tensor, RnnState]:
    """Run ``lstm`` over T steps on ``[features, prev_action, prev_reward]``.

    The shared core of the recurrent policy models: they encode each observation into
    ``features``, then the LSTM sees those concatenated with the previous action (one-hot for
    discrete actions) and previous reward, time-major.

    Args:
        lstm: a single-direction, time-major ``torch.nn.LSTM``.
        features: ``[T * B, F]`` encoded observations.
        prev_action: ``T * B`` rows of ``A`` entries in any ``[..., A]`` layout.
        prev_reward: ``T * B`` entries in any layout.
        T, B: leading dims.
        init_rnn_state: ``RnnState(h, c)``, each ``[N_layers, B, H]``, or ``None`` for zeros.

    Returns:
        ``(out [T * B, H], RnnState(h, c) [N_layers, B, H])``.
    """
    dtype = features.dtype
    lstm_input = torch.cat(
        [
            features.reshape(T, B, -1),
            prev_action.reshape(T, B, -1).to(dtype),
            prev_reward.reshape(T, B, 1).to(dtype),
        ],
        dim=2,
    )
    init = None if init_rnn_state is None else (init_rnn_state.h, init_rnn_state.c)
    out, (h, c) = lstm(lstm_input, init)
    return out.reshape(T * B, -1), RnnState(h=h, c=c)
