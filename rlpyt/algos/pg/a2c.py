"""Advantage actor-critic (A2C): one gradient step per batch of on-policy samples."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.algos.pg.base import OptInfo, PolicyGradientAlgo
from rlpyt.utils.buffer import buffer_to
from rlpyt.utils.tensor import valid_mean

__all__ = ["A2C"]


class A2C(PolicyGradientAlgo):
    """Synchronous advantage actor-critic (Mnih et al. 2016, arXiv:1602.01783).

    Each iteration makes one update over the whole ``[T, B]`` batch, minimising
    ``-logli * advantage + value_loss_coeff * 0.5 * (value - return_)**2
    - entropy_loss_coeff * entropy`` averaged over the valid steps. Called by runners through
    ``initialize`` / ``optimize_agent``; see :class:`PolicyGradientAlgo` for the arguments.
    """

    def __init__(
        self,
        discount: float = 0.99,
        learning_rate: float = 0.001,
        value_loss_coeff: float = 0.5,
        entropy_loss_coeff: float = 0.01,
        OptimCls: type[torch.optim.Optimizer] = torch.optim.Adam,
        optim_kwargs: dict | None = None,
        clip_grad_norm: float = 1.0,
        initial_optim_state_dict: Any = None,
        gae_lambda: float = 1,
        normalize_advantage: bool = False,
    ) -> None:
        super().__init__(
            discount=discount,
            learning_rate=learning_rate,
            value_loss_coeff=value_loss_coeff,
            entropy_loss_coeff=entropy_loss_coeff,
            OptimCls=OptimCls,
            optim_kwargs=optim_kwargs,
            clip_grad_norm=clip_grad_norm,
            initial_optim_state_dict=initial_optim_state_dict,
            gae_lambda=gae_lambda,
            normalize_advantage=normalize_advantage,
        )

    def optimize_agent(self, itr: int, samples: Any = None, sampler_itr: int | None = None):
        """One gradient step on the batch.

        Args:
            itr: training iteration (unused).
            samples: ``Samples`` with leaves ``[T, B, ...]``.
            sampler_itr: unused.

        Returns:
            ``OptInfo`` with one entry per field.
        """
        if hasattr(self.agent, "update_obs_rms"):
            self.agent.update_obs_rms(samples.env.observation)
        self._zero_grad()
        loss, entropy, perplexity = self.loss(samples)
        loss.backward()
        grad_norm = self._clip_grad_norm()
        self.optimizer.step()
        self.update_counter += 1
        stats = torch.stack(
            [loss.detach(), grad_norm.to(loss.device), entropy.detach(), perplexity.detach()]
        )
        return OptInfo(*([v] for v in stats.tolist()))

    def loss(self, samples: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The A2C loss of one batch.

        Args:
            samples: ``Samples`` with leaves ``[T, B, ...]``.

        Returns:
            ``(loss, entropy, perplexity)``: scalars; ``loss`` carries the gradient.
        """
        agent_inputs = AgentInputs(
            observation=samples.env.observation,
            prev_action=samples.agent.prev_action,
            prev_reward=samples.env.prev_reward,
        )
        return_, advantage, valid = self.process_returns(samples)
        action = samples.agent.action
        if self.agent.recurrent:
            dist_info, value, _ = self.agent(*agent_inputs, self._init_rnn_state(samples))
        else:
            dist_info, value = self.agent(*agent_inputs)
        if value.device != return_.device:  # an agent that keeps its outputs on its device
            action, return_, advantage, valid = buffer_to(
                (action, return_, advantage, valid), value.device
            )

        dist = self.agent.distribution
        logli = dist.log_likelihood(action, dist_info)
        pi_loss = -valid_mean(logli * advantage, valid)
        value_loss = self.value_loss(value, return_, valid)
        entropy, perplexity = self.entropy_stats(dist_info, valid)
        loss = pi_loss + value_loss
        if self.entropy_loss_coeff != 0:
            loss = loss - self.entropy_loss_coeff * entropy
        return loss, entropy, perplexity
