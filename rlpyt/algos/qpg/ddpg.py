"""DDPG (Lillicrap et al. 2016): a deterministic policy trained through a learned Q-function,
from a replay buffer, with Polyak-averaged target networks; the base of TD3."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import torch

from rlpyt.algos.optim import GradientStep
from rlpyt.algos.qpg.base import FastAdamStep, QpgAlgorithm, ReplayBatch

__all__ = ["DDPG", "OptInfo"]

OptInfo = namedtuple("OptInfo", ["muLoss", "qLoss", "muGradNorm", "qGradNorm"])
"""Diagnostics of one ``optimize_agent`` call, one entry per update (``mu...`` per policy
update): the policy loss ``-Q(s, mu(s))``, the critic loss (summed over twin critics), and
the gradient norms before clipping."""


class DDPG(QpgAlgorithm):
    """Deep deterministic policy gradient, with n-step returns and time-limit bootstrapping.

    Each update (see ``QpgAlgorithm`` for the replay and the update schedule):

    1. critic: minimise ``0.5 * (y - Q(s, a))**2`` with ``y = clip(return_ + bootstrap *
       Q'(s', mu'(s')), +-q_target_clip)`` (target networks ``Q'``, ``mu'``; ``bootstrap`` is
       ``discount**n``, 0 after a termination);
    2. every ``policy_update_interval`` updates, policy: maximise ``Q(s, mu(s))`` with the
       critic just updated (the backward pass computes no critic weight gradients);
    3. every ``target_update_interval`` updates: ``target <- target + tau * (online -
       target)`` for the policy and the critic(s).

    With twin critics (``Td3Agent``) the critic loss is the sum over both critics and ``Q'``
    is the smaller target value (see ``TD3``). Works with ``DdpgAgent`` (or any agent with
    its methods): ``q``, ``q_at_mu``, ``target_q_at_mu``, ``q_parameters``,
    ``mu_parameters``, ``update_target``.

    Args:
        discount: gamma.
        batch_size: transitions per update.
        min_steps_learn: env steps collected before the first update.
        replay_size: replay capacity in transitions.
        replay_ratio: average number of updates each transition takes part in.
        target_update_tau: Polyak rate of the target networks (1: copy).
        target_update_interval: updates between target updates.
        policy_update_interval: updates between policy updates.
        learning_rate: the policy's learning rate.
        q_learning_rate: the critic's learning rate.
        OptimCls, optim_kwargs: optimizer class and extra arguments (both optimizers; Adam
            gets the fused kernel unless told otherwise).
        initial_optim_state_dict: :meth:`optim_state_dict` output to load in
            :meth:`optim_initialize`.
        clip_grad_norm: max gradient norm of each optimizer's parameters per update.
        q_target_clip: clip of the critic target ``y``.
        n_step_return: n of the n-step returns.
        updates_per_sync: async runner: updates per ``optimize_agent`` call.
        bootstrap_timelimit: bootstrap through time-limit truncations (with envs that report
            ``env_info.timeout``); ``False`` treats them as terminations.
        ReplayBufferCls: replay class to use instead of the automatic choice (called with
            the same keyword arguments).
        compile_update: ``torch.compile`` the loss computations (off by default; see
            ``docs/qpg.md`` for when it pays).
    """

    opt_info_fields = tuple(OptInfo._fields)
    OptInfoCls = OptInfo

    def __init__(
        self,
        discount: float = 0.99,
        batch_size: int = 64,
        min_steps_learn: int = int(1e4),
        replay_size: int = int(1e6),
        replay_ratio: float = 64,
        target_update_tau: float = 0.01,
        target_update_interval: int = 1,
        policy_update_interval: int = 1,
        learning_rate: float = 1e-4,
        q_learning_rate: float = 1e-3,
        OptimCls: type[torch.optim.Optimizer] = torch.optim.Adam,
        optim_kwargs: dict | None = None,
        initial_optim_state_dict: dict | None = None,
        clip_grad_norm: float = 1e8,
        q_target_clip: float = 1e6,
        n_step_return: int = 1,
        updates_per_sync: int = 1,
        bootstrap_timelimit: bool = True,
        ReplayBufferCls: type | None = None,
        compile_update: bool = False,
    ) -> None:
        self._init_common(
            discount=discount,
            batch_size=batch_size,
            min_steps_learn=min_steps_learn,
            replay_size=replay_size,
            replay_ratio=replay_ratio,
            target_update_tau=target_update_tau,
            target_update_interval=target_update_interval,
            OptimCls=OptimCls,
            optim_kwargs=optim_kwargs,
            initial_optim_state_dict=initial_optim_state_dict,
            clip_grad_norm=clip_grad_norm,
            n_step_return=n_step_return,
            updates_per_sync=updates_per_sync,
            bootstrap_timelimit=bootstrap_timelimit,
            ReplayBufferCls=ReplayBufferCls,
            compile_update=compile_update,
        )
        if int(policy_update_interval) < 1:
            raise ValueError(
                f"{type(self).__name__}: policy_update_interval must be >= 1; "
                f"got {policy_update_interval!r}"
            )
        self.policy_update_interval = int(policy_update_interval)
        self.learning_rate = learning_rate
        self.q_learning_rate = q_learning_rate
        self.q_target_clip = q_target_clip

    def optim_initialize(self, rank: int = 0) -> None:
        """Build the policy and critic optimizers (one for all critics) and load
        ``initial_optim_state_dict``."""
        self.rank = rank
        agent = self.agent
        self._mu_params = list(agent.mu_parameters())
        self.mu_step = GradientStep(
            self.OptimCls, self._mu_params, self.learning_rate, self.optim_kwargs
        )
        self.q_step = GradientStep(
            self.OptimCls, list(agent.q_parameters()), self.q_learning_rate, self.optim_kwargs
        )
        self.mu_optimizer = self.mu_step.optimizer
        self.q_optimizer = self.q_step.optimizer
        self._mu_optim_step = FastAdamStep(self.mu_step)
        self._q_optim_step = FastAdamStep(self.q_step)
        self._q_loss_fn = self._maybe_compile(self.q_loss)
        self._mu_loss_fn = self._maybe_compile(self.mu_loss)
        if self.initial_optim_state_dict is not None:
            self.load_optim_state_dict(self.initial_optim_state_dict)

    # --- losses ----------------------------------------------------------------------------

    def critic_target(self, batch: ReplayBatch) -> torch.Tensor:
        """``y = clip(return_ + bootstrap * Q'(s', mu'(s')), +-q_target_clip)``, ``[batch_B]``,
        without grad (for twin critics, ``Q'`` is the smaller of the two target values)."""
        with torch.no_grad():
            target_q = self.agent.target_q_at_mu(*batch.target_inputs)
            if isinstance(target_q, tuple):
                target_q = torch.minimum(*target_q)
            y = torch.addcmul(batch.return_, batch.bootstrap, target_q)
            return y.clamp_(-self.q_target_clip, self.q_target_clip)

    def q_loss(self, batch: ReplayBatch) -> torch.Tensor:
        """``sum over critics of mean(0.5 * (y - Q(s, a))**2)`` over the valid samples."""
        y = self.critic_target(batch)
        q = self.agent.q(*batch.agent_inputs, batch.action)
        if isinstance(q, tuple):
            q = torch.stack(q)  # [n_critics, batch_B]
        losses = 0.5 * (y - q).square()
        if losses.dim() > 1:
            losses = losses.sum(0)
        return self.batch_mean(losses, batch.weight)

    def mu_loss(self, batch: ReplayBatch) -> torch.Tensor:
        """``-mean(Q(s, mu(s)))`` over the valid samples (of the first critic)."""
        return -self.batch_mean(self.agent.q_at_mu(*batch.agent_inputs), batch.weight)

    # --- update ----------------------------------------------------------------------------

    def update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        """Critic step, then (every ``policy_update_interval``) policy step, then (every
        ``target_update_interval``) target update; see the class docstring."""
        info = {}
        q_loss = self._q_loss_fn(batch)
        self.q_step.zero_grad()
        q_loss.backward()
        info["qGradNorm"] = self.q_step.clip_grad_norm(self.clip_grad_norm)
        self._q_optim_step()
        info["qLoss"] = q_loss.detach()
        self.update_counter += 1
        if self.update_counter % self.policy_update_interval == 0:
            mu_loss = self._mu_loss_fn(batch)
            self.mu_step.zero_grad()
            # Only the policy's gradients: the critic's weight gradients would be discarded.
            mu_loss.backward(inputs=self._mu_params)
            info["muGradNorm"] = self.mu_step.clip_grad_norm(self.clip_grad_norm)
            self._mu_optim_step()
            info["muLoss"] = mu_loss.detach()
        if self.update_counter % self.target_update_interval == 0:
            self.agent.update_target(self.target_update_tau)
        return info

    # --- state -----------------------------------------------------------------------------

    def optim_state_dict(self) -> dict[str, Any]:
        """``{"q": critic optimizer, "mu": policy optimizer, "update_counter": int}`` (rlpyt's
        keys plus the update count, which schedules the delayed and target updates)."""
        return dict(
            q=self.q_optimizer.state_dict(),
            mu=self.mu_optimizer.state_dict(),
            update_counter=self.update_counter,
        )

    def load_optim_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`optim_state_dict`'s output (rlpyt's, without the count, loads too)."""
        self.q_optimizer.load_state_dict(state_dict["q"])
        self.mu_optimizer.load_state_dict(state_dict["mu"])
        self.update_counter = int(state_dict.get("update_counter", 0))
