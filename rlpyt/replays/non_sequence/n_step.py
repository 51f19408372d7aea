"""Batches of single steps with n-step targets: the ``SamplesFromReplay`` family."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.agents.base import AgentInputs
from rlpyt.replays.storage import ring_gather
from rlpyt.utils.collections import namedarraytuple

__all__ = [
    "SamplesFromReplay",
    "SamplesFromReplayPri",
    "SamplesFromReplayPriTL",
    "SamplesFromReplayTL",
    "extract_batch",
]

SamplesFromReplay = namedarraytuple(
    "SamplesFromReplay",
    ["agent_inputs", "action", "return_", "done", "done_n", "target_inputs"],
)
"""A batch of ``batch_B`` sampled steps ``t`` (torch tensors, leading dim ``[batch_B]``):

* ``agent_inputs``: ``AgentInputs(observation[t], prev_action, prev_reward)``, where
  ``prev_action``/``prev_reward`` are those of step ``t - 1``, or zero if step ``t - 1`` was
  ``done`` (what the sampler fed the agent after a reset);
* ``action``: ``action[t]``;
* ``return_``: the n-step return from ``t`` (float, reward's dtype or float32);
* ``done``: ``done[t]``; ``done_n``: the episode ended within the n steps (no bootstrap);
* ``target_inputs``: ``AgentInputs`` of step ``t + n_step_return`` (the bootstrap state).

The Q-learning target is ``return_ + (1 - done_n) * discount**n_step_return * Q(target)``.
"""

SamplesFromReplayPri = namedarraytuple(
    "SamplesFromReplayPri", SamplesFromReplay._fields + ("is_weights",)
)
"""``SamplesFromReplay`` plus ``is_weights: [batch_B] float32``, importance-sampling weights
normalised to a maximum of 1 within the batch."""

SamplesFromReplayTL = namedarraytuple(
    "SamplesFromReplayTL",
    SamplesFromReplay._fields + ("timeout", "timeout_n", "bootstrap_discount"),
)
"""Time-limit-aware batch (``Tl...`` buffers; see ``rlpyt.replays.n_step``):

* ``target_inputs`` are those of step ``t + k``, where ``k = n_step_return`` unless a timeout
  at step ``t + k`` (``1 <= k < n``) cut the window;
* ``timeout``: step ``t`` is itself a timeout: it has no target, drop it from the loss
  (``valid = 1 - timeout``);
* ``timeout_n``: a timeout cut the window (``return_`` sums ``k`` rewards, ``done_n`` is 0);
* ``bootstrap_discount: float32 = discount**k``, the factor of the bootstrap value:
  ``return_ + (1 - done_n) * bootstrap_discount * Q(target)``.
"""

SamplesFromReplayPriTL = namedarraytuple(
    "SamplesFromReplayPriTL", SamplesFromReplayTL._fields + ("is_weights",)
)
"""``SamplesFromReplayTL`` plus ``is_weights``."""


def agent_inputs_at(buffer: Any, steps: np.ndarray, B_idxs: np.ndarray) -> AgentInputs:
    """``AgentInputs`` at ring rows ``steps`` of envs ``B_idxs`` (NumPy copies).

    ``prev_action`` and ``prev_reward`` come from the step before, zeroed where that step was
    ``done`` (the sampler restarts them at null/0 after a reset).
    """
    s = buffer.samples
    observation = buffer.observations.extract(steps, B_idxs, s.done)
    prev = (steps - 1) % buffer.T
    prev_action = ring_gather(s.action, prev, B_idxs)
    prev_reward = s.reward[prev, B_idxs]
    reset = s.done[prev, B_idxs].astype(bool)
    if np.count_nonzero(reset):
        prev_action[reset] = 0
        prev_reward[reset] = 0
    return AgentInputs(observation, prev_action, prev_reward)


def extract_batch(
    buffer: Any, T_idxs: np.ndarray, B_idxs: np.ndarray, is_weights: np.ndarray | None = None
) -> Any:
    """Gather the batch of steps ``(T_idxs[i], B_idxs[i])`` (ring rows, env indexes).

    Returns:
        ``SamplesFromReplay`` (``...Pri`` with ``is_weights``, ``...TL`` for time-limit-aware
        buffers) of NumPy arrays, leading dim ``[batch_B]``.
    """
    s, ns = buffer.samples, buffer.n_step
    if buffer.time_limit:
        n_eff = ns.n_eff[T_idxs, B_idxs]
        target = (T_idxs + n_eff) % buffer.T
    else:
        target = (T_idxs + buffer.n_step_return) % buffer.T
    # One gather for the inputs at both steps: one allocation instead of two, which keeps
    # the C allocator from returning the memory to the OS (and faulting it back in) each call.
    both = agent_inputs_at(buffer, np.stack([T_idxs, target]), B_idxs[None, :])
    fields = dict(
        agent_inputs=both[0],
        action=ring_gather(s.action, T_idxs, B_idxs),
        return_=ns.return_[T_idxs, B_idxs],
        done=s.done[T_idxs, B_idxs],
        done_n=ns.done_n[T_idxs, B_idxs],
        target_inputs=both[1],
    )
    if buffer.time_limit:
        fields.update(
            timeout=s.timeout[T_idxs, B_idxs],
            timeout_n=ns.timeout_n[T_idxs, B_idxs],
            bootstrap_discount=ns.discount_powers[n_eff],
        )
        Cls = SamplesFromReplayTL if is_weights is None else SamplesFromReplayPriTL
    else:
        Cls = SamplesFromReplay if is_weights is None else SamplesFromReplayPri
    if is_weights is not None:
        fields["is_weights"] = is_weights
    return Cls(**fields)
