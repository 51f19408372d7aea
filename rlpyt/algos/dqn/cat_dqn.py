"""Categorical DQN (C51, Bellemare et al. 2017): learns return distributions on a fixed support;
with Double DQN, dueling heads, prioritized replay, n-step returns and noisy nets it is Rainbow."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.algos.dqn.dqn import DQN
from rlpyt.utils.tensor import select_at_indexes, valid_mean

__all__ = ["CategoricalDQN", "project_distribution"]

_LOG_EPS = 1e-6  # probabilities are clamped before the log (a softmax can underflow to 0)


def project_distribution(
    target_p: torch.Tensor,
    return_: torch.Tensor,
    bootstrap_discount: torch.Tensor | float,
    z: torch.Tensor,
) -> torch.Tensor:
    """Project the distribution of ``return_ + bootstrap_discount * Z`` onto the atoms ``z``.

    The categorical projection of Bellemare et al. 2017 (Algorithm 1): each shifted atom
    ``Tz_j = return_ + bootstrap_discount * z_j``, clipped to ``[z_0, z_-1]``, lies at the
    fractional index ``b_j = (Tz_j - z_0) / delta_z``; its probability is split between the
    neighbouring atoms ``floor(b_j)`` and ``floor(b_j) + 1`` in proportion to closeness. A
    ``b_j`` exactly on an atom (including both edges) gives that atom all of its mass.
    Vectorised with two ``scatter_add_`` over the atoms.

    Args:
        target_p: ``[B, n_atoms]`` probabilities of the bootstrap distribution.
        return_: ``[B]`` (n-step) returns.
        bootstrap_discount: ``[B]`` or scalar factor of the bootstrap; pass 0 where the
            episode terminated (then all mass lands at ``return_``, clipped).
        z: ``[n_atoms]`` evenly spaced atoms, increasing.

    Returns:
        ``[B, n_atoms]`` projected probabilities (each row sums to the row sum of
        ``target_p``).
    """
    n_atoms = z.shape[0]
    V_min, V_max = z[0], z[-1]
    delta_z = (V_max - V_min) / (n_atoms - 1)
    discount = torch.as_tensor(bootstrap_discount, dtype=z.dtype, device=z.device)
    if discount.dim():
        discount = discount.unsqueeze(-1)
    Tz = return_.to(z.dtype).unsqueeze(-1) + discount * z  # [B, n_atoms]
    b = ((Tz.clamp(V_min, V_max) - V_min) / delta_z).clamp(0, n_atoms - 1)
    lower = b.floor()
    upper_weight = b - lower  # 0 when b sits on an atom: all mass stays at `lower`
    lower = lower.long()
    upper = (lower + 1).clamp(max=n_atoms - 1)  # at the top edge its weight is 0 anyway
    target_p = target_p.to(z.dtype)
    projected = torch.zeros_like(target_p)
    projected.scatter_add_(-1, lower, target_p * (1 - upper_weight))
    projected.scatter_add_(-1, upper, target_p * upper_weight)
    return projected


class CategoricalDQN(DQN):
    """Distributional DQN on ``n_atoms`` atoms ``z = linspace(V_min, V_max, n_atoms)``.

    The agent (``CatDqnAgent``) returns per-action probabilities ``p [.., A, n_atoms]``;
    :meth:`initialize` hands it the support (``agent.give_V_min_max``). Everything else is
    DQN's: replay (uniform or prioritized, n-step, time-limit aware), update loop, target
    network, schedules. The target distribution is the bootstrap distribution at
    ``s_{t+n}`` for the action ``a*`` (``argmax`` of the target network's expected values,
    or of the online network's with ``double_dqn``), shifted by the n-step return, scaled by
    ``discount**n`` (0 after a termination; the time-limit batch's ``bootstrap_discount``
    after a truncation) and projected back onto the atoms (:func:`project_distribution`).

    Loss: the cross-entropy ``-sum_i m_i log p_i(s_t, a_t)`` of the projected target ``m``
    (the KL divergence up to a constant), weighted by importance weights under prioritized
    replay. Priorities (and the ``tdAbsErr`` diagnostic) are the per-sample KL divergence
    ``KL(m || p)``, as in Rainbow (Hessel et al. 2018). Timeout steps of time-limit batches
    are left out of the loss, as in DQN.

    Rainbow: ``CategoricalDQN(double_dqn=True, prioritized_replay=True, n_step_return=3)``
    with ``AtariCatDqnAgent(model_kwargs=dict(dueling=True, noisy=True), eps_init=0,
    eps_final=0, eps_eval=0)`` (the noisy layers explore; DQN's loop redraws their noise
    before every update).

    Args:
        V_min, V_max: the lowest and highest atom.
        **kwargs: DQN's arguments (``discount``, ``batch_size``, ``double_dqn``, ...).
            ``delta_clip`` is unused (the loss is a cross-entropy).
    """

    def __init__(self, V_min: float = -10, V_max: float = 10, **kwargs: Any) -> None:
        if not V_max > V_min:
            raise ValueError(f"CategoricalDQN: need V_max > V_min; got {V_min}, {V_max}")
        super().__init__(**kwargs)
        self.V_min = V_min
        self.V_max = V_max

    def initialize(self, agent: Any, *args: Any, **kwargs: Any) -> None:
        """Give the agent the support, then as ``DQN.initialize``."""
        agent.give_V_min_max(self.V_min, self.V_max)
        super().initialize(agent, *args, **kwargs)

    def async_initialize(self, agent: Any, *args: Any, **kwargs: Any) -> Any:
        """Give the agent the support, then as ``DQN.async_initialize``."""
        agent.give_V_min_max(self.V_min, self.V_max)
        return super().async_initialize(agent, *args, **kwargs)

    def atoms(self, like: torch.Tensor) -> torch.Tensor:
        """``z``, ``[n_atoms]``, on ``like``'s device (float32)."""
        return torch.linspace(self.V_min, self.V_max, like.shape[-1], device=like.device)

    def target_distribution(self, batch: Any, z: torch.Tensor) -> torch.Tensor:
        """The projected target ``m``, ``[batch_B, n_atoms]``, without grad."""
        target_inputs = batch.target_inputs
        target_ps = self.agent.target(*target_inputs)  # [B, A, n_atoms]
        chooser_ps = self.agent(*target_inputs) if self.double_dqn else target_ps
        next_action = torch.argmax(torch.tensordot(chooser_ps, z, dims=1), dim=-1)
        target_p = select_at_indexes(next_action, target_ps)
        not_done = 1 - batch.done_n.to(z.dtype)
        discount = self._bootstrap_discount(batch)
        if isinstance(discount, torch.Tensor):
            discount = discount.to(z.dtype)
        return project_distribution(target_p, batch.return_, not_done * discount, z)

    def loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy loss and per-sample KL divergences of one replay batch.

        Returns:
            ``(loss, kl)``: a scalar with grad, and ``[batch_B]`` ``KL(m || p)`` without grad
            (priorities and the ``tdAbsErr`` diagnostic).
        """
        ps = self.agent(*batch.agent_inputs)  # [B, A, n_atoms]
        p = select_at_indexes(batch.action, ps)  # [B, n_atoms]
        z = self.atoms(p)
        with torch.no_grad():
            m = self.target_distribution(batch, z)
        log_p = torch.log(p.clamp(min=_LOG_EPS))
        losses = -torch.sum(m * log_p, dim=-1)
        with torch.no_grad():
            kl = torch.sum(m * (torch.log(m.clamp(min=_LOG_EPS)) - log_p), dim=-1).clamp(min=0)
        if self.prioritized_replay:
            losses = losses * batch.is_weights
        return valid_mean(losses, self._valid(batch)), kl
