"""Return, advantage and n-step targets: pure, time-major ``[T, B]`` torch functions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = [
    "discount_return",
    "generalized_advantage_estimation",
    "discount_return_n_step",
    "valid_from_done",
    "discount_return_tl",
    "generalized_advantage_estimation_tl",
    "replay_target_factors",
    "replay_target_factors_numpy",
]

# Every function here takes time-major data: leading dim T (time), then optionally B
# (environments). Only the recursion over T is a Python loop (NumPy on the CPU, one
# `torch.addcmul` per step elsewhere or with autograd); all else is computed for every step at once.


_NUMPY_DTYPES = (torch.float32, torch.float64)


def _float(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` (bool, int or float) as ``like``'s floating dtype and device."""
    return x.to(dtype=like.dtype, device=like.device)


def _bootstrap(bootstrap_value: torch.Tensor | float, reward: torch.Tensor) -> torch.Tensor:
    """``bootstrap_value`` (``[B]``, ``[1, B]``, ``[]`` or ``[1]``) shaped like ``reward[0]``."""
    bv = torch.as_tensor(bootstrap_value, dtype=reward.dtype, device=reward.device)
    return bv.reshape(reward.shape[1:])


def _out(dest: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(like) if dest is None else dest


def _backward_recursion(
    base: torch.Tensor, coeff: torch.Tensor, last: torch.Tensor, out: torch.Tensor
) -> torch.Tensor:
    """Fill ``out[t] = base[t] + coeff[t] * out[t + 1]`` backwards, with ``out[T] = last``."""
    T = base.shape[0]
    if (
        out.device.type == "cpu"
        and base.dtype in _NUMPY_DTYPES
        and not (base.requires_grad or coeff.requires_grad or last.requires_grad)
    ):
        # On the CPU, NumPy's per-call overhead is a fraction of torch's, and the loop is all
        # per-call overhead for [B]-sized steps: about 5x faster at T=128, B=8.
        b = base.detach().numpy().reshape(T, -1)
        c = torch.broadcast_to(coeff, base.shape).detach().numpy().reshape(T, -1)
        nxt = torch.broadcast_to(last, base.shape[1:]).detach().numpy().reshape(-1)
        res = np.empty_like(b)
        for t in range(T - 1, -1, -1):
            np.multiply(c[t], nxt, out=res[t])
            np.add(res[t], b[t], out=res[t])
            nxt = res[t]
        return out.copy_(torch.from_numpy(res).reshape(out.shape))
    rows = []
    for t in range(T - 1, -1, -1):
        last = torch.addcmul(base[t], coeff[t], last)
        rows.append(last)
    rows.reverse()
    return out.copy_(torch.stack(rows))


def discount_return(
    reward: torch.Tensor,
    done: torch.Tensor,
    bootstrap_value: torch.Tensor | float,
    discount: float,
    return_dest: torch.Tensor | None = None,
) -> torch.Tensor:
    """Discounted returns, bootstrapped after the last step, cut at every ``done``.

    ``return_[t] = reward[t] + discount * (1 - done[t]) * return_[t + 1]`` with
    ``return_[T] = bootstrap_value``. A ``done`` step keeps its own reward but nothing after
    it (termination; see :func:`discount_return_tl` for time-limit truncation).

    Args:
        reward: ``[T, B]`` (or ``[T]``) float.
        done: ``[T, B]`` bool or numeric, 1 where the episode ended at that step.
        bootstrap_value: ``[B]`` or ``[1, B]`` (``[]`` or ``[1]`` for ``[T]`` data), the value
            of the observation after the last step.
        discount: the discount factor gamma.
        return_dest: optional ``[T, B]`` output tensor, written in place.

    Returns:
        ``return_``: ``[T, B]``, ``reward``'s dtype.
    """
    coeff = discount * (1 - _float(done, reward))
    bv = _bootstrap(bootstrap_value, reward)
    return _backward_recursion(reward, coeff, bv, _out(return_dest, reward))


def generalized_advantage_estimation(
    reward: torch.Tensor,
    value: torch.Tensor,
    done: torch.Tensor,
    bootstrap_value: torch.Tensor | float,
    discount: float,
    gae_lambda: float,
    advantage_dest: torch.Tensor | None = None,
    return_dest: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation (Schulman et al. 2016, arXiv:1506.02438, eq. 16).

    With ``nd = 1 - done`` and ``value[T] = bootstrap_value``:
    ``delta[t] = reward[t] + discount * nd[t] * value[t + 1] - value[t]`` and
    ``advantage[t] = delta[t] + discount * gae_lambda * nd[t] * advantage[t + 1]``;
    ``return_ = advantage + value`` (the lambda-return, the value target).
    ``gae_lambda=1`` gives ``discount_return(...) - value``; ``gae_lambda=0`` gives ``delta``.

    Args:
        reward: ``[T, B]`` float.
        value: ``[T, B]`` float, value estimates of the observations at each step.
        done: ``[T, B]`` bool or numeric.
        bootstrap_value: ``[B]`` or ``[1, B]``, value of the observation after the last step.
        discount: gamma.
        gae_lambda: lambda in [0, 1].
        advantage_dest: optional ``[T, B]`` output for the advantages.
        return_dest: optional ``[T, B]`` output for the returns.

    Returns:
        ``(advantage, return_)``, each ``[T, B]``.
    """
    nd = 1 - _float(done, reward)
    bv = _bootstrap(bootstrap_value, reward)
    next_value = torch.cat([value[1:], bv.unsqueeze(0)], dim=0)
    delta = reward + discount * nd * next_value - value
    advantage = _backward_recursion(
        delta, (discount * gae_lambda) * nd, torch.zeros_like(bv), _out(advantage_dest, reward)
    )
    return_ = advantage + value
    return advantage, return_ if return_dest is None else return_dest.copy_(return_)


def discount_return_n_step(
    reward: torch.Tensor,
    done: torch.Tensor,
    n_step: int,
    discount: float,
    return_dest: torch.Tensor | None = None,
    done_n_dest: torch.Tensor | None = None,
    do_truncated: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n-step discounted reward sums within the batch, cut at ``done`` (for n-step Q-learning).

    ``return_[t] = sum_{k<n} discount**k * reward[t + k] * prod_{j<k} (1 - done[t + j])`` and
    ``done_n[t] = max(done[t : t + n])``: whether the episode ended within the n steps (then
    the caller must not bootstrap). No value bootstrap is added here.

    Args:
        reward: ``[T, B]`` float.
        done: ``[T, B]`` bool or numeric.
        n_step: n >= 1.
        discount: gamma.
        return_dest: optional output, ``[T - n + 1, B]`` (``[T, B]`` with ``do_truncated``).
        done_n_dest: optional output of the same shape, ``done``'s dtype.
        do_truncated: also compute the last ``n - 1`` entries, whose sums are truncated at the
            end of the batch (fewer than n rewards); otherwise those entries are left out.

    Returns:
        ``(return_, done_n)``: ``[T - n + 1, B]`` each (``[T, B]`` with ``do_truncated``);
        ``return_`` in ``reward``'s dtype, ``done_n`` in ``done``'s dtype.
    """
    if n_step < 1:
        raise ValueError(f"n_step must be >= 1; got {n_step}.")
    T = reward.shape[0]
    rlen = T if do_truncated else T - (n_step - 1)
    if rlen < 1:
        raise ValueError(f"n_step={n_step} is longer than the batch (T={T}).")
    donef = _float(done, reward)
    return_ = reward[:rlen].clone() if return_dest is None else return_dest.copy_(reward[:rlen])
    done_n = donef[:rlen].clone()
    for n in range(1, n_step):
        length = min(rlen, T - n)  # shorter than rlen only for the truncated tail
        return_[:length].addcmul_(reward[n : n + length], 1 - done_n[:length], value=discount**n)
        torch.maximum(done_n[:length], donef[n : n + length], out=done_n[:length])
    done_n = done_n.to(done.dtype)
    if done_n_dest is not None:
        return return_, done_n_dest.copy_(done_n)
    return return_, done_n


def valid_from_done(done: torch.Tensor) -> torch.Tensor:
    """Mask of the steps up to and including the first ``done`` of each column.

    ``valid[0] = 1`` and ``valid[t] = 1 - max(done[:t])``. Used when data after an episode's
    end within the batch must be ignored: WaitReset collectors freeze a finished env until the
    batch ends, and recurrent training runs each column as one sequence with no state reset.

    Args:
        done: ``[T, B]`` (or ``[T]``) bool or numeric.

    Returns:
        ``valid``: ``[T, B]`` float (``done``'s dtype if floating, else float32).
    """
    dtype = done.dtype if done.is_floating_point() else torch.float32
    ended = torch.cumsum(done[:-1].to(torch.int64) != 0, dim=0) > 0
    valid = torch.ones(done.shape, dtype=dtype, device=done.device)
    valid[1:] = 1 - ended.to(dtype)
    return valid


# Time-limit-aware versions (Pardo et al. 2018, "Time Limits in Reinforcement Learning",
# arXiv:1712.00378). A step with `timeout[t] = 1` ended by truncation (a time limit), not by
# termination, so the state there still has a future. The sampler has already reset the env,
# so the observation that followed it is lost. The best available estimate of the return from
# that step on is the value of the state at the step itself, `value[t]`: earlier steps
# bootstrap through it rather than through zero. The timeout step itself has no valid target
# (its own successor is lost), so algorithms must drop it from the loss: valid *= 1 - timeout.


def discount_return_tl(
    reward: torch.Tensor,
    done: torch.Tensor,
    bootstrap_value: torch.Tensor | float,
    discount: float,
    timeout: torch.Tensor,
    value: torch.Tensor,
    return_dest: torch.Tensor | None = None,
) -> torch.Tensor:
    """Discounted returns that bootstrap through time-limit truncations.

    As :func:`discount_return`, except at a step with ``timeout[t] = 1``: there
    ``return_[t] = value[t]``, so step ``t - 1`` gets
    ``reward[t - 1] + discount * value[t]`` (a bootstrap through the truncated state, not a
    zero). ``return_[t]`` at the timeout step is only a placeholder: exclude that step from the
    loss (``valid *= 1 - timeout``). A ``done`` without ``timeout`` is a termination and cuts
    the return as usual. With ``timeout`` all zero this equals :func:`discount_return`.

    Args:
        reward: ``[T, B]`` float.
        done: ``[T, B]`` bool or numeric (``timeout`` implies ``done`` in sampled data).
        bootstrap_value: ``[B]`` or ``[1, B]``.
        discount: gamma.
        timeout: ``[T, B]`` bool or numeric, 1 where the episode was truncated at that step.
        value: ``[T, B]`` float, value estimates at each step.
        return_dest: optional ``[T, B]`` output.

    Returns:
        ``return_``: ``[T, B]``.
    """
    to = _float(timeout, reward)
    kept = 1 - to
    base = reward * kept + value * to  # value[t] at a timeout step, reward[t] elsewhere
    coeff = discount * (1 - _float(done, reward)) * kept
    bv = _bootstrap(bootstrap_value, reward)
    return _backward_recursion(base, coeff, bv, _out(return_dest, reward))


def generalized_advantage_estimation_tl(
    reward: torch.Tensor,
    value: torch.Tensor,
    done: torch.Tensor,
    bootstrap_value: torch.Tensor | float,
    discount: float,
    gae_lambda: float,
    timeout: torch.Tensor,
    advantage_dest: torch.Tensor | None = None,
    return_dest: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE that bootstraps through time-limit truncations.

    As :func:`generalized_advantage_estimation`, except at a step with ``timeout[t] = 1``:
    there ``advantage[t] = 0`` and ``return_[t] = value[t]``, so step ``t - 1`` (not done) gets
    ``delta[t - 1] = reward[t - 1] + discount * value[t] - value[t - 1]`` and nothing beyond:
    its lambda-return bootstraps through the truncated state. The timeout step's own entries
    are placeholders: exclude it from the loss (``valid *= 1 - timeout``). A ``done`` without
    ``timeout`` is a termination. With ``timeout`` all zero this equals the plain version.

    Args:
        reward: ``[T, B]`` float.
        value: ``[T, B]`` float.
        done: ``[T, B]`` bool or numeric.
        bootstrap_value: ``[B]`` or ``[1, B]``.
        discount: gamma.
        gae_lambda: lambda in [0, 1].
        timeout: ``[T, B]`` bool or numeric.
        advantage_dest: optional ``[T, B]`` output for the advantages.
        return_dest: optional ``[T, B]`` output for the returns.

    Returns:
        ``(advantage, return_)``, each ``[T, B]``.
    """
    kept = 1 - _float(timeout, reward)
    nd = 1 - _float(done, reward)
    bv = _bootstrap(bootstrap_value, reward)
    next_value = torch.cat([value[1:], bv.unsqueeze(0)], dim=0)
    delta = (reward + discount * nd * next_value - value) * kept
    advantage = _backward_recursion(
        delta,
        (discount * gae_lambda) * nd * kept,
        torch.zeros_like(bv),
        _out(advantage_dest, reward),
    )
    return_ = advantage + value
    return advantage, return_ if return_dest is None else return_dest.copy_(return_)


def replay_target_factors(
    samples: Any, discount: float, n_step_return: int, time_limit: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Bootstrap factors and batch-mean weights of a replay batch of single steps.

    The Q-learning target of sample ``i`` is ``return_[i] + bootstrap[i] * V(target_i)``,
    and its loss enters the batch mean with ``weight[i]``. Computed once per batch without
    grad, so the losses need neither ``done_n`` nor ``timeout`` (fewer ops per update).

    Args:
        samples: a ``SamplesFromReplay`` batch (torch leaves ``[batch_B]``); with
            ``time_limit``, a ``SamplesFromReplayTL`` (``timeout``, ``bootstrap_discount``).
        discount: gamma; n_step_return: n (used without ``time_limit``).
        time_limit: the batch comes from a time-limit-aware replay.

    Returns:
        ``(bootstrap, weight)``: ``bootstrap [batch_B] float32`` is 0 where the episode
        terminated within the window, else ``discount**k`` (``k = n_step_return``, or the
        length of a window cut by a time limit); ``weight [batch_B] float32`` is
        ``1 / n_valid`` for valid samples and 0 for timeout steps (whose stored successor
        belongs to the next episode), or ``None`` when every sample is valid (a plain mean).
    """
    if samples.done_n.device.type == "cpu":
        bootstrap, weight = replay_target_factors_numpy(
            samples, discount, n_step_return, time_limit
        )
        return torch.from_numpy(bootstrap), None if weight is None else torch.from_numpy(weight)
    return _replay_target_factors_torch(samples, discount, n_step_return, time_limit)


def _replay_target_factors_torch(
    samples: Any, discount: float, n_step_return: int, time_limit: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`replay_target_factors` in torch ops on the batch's device (no host sync)."""
    done_n = samples.done_n
    if done_n.dtype != torch.bool:
        done_n = done_n.to(torch.bool)
    if not time_limit:
        return torch.where(done_n, 0.0, float(discount) ** n_step_return), None
    bootstrap = torch.where(done_n, 0.0, samples.bootstrap_discount.to(torch.float32))
    valid = ~samples.timeout.to(torch.bool)
    weight = valid.to(torch.float32) / valid.sum().clamp(min=1)
    return bootstrap, weight


def replay_target_factors_numpy(
    samples: Any, discount: float, n_step_return: int, time_limit: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`replay_target_factors` in NumPy, for a batch of NumPy arrays (or CPU tensors):
    the same float32 values, for a few small-array ops at a fraction of torch's per-op cost."""
    done_n = np.asarray(samples.done_n).astype(bool, copy=False)
    zero = np.float32(0)
    if not time_limit:
        return np.where(done_n, zero, np.float32(float(discount) ** n_step_return)), None
    discounts = np.asarray(samples.bootstrap_discount).astype(np.float32, copy=False)
    bootstrap = np.where(done_n, zero, discounts)
    valid = ~np.asarray(samples.timeout).astype(bool, copy=False)
    weight = valid.astype(np.float32) / np.float32(max(int(np.count_nonzero(valid)), 1))
    return bootstrap, weight
