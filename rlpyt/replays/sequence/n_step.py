"""Batches of sequences with n-step targets and initial RNN states (R2D1)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.replays.storage import ring_gather
from rlpyt.utils.collections import namedarraytuple

__all__ = ["SamplesFromReplay", "SamplesFromReplayPri", "extract_sequence_batch"]

SamplesFromReplay = namedarraytuple(
    "SamplesFromReplay",
    ["all_observation", "all_action", "all_reward", "return_", "done", "done_n", "init_rnn_state"],
)
"""A batch of ``batch_B`` sequences starting at steps ``s`` (torch tensors, time-major). With
``L = batch_T + n_step_return``:

* ``all_observation: [L, batch_B, ...]``: observations of steps ``s .. s + L - 1``, enough for
  the agent (the first ``batch_T``) and the n-step targets (``t + n`` for each of them);
* ``all_action: [L, batch_B, ...]``: actions of steps ``s - 1 .. s + L - 2``, so
  ``all_action[k]`` is the ``prev_action`` of sequence step ``k`` and ``all_action[k + 1]``
  the action taken at it;
* ``all_reward: [L, batch_B]``: rewards of steps ``s - 1 .. s + L - 2`` (``prev_reward``);
* ``return_``, ``done``, ``done_n``: ``[batch_T, batch_B]``, the n-step returns, done flags
  and n-step done flags of steps ``s .. s + batch_T - 1``;
* ``init_rnn_state``: the stored ``prev_rnn_state`` of step ``s``, batch-major as stored
  (``[batch_B, N_layers, H]`` per leaf; transpose to ``[N, B, H]`` for cuDNN), or ``None``
  for buffers built with ``rnn_state_interval=0``.

Unlike single-step batches, ``all_action``/``all_reward`` are not zeroed after a ``done``
(they double as the actions taken); recurrent algorithms mask the steps after a ``done``
(``valid_from_done(done)``).
"""

SamplesFromReplayPri = namedarraytuple(
    "SamplesFromReplayPri", SamplesFromReplay._fields + ("is_weights",)
)
"""Sequence ``SamplesFromReplay`` plus ``is_weights: [batch_B] float32`` (one per sequence)."""


def extract_sequence_batch(
    buffer: Any,
    T_idxs: np.ndarray,
    B_idxs: np.ndarray,
    batch_T: int,
    is_weights: np.ndarray | None = None,
) -> Any:
    """Gather sequences starting at ring rows ``T_idxs`` of envs ``B_idxs``.

    One fancy-index gather per field for the whole batch (time indexes wrap around the ring).

    Returns:
        Sequence ``SamplesFromReplay`` (``...Pri`` with ``is_weights``) of NumPy arrays.
    """
    s, ns, T = buffer.samples, buffer.n_step, buffer.T
    L = batch_T + buffer.n_step_return
    steps = (T_idxs[None, :] + np.arange(L)[:, None]) % T  # [L, batch_B]
    b = B_idxs[None, :]
    prev = (steps - 1) % T
    train = steps[:batch_T]
    init_rnn_state = None
    if buffer.rnn_states is not None:
        init_rnn_state = ring_gather(buffer.rnn_states, T_idxs // buffer.unit, B_idxs)
    fields = dict(
        all_observation=buffer.observations.extract(steps, b, s.done),
        all_action=ring_gather(s.action, prev, b),
        all_reward=s.reward[prev, b],
        return_=ns.return_[train, b],
        done=s.done[train, b],
        done_n=ns.done_n[train, b],
        init_rnn_state=init_rnn_state,
    )
    if is_weights is None:
        return SamplesFromReplay(**fields)
    return SamplesFromReplayPri(**fields, is_weights=is_weights)
