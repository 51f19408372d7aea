"""SAC (Haarnoja et al. 2018, *Soft Actor-Critic Algorithms and Applications*): twin soft
Q-functions, a reparameterised tanh-Gaussian policy and an automatically tuned entropy
coefficient."""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np
import torch

from rlpyt.algos.optim import GradientStep
from rlpyt.algos.qpg.base import EnsembleGradClip, FastAdamStep, QpgAlgorithm, ReplayBatch
from rlpyt.utils.logging import logger

__all__ = ["SAC", "OptInfo"]

OptInfo = namedtuple(
    "OptInfo",
    [
        "q1Loss",
        "q2Loss",
        "piLoss",
        "q1GradNorm",
        "q2GradNorm",
        "piGradNorm",
        "q1",
        "q2",
        "piMu",
        "piLogStd",
        "qMeanDiff",
        "alpha",
    ],
)
"""Diagnostics of one ``optimize_agent`` call: per update the losses, the gradient norms
before clipping, ``mean |q1 - q2|`` and alpha; every 10th sample's ``q1``, ``q2`` and the
policy's pre-squash ``mean`` and ``log_std`` (rlpyt's fields)."""


class SAC(QpgAlgorithm):
    """Soft actor-critic with twin critics (no state-value network), for ``SacAgent``.

    Each update, on a replay batch (see ``QpgAlgorithm`` for the replay and schedule), with
    the entropy coefficient ``alpha`` as it was before the update:

    1. the policy samples ``a~, log_pi(a~|s)`` at the batch's states (reparameterised);
    2. critics: minimise ``0.5 * (y - Q_j(s, a))**2`` for ``j = 1, 2`` with
       ``y = reward_scale * return_ + bootstrap * (min_j Q'_j(s', a') - alpha * log_pi(a'|s'))``,
       ``a' ~ pi(s')``, target critics ``Q'`` (``bootstrap = discount**n``, 0 after a
       termination); one optimizer for both critics, each critic's gradient clipped on its
       own to ``clip_grad_norm``;
    3. policy: minimise ``alpha * log_pi(a~|s) - min_j Q_j(s, a~) - log prior(a~)`` with the
       critics just updated (only the policy's gradients are computed);
    4. alpha (unless ``fixed_alpha`` or ``target_entropy=None``): minimise
       ``-log(alpha) * (log_pi(a~|s) + target_entropy)``, moving the policy's entropy towards
       ``target_entropy``;
    5. every ``target_update_interval`` updates, Polyak-average the target critics.

    Units: the agent's actions and ``log_pi`` are in env units (the env's action box).
    ``target_entropy`` is given for normalized actions (each dimension in ``[-1, 1]``), the
    usual convention (``"auto"`` is ``-action_dim`` there, as in the paper and SB3), and is
    converted once to env units by adding ``agent.action_scaling.log_scale`` (``sum(log
    half-range)``; 0 for ``[-1, 1]`` boxes). ``fixed_alpha`` multiplies env-unit
    ``log_pi``.

    Args:
        discount: gamma.
        batch_size: transitions per update.
        min_steps_learn: env steps collected before the first update.
        replay_size: replay capacity in transitions.
        replay_ratio: average number of updates each transition takes part in.
        target_update_tau: Polyak rate of the target critics (1: copy).
        target_update_interval: updates between target updates.
        learning_rate: learning rate of the policy, the critics and alpha.
        OptimCls, optim_kwargs: optimizer class and extra arguments (all three optimizers).
        initial_optim_state_dict: :meth:`optim_state_dict` output to load.
        action_prior: ``"uniform"`` (no prior term) or ``"gaussian"`` (standard normal
            log-density of the env-unit action added to the policy objective).
        reward_scale: factor of the returns in the critic target.
        target_entropy: ``"auto"`` (``-action_dim``), a number (normalized units), or
            ``None`` to keep alpha fixed at its initial value 1.
        reparameterize: must be True (the likelihood-ratio form is not implemented, as in
            rlpyt).
        clip_grad_norm: max gradient norm of the policy and of each critic per update.
        n_step_return: n of the n-step returns.
        updates_per_sync: async runner: updates per ``optimize_agent`` call.
        bootstrap_timelimit: bootstrap through time-limit truncations (envs that report
            ``env_info.timeout``); ``False`` treats them as terminations.
        ReplayBufferCls: replay class to use instead of the automatic choice.
        fixed_alpha: a fixed entropy coefficient instead of tuning one (new).
        compile_update: ``torch.compile`` the loss computations (new; off by default).
    """

    opt_info_fields = tuple(OptInfo._fields)
    OptInfoCls = OptInfo

    def __init__(
        self,
        discount: float = 0.99,
        batch_size: int = 256,
        min_steps_learn: int = int(1e4),
        replay_size: int = int(1e6),
        replay_ratio: float = 256,
        target_update_tau: float = 0.005,
        target_update_interval: int = 1,
        learning_rate: float = 3e-4,
        OptimCls: type[torch.optim.Optimizer] = torch.optim.Adam,
        optim_kwargs: dict | None = None,
        initial_optim_state_dict: dict | None = None,
        action_prior: str = "uniform",
        reward_scale: float = 1,
        target_entropy: str | float | None = "auto",
        reparameterize: bool = True,
        clip_grad_norm: float = 1e9,
        n_step_return: int = 1,
        updates_per_sync: int = 1,
        bootstrap_timelimit: bool = True,
        ReplayBufferCls: type | None = None,
        fixed_alpha: float | None = None,
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
        if action_prior not in ("uniform", "gaussian"):
            raise ValueError(
                f"SAC: action_prior must be 'uniform' or 'gaussian'; got {action_prior!r}"
            )
        if not reparameterize:
            raise NotImplementedError("SAC: only the reparameterised policy loss is implemented")
        if isinstance(target_entropy, str) and target_entropy != "auto":
            raise ValueError(
                f"SAC: target_entropy must be 'auto', a number or None; got {target_entropy!r}"
            )
        if fixed_alpha is not None and not fixed_alpha > 0:
            raise ValueError(f"SAC: fixed_alpha must be > 0; got {fixed_alpha!r}")
        self.learning_rate = learning_rate
        self.action_prior = action_prior
        self.reward_scale = reward_scale
        self.target_entropy = target_entropy
        self.reparameterize = reparameterize
        self.fixed_alpha = fixed_alpha

    def optim_initialize(self, rank: int = 0) -> None:
        """Build the policy, critic (one for both) and alpha optimizers, alpha itself, and
        load ``initial_optim_state_dict``."""
        self.rank = rank
        agent = self.agent
        self._pi_params = list(agent.pi_parameters())
        kw, lr = self.optim_kwargs, self.learning_rate
        self.pi_step = GradientStep(self.OptimCls, self._pi_params, lr, kw)
        self.q_step = GradientStep(self.OptimCls, list(agent.q_parameters()), lr, kw)
        self.pi_optimizer = self.pi_step.optimizer
        self.q_optimizer = self.q_step.optimizer
        self._pi_optim_step = FastAdamStep(self.pi_step)
        self._q_optim_step = FastAdamStep(self.q_step)
        self._q_clip = EnsembleGradClip(agent.q_models)
        device = torch.device(getattr(agent, "device", "cpu"))
        self.tune_alpha = self.fixed_alpha is None and self.target_entropy is not None
        log_alpha = 0.0 if self.fixed_alpha is None else math.log(self.fixed_alpha)
        self._log_alpha = torch.tensor([log_alpha], device=device, requires_grad=self.tune_alpha)
        self.alpha_step = self.alpha_optimizer = None
        if self.tune_alpha:
            self.alpha_step = GradientStep(self.OptimCls, [self._log_alpha], lr, kw)
            self.alpha_optimizer = self.alpha_step.optimizer
            self._alpha_optim_step = FastAdamStep(self.alpha_step)
        self._set_alpha()
        action_size = int(np.prod(agent.env_spaces.action.shape))
        entropy = -action_size if self.target_entropy == "auto" else self.target_entropy
        self.target_entropy_env = None  # in env units: the units of agent.pi's log_pi
        if entropy is not None:
            self.target_entropy_env = float(entropy) + agent.action_scaling.log_scale
        self._prior_const = -0.5 * action_size * math.log(2 * math.pi)
        self._q_loss_fn = self._maybe_compile(self.q_losses)
        self._pi_loss_fn = self._maybe_compile(self.pi_loss)
        if self.initial_optim_state_dict is not None:
            self.load_optim_state_dict(self.initial_optim_state_dict)

    def _set_alpha(self) -> None:
        """``self._alpha`` for the next update: a detached tensor when tuned (no host sync),
        else a Python float."""
        with torch.no_grad():
            alpha = self._log_alpha.detach().exp()
        self._alpha = alpha.reshape(()) if self.tune_alpha else float(alpha)
        self._alpha_record = alpha.reshape(())  # diagnostics

    @property
    def alpha(self) -> float:
        """The current entropy coefficient (a host sync: for logging and tests)."""
        return float(self._log_alpha.detach().exp())

    # --- losses ----------------------------------------------------------------------------

    def critic_target(self, batch: ReplayBatch) -> torch.Tensor:
        """``y = reward_scale * return_ + bootstrap * (min_j Q'_j(s', a') - alpha *
        log_pi(a'|s'))`` with ``a' ~ pi(s')``, ``[batch_B]``, without grad."""
        with torch.no_grad():
            target_inputs = batch.target_inputs
            next_action, next_log_pi, _ = self.agent.pi(*target_inputs)
            target_q1, target_q2 = self.agent.target_q(*target_inputs, next_action)
            next_value = torch.minimum(target_q1, target_q2).sub_(self._alpha * next_log_pi)
            return_ = batch.return_
            if self.reward_scale != 1:
                return_ = return_ * self.reward_scale
            return torch.addcmul(return_, batch.bootstrap, next_value)

    def q_losses(self, batch: ReplayBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Both critics' losses ``0.5 * mean((y - Q_j(s, a))**2)`` over the valid samples.

        Returns:
            ``(losses [2], q [2, batch_B])``: the losses (with grad) and the critics' values.
        """
        y = self.critic_target(batch)
        q = torch.stack(self.agent.q(*batch.agent_inputs, batch.action))
        squared = 0.5 * (y - q).square()
        losses = squared.mean(1) if batch.weight is None else torch.mv(squared, batch.weight)
        return losses, q

    def pi_loss(
        self, batch: ReplayBatch, new_action: torch.Tensor, log_pi: torch.Tensor
    ) -> torch.Tensor:
        """``mean(alpha * log_pi - min_j Q_j(s, a~) - log prior(a~))`` over the valid
        samples, for the policy's actions ``a~`` at the batch's states."""
        q1, q2 = self.agent.q(*batch.agent_inputs, new_action)
        losses = torch.sub(self._alpha * log_pi, torch.minimum(q1, q2))
        if self.action_prior == "gaussian":
            prior = -0.5 * new_action.square().sum(-1) + self._prior_const
            losses = losses - prior
        return self.batch_mean(losses, batch.weight)

    # --- update ----------------------------------------------------------------------------

    def update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        """One update: critics, policy, alpha, targets (see the class docstring)."""
        new_action, log_pi, dist_info = self.agent.pi(*batch.agent_inputs)

        q_losses, q = self._q_loss_fn(batch)
        self.q_step.zero_grad()
        q_losses.sum().backward()
        q_grad_norms = self._q_clip(self.clip_grad_norm)
        self._q_optim_step()

        pi_loss = self._pi_loss_fn(batch, new_action, log_pi)
        self.pi_step.zero_grad()
        # Only the policy's gradients: the critics' weight gradients would be discarded.
        pi_loss.backward(inputs=self._pi_params)
        pi_grad_norm = self.pi_step.clip_grad_norm(self.clip_grad_norm)
        self._pi_optim_step()

        alpha = self._alpha_record
        if self.tune_alpha:
            # The gradient of -log_alpha * mean(log_pi + target_entropy), set directly: a
            # one-element autograd graph would cost more than the arithmetic.
            mean_log_pi = self.batch_mean(log_pi.detach(), batch.weight)
            self._log_alpha.grad = (-(mean_log_pi + self.target_entropy_env)).reshape(1)
            self._alpha_optim_step()
            self._set_alpha()

        self.update_counter += 1
        if self.update_counter % self.target_update_interval == 0:
            self.agent.update_target(self.target_update_tau)

        q = q.detach()
        q_losses = q_losses.detach()
        return dict(
            q1Loss=q_losses[0],
            q2Loss=q_losses[1],
            piLoss=pi_loss.detach(),
            q1GradNorm=q_grad_norms[0],
            q2GradNorm=q_grad_norms[1],
            piGradNorm=pi_grad_norm,
            q1=q[0, ::10],
            q2=q[1, ::10],
            piMu=dist_info.mean.detach()[::10],
            piLogStd=dist_info.log_std.detach()[::10],
            qMeanDiff=(q[0] - q[1]).abs_().mean(),
            alpha=alpha,
        )

    # --- state -----------------------------------------------------------------------------

    def optim_state_dict(self) -> dict[str, Any]:
        """All optimizers, alpha and the update count: ``{"pi_optimizer", "q_optimizer",
        "alpha_optimizer" (None when alpha is fixed), "log_alpha": float,
        "update_counter": int}``."""
        return dict(
            pi_optimizer=self.pi_optimizer.state_dict(),
            q_optimizer=self.q_optimizer.state_dict(),
            alpha_optimizer=None
            if self.alpha_optimizer is None
            else self.alpha_optimizer.state_dict(),
            log_alpha=float(self._log_alpha.detach()),
            update_counter=self.update_counter,
        )

    def load_optim_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`optim_state_dict`'s output.

        rlpyt's snapshots (``q1_optimizer``/``q2_optimizer``, one per critic) load the
        policy and alpha optimizers and alpha; the critic optimizer starts afresh (logged).
        """
        self.pi_optimizer.load_state_dict(state_dict["pi_optimizer"])
        if "q_optimizer" in state_dict:
            self.q_optimizer.load_state_dict(state_dict["q_optimizer"])
        else:
            logger.log("SAC: no 'q_optimizer' in the state (rlpyt's per-critic optimizers?); "
                       "the critic optimizer starts afresh")  # fmt: skip
        alpha_state = state_dict.get("alpha_optimizer")
        if self.alpha_optimizer is not None and alpha_state is not None:
            self.alpha_optimizer.load_state_dict(alpha_state)
        if self.fixed_alpha is None:
            with torch.no_grad():
                self._log_alpha.fill_(float(state_dict["log_alpha"]))
        self._set_alpha()
        self.update_counter = int(state_dict.get("update_counter", 0))
