"""Shared parts of on-policy policy-gradient algorithms: optimizer, returns, advantages, masks."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import torch
import torch.nn.functional as F

from rlpyt.algos.base import RlAlgorithm
from rlpyt.algos.optim import GradientStep
from rlpyt.algos.utils import (
    discount_return,
    discount_return_tl,
    generalized_advantage_estimation,
    generalized_advantage_estimation_tl,
    valid_from_done,
)
from rlpyt.utils.buffer import buffer_method
from rlpyt.utils.tensor import valid_mean

__all__ = ["AgentTrain", "OptInfo", "PolicyGradientAlgo"]

OptInfo = namedtuple("OptInfo", ["loss", "gradNorm", "entropy", "perplexity"])
"""Diagnostics of one ``optimize_agent`` call: a list per field, one entry per update."""

AgentTrain = namedtuple("AgentTrain", ["dist_info", "value"])
"""The outputs of a feed-forward PG agent's training forward (kept for user code)."""


class PolicyGradientAlgo(RlAlgorithm):
    """Base of A2C and PPO: builds the optimizer and turns on-policy samples into targets.

    Subclasses implement ``optimize_agent``; they call :meth:`process_returns` once per
    iteration for the returns, advantages and the ``valid`` mask of the batch. Runners call
    :meth:`initialize`, ``optimize_agent`` and the optimizer state methods.

    Args:
        discount: gamma.
        learning_rate: the optimizer's learning rate.
        value_loss_coeff: weight of the value loss.
        entropy_loss_coeff: weight of the entropy bonus.
        OptimCls: optimizer class, built as ``OptimCls(params, lr=learning_rate, **optim_kwargs)``.
        optim_kwargs: extra optimizer arguments.
        clip_grad_norm: max global gradient norm per update.
        initial_optim_state_dict: optimizer state to load in :meth:`initialize` (from
            :meth:`optim_state_dict`, or a bare ``torch.optim`` state dict).
        gae_lambda: GAE lambda; 1 uses plain discounted returns.
        normalize_advantage: standardise advantages over the valid entries of each batch.
    """

    opt_info_fields = tuple(OptInfo._fields)
    bootstrap_value = True

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
        self.discount = discount
        self.learning_rate = learning_rate
        self.value_loss_coeff = value_loss_coeff
        self.entropy_loss_coeff = entropy_loss_coeff
        self.OptimCls = OptimCls
        self.optim_kwargs = {} if optim_kwargs is None else dict(optim_kwargs)
        self.clip_grad_norm = clip_grad_norm
        self.initial_optim_state_dict = initial_optim_state_dict
        self.gae_lambda = gae_lambda
        self.normalize_advantage = normalize_advantage
        self.update_counter = 0
        self.lr_scheduler: torch.optim.lr_scheduler.LRScheduler | None = None

    def initialize(
        self,
        agent: Any,
        n_itr: int,
        batch_spec: Any,
        mid_batch_reset: bool = False,
        examples: Any = None,
        world_size: int = 1,
        rank: int = 0,
    ) -> None:
        """Build the optimizer over ``agent.parameters()``; see ``RlAlgorithm.initialize``."""
        self.agent = agent
        self.n_itr = n_itr
        self.batch_spec = batch_spec
        self.mid_batch_reset = mid_batch_reset
        self.world_size = world_size
        self.rank = rank
        self._batch_size = batch_spec.T * batch_spec.B
        self._gradient_step = GradientStep(
            self.OptimCls, list(agent.parameters()), self.learning_rate, self.optim_kwargs
        )
        self.optimizer = self._gradient_step.optimizer
        self._build_lr_scheduler()
        if self.initial_optim_state_dict is not None:
            self.load_optim_state_dict(self.initial_optim_state_dict)

    def _zero_grad(self) -> None:
        """``optimizer.zero_grad(set_to_none=True)``, fast (see ``GradientStep``)."""
        self._gradient_step.zero_grad()

    def _clip_grad_norm(self) -> torch.Tensor:
        """Clip gradients to ``clip_grad_norm``; returns the norm before clipping."""
        return self._gradient_step.clip_grad_norm(self.clip_grad_norm)

    def _build_lr_scheduler(self) -> None:
        """Hook for subclasses with a learning-rate schedule (made before state is loaded)."""

    def optim_state_dict(self) -> dict[str, Any]:
        """Optimizer, scheduler and update count, for snapshots and exact resume.

        Returns:
            ``{"optimizer": ..., "lr_scheduler": ... or None, "update_counter": int}``.
        """
        return {
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": None if self.lr_scheduler is None else self.lr_scheduler.state_dict(),
            "update_counter": self.update_counter,
        }

    def load_optim_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`optim_state_dict`'s output, or a bare ``torch.optim`` state dict."""
        if "param_groups" in state_dict:  # a bare optimizer state dict (original rlpyt's)
            self.optimizer.load_state_dict(state_dict)
            return
        self.optimizer.load_state_dict(state_dict["optimizer"])
        if self.lr_scheduler is not None and state_dict.get("lr_scheduler") is not None:
            self.lr_scheduler.load_state_dict(state_dict["lr_scheduler"])
        self.update_counter = int(state_dict.get("update_counter", 0))

    def process_returns(
        self, samples: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Returns, advantages and the loss mask of one batch of on-policy samples.

        Uses the time-limit-aware estimators when ``samples.env.env_info`` has a ``timeout``
        field with any step set (see ``rlpyt.algos.utils``): steps before a timeout bootstrap
        through its value, and the timeout step is masked out of the loss. The mask also
        removes everything after the first ``done`` of each env when the collector does not
        reset mid-batch (WaitReset) or the agent is recurrent (training runs each env's column
        as one sequence from its initial rnn state, with no reset inside).

        Args:
            samples: ``Samples``; reads ``env.reward``, ``env.done``, ``env.env_info.timeout``
                (if present), ``agent.agent_info.value`` and ``agent.bootstrap_value``, all
                ``[T, B]`` (``bootstrap_value`` ``[1, B]``).

        Returns:
            ``(return_, advantage, valid)``: ``[T, B]`` float tensors; ``valid`` is ``None``
            when every step counts.
        """
        reward = samples.env.reward
        done = samples.env.done
        value = samples.agent.agent_info.value.to(reward.dtype)
        bootstrap_value = samples.agent.bootstrap_value
        timeout = getattr(samples.env.env_info, "timeout", None)
        # One host sync per batch: the plain estimators are cheaper and need no mask.
        if timeout is not None and not bool(timeout.any()):
            timeout = None

        if timeout is None:
            if self.gae_lambda == 1:
                return_ = discount_return(reward, done, bootstrap_value, self.discount)
                advantage = return_ - value
            else:
                advantage, return_ = generalized_advantage_estimation(
                    reward, value, done, bootstrap_value, self.discount, self.gae_lambda
                )
        elif self.gae_lambda == 1:
            return_ = discount_return_tl(
                reward, done, bootstrap_value, self.discount, timeout, value
            )
            advantage = return_ - value
        else:
            advantage, return_ = generalized_advantage_estimation_tl(
                reward, value, done, bootstrap_value, self.discount, self.gae_lambda, timeout
            )

        valid = None
        if not self.mid_batch_reset or self.agent.recurrent:
            valid = valid_from_done(done).to(reward.dtype)
        if timeout is not None:
            kept = 1 - timeout.to(reward.dtype)
            valid = kept if valid is None else valid * kept

        if self.normalize_advantage:
            advantage = _normalize(advantage, valid)
        return return_, advantage, valid

    def value_loss(
        self, value: torch.Tensor, return_: torch.Tensor, valid: torch.Tensor | None
    ) -> torch.Tensor:
        """``value_loss_coeff * valid_mean(0.5 * (value - return_)**2, valid)``.

        Computed as ``(0.5 * value_loss_coeff) * valid_mean((value - return_)**2, valid)``,
        the same number (scaling by 0.5 is exact), and without a mask as one ``mse_loss`` op:
        the same squared errors and mean in one op and one backward node instead of four.
        """
        if valid is None and value.shape == return_.shape and value.dtype == return_.dtype:
            squared_error = F.mse_loss(value, return_)
        else:
            squared_error = valid_mean((value - return_) ** 2, valid)
        return (0.5 * self.value_loss_coeff) * squared_error

    def entropy_stats(
        self, dist_info: Any, valid: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean entropy and perplexity of the policy over the valid entries, for the loss.

        The per-sample entropy is computed once for both. It enters the autograd graph only
        when ``entropy_loss_coeff`` is nonzero: with a zero coefficient it is a diagnostic,
        and keeping it out of the graph saves its backward pass (the gradient is the same).

        Returns:
            ``(entropy, perplexity)``: scalars; ``perplexity`` never carries a gradient.
        """
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.entropy_loss_coeff != 0):
            sample_entropy = self.agent.distribution.entropy(dist_info)
            entropy = valid_mean(sample_entropy, valid)
        perplexity = valid_mean(sample_entropy.detach().exp(), valid)
        return entropy, perplexity

    def _init_rnn_state(self, samples: Any) -> Any:
        """The agent's rnn state at the first step of the batch, ``[N, B, H]`` (model layout).

        The sampler stores ``prev_rnn_state`` batch-major, ``[T, B, N, H]``.
        """
        state = samples.agent.agent_info.prev_rnn_state[0]
        return buffer_method(buffer_method(state, "transpose", 0, 1), "contiguous")

    @property
    def _device(self) -> torch.device:
        return torch.device(getattr(self.agent, "device", "cpu"))


def _normalize(advantage: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Standardise ``advantage`` with the mean and std of its valid entries."""
    if valid is None:
        mean, std = advantage.mean(), advantage.std()
    else:
        count = valid.sum().clamp(min=1)
        mean = (advantage * valid).sum() / count
        var = (valid * (advantage - mean) ** 2).sum() / (count - 1).clamp(min=1)
        std = var.sqrt()
    return (advantage - mean) / std.clamp(min=1e-6)
