"""Proximal policy optimization (PPO) with the clipped surrogate objective."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.algos.pg.base import OptInfo, PolicyGradientAlgo
from rlpyt.utils.buffer import buffer_func, buffer_to
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.tensor import valid_mean

__all__ = ["PPO", "LossInputs"]

LossInputs = namedarraytuple(
    "LossInputs", ["agent_inputs", "action", "return_", "advantage", "valid", "old_dist_info"]
)


class PPO(PolicyGradientAlgo):
    """PPO-Clip (Schulman et al. 2017, arXiv:1707.06347), rlpyt's defaults.

    Each iteration makes ``epochs`` passes over the batch, each cut into ``minibatches``
    shuffled minibatches: of single steps (``T * B`` of them) for feed-forward agents, of whole
    env columns (``B`` sequences of length ``T``, starting from the stored rnn state) for
    recurrent agents. With ``linear_lr_schedule`` the learning rate and ``ratio_clip`` both
    decay linearly to 0 over the ``n_itr * epochs * minibatches`` updates of the run. Called
    by runners through ``initialize`` / ``optimize_agent``; see :class:`PolicyGradientAlgo`
    for the shared arguments.

    Args:
        minibatches: minibatches per epoch.
        epochs: passes over each batch.
        ratio_clip: epsilon of the clipped likelihood ratio (its initial value when annealed).
        linear_lr_schedule: anneal the learning rate and ``ratio_clip`` linearly to 0.
    """

    def __init__(
        self,
        discount: float = 0.99,
        learning_rate: float = 0.001,
        value_loss_coeff: float = 1.0,
        entropy_loss_coeff: float = 0.01,
        OptimCls: type[torch.optim.Optimizer] = torch.optim.Adam,
        optim_kwargs: dict | None = None,
        clip_grad_norm: float = 1.0,
        initial_optim_state_dict: Any = None,
        gae_lambda: float = 1,
        minibatches: int = 4,
        epochs: int = 4,
        ratio_clip: float = 0.1,
        linear_lr_schedule: bool = True,
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
        self.minibatches = minibatches
        self.epochs = epochs
        self.ratio_clip = ratio_clip
        self._ratio_clip = ratio_clip
        self.linear_lr_schedule = linear_lr_schedule

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
        """Build the optimizer and the linear schedule; see ``RlAlgorithm.initialize``."""
        n_units = batch_spec.B if agent.recurrent else batch_spec.T * batch_spec.B
        if n_units < self.minibatches:
            raise ValueError(
                f"PPO needs at least minibatches={self.minibatches} "
                f"{'env columns (batch_B)' if agent.recurrent else 'samples'} per batch; "
                f"got {n_units}."
            )
        super().initialize(agent, n_itr, batch_spec, mid_batch_reset, examples, world_size, rank)
        self._batch_size = batch_spec.T * batch_spec.B // self.minibatches  # for logging
        self._sync_ratio_clip()

    def _build_lr_scheduler(self) -> None:
        if not self.linear_lr_schedule:
            return
        self._total_updates = max(1, self.n_itr * self.epochs * self.minibatches)
        total = self._total_updates
        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_lambda=lambda k: max(0.0, 1.0 - k / total)
        )

    def _sync_ratio_clip(self) -> None:
        """Anneal ``ratio_clip`` by the same factor as the learning rate."""
        if self.lr_scheduler is not None:
            self.ratio_clip = self._ratio_clip * max(
                0.0, 1.0 - self.lr_scheduler.last_epoch / self._total_updates
            )

    def load_optim_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore optimizer, schedule and update count; see ``PolicyGradientAlgo``."""
        super().load_optim_state_dict(state_dict)
        self._sync_ratio_clip()

    def optimize_agent(self, itr: int, samples: Any = None, sampler_itr: int | None = None):
        """Make ``epochs * minibatches`` updates on one batch.

        Args:
            itr: training iteration (unused: the schedule counts updates).
            samples: ``Samples`` with leaves ``[T, B, ...]``; for recurrent agents
                ``agent.agent_info.prev_rnn_state`` is ``[T, B, N, H]``.
            sampler_itr: unused.

        Returns:
            ``OptInfo``, one entry per update in each field.
        """
        if hasattr(self.agent, "update_obs_rms"):
            self.agent.update_obs_rms(samples.env.observation)
        recurrent = self.agent.recurrent
        device = self._device
        return_, advantage, valid = self.process_returns(samples)
        data = LossInputs(
            agent_inputs=AgentInputs(
                observation=samples.env.observation,
                prev_action=samples.agent.prev_action,
                prev_reward=samples.env.prev_reward,
            ),
            action=samples.agent.action,
            return_=return_,
            advantage=advantage,
            valid=valid,
            old_dist_info=samples.agent.agent_info.dist_info,
        )
        T, B = return_.shape[:2]
        if recurrent:
            # Minibatches of whole columns: index dim 1, keep [T, mb_B] sequences intact.
            init_rnn_state = self._init_rnn_state(samples)
            n_units = B
        else:
            # Flatten once; each epoch then shuffles it with one fancy index per leaf.
            data = buffer_func(data, lambda x: x.reshape((T * B,) + tuple(x.shape[2:])))
            init_rnn_state = None
            n_units = T * B
        if device.type != "cpu":
            # Agents compute on their device and return outputs on the CPU (as in rlpyt), so
            # the targets stay here; the inputs go to the device once per batch, not per
            # minibatch. (CPU index tensors index device tensors too.)
            data = data._replace(agent_inputs=buffer_to(data.agent_inputs, device))
            init_rnn_state = buffer_to(init_rnn_state, device)

        stats = []
        for _ in range(self.epochs):
            perm = torch.randperm(n_units)
            for mb, rnn_state in self._minibatches(data, init_rnn_state, perm, recurrent):
                self._zero_grad()
                loss, entropy, perplexity = self.loss(*mb, init_rnn_state=rnn_state)
                loss.backward()
                grad_norm = self._clip_grad_norm()
                self.optimizer.step()
                self.update_counter += 1
                if self.lr_scheduler is not None:
                    self.lr_scheduler.step()
                    self._sync_ratio_clip()
                stats.append(
                    torch.stack(
                        [loss.detach(), grad_norm.to(loss.device), entropy.detach(), perplexity]
                    )
                )
        # A single device-to-host copy for all diagnostics of the iteration.
        columns = torch.stack(stats).T.tolist()
        return OptInfo(*columns)

    def _minibatches(
        self, data: Any, init_rnn_state: Any, perm: torch.Tensor, recurrent: bool
    ) -> Iterator[tuple[Any, Any]]:
        """``(minibatch, rnn_state)`` for the pieces ``perm.tensor_split(minibatches)`` of one
        epoch: whole env columns ``data[:, idxs]`` (recurrent) or steps ``data[idxs]``.

        For steps, the batch is shuffled once (one fancy index per leaf and epoch) and each
        minibatch is a slice of it, a view: the same values as ``data[idxs]``, with a quarter
        of the indexing ops at 4 minibatches.
        """
        pieces = perm.tensor_split(self.minibatches)
        if recurrent:
            for idxs in pieces:
                yield data[:, idxs], buffer_func(init_rnn_state, lambda x, i=idxs: x[:, i])
            return
        shuffled = data[perm]
        start = 0
        for idxs in pieces:
            yield shuffled[start : start + len(idxs)], None
            start += len(idxs)

    def loss(
        self,
        agent_inputs: Any,
        action: torch.Tensor,
        return_: torch.Tensor,
        advantage: torch.Tensor,
        valid: torch.Tensor | None,
        old_dist_info: Any,
        init_rnn_state: Any = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Clipped-surrogate PPO loss of one minibatch.

        ``loss = -mean(min(r * A, clip(r, 1 - eps, 1 + eps) * A))
        + value_loss_coeff * mean(0.5 * (value - return_)**2) - entropy_loss_coeff * entropy``,
        with ``r`` the likelihood ratio of ``action`` under the current and the sampling policy,
        means over valid entries.

        Args:
            agent_inputs: ``AgentInputs``, leaves ``[N, ...]`` (feed-forward) or
                ``[T, N, ...]`` (recurrent).
            action: taken actions, same leading dims.
            return_: value targets.
            advantage: advantages.
            valid: loss mask or ``None``.
            old_dist_info: the sampling policy's ``dist_info``.
            init_rnn_state: ``[layers, N, H]`` rnn state (recurrent agents), else ``None``.

        Returns:
            ``(loss, entropy, perplexity)``: scalars; ``loss`` carries the gradient.
        """
        if init_rnn_state is None:
            dist_info, value = self.agent(*agent_inputs)
        else:
            dist_info, value, _ = self.agent(*agent_inputs, init_rnn_state)
        if value.device != return_.device:  # an agent that keeps its outputs on its device
            action, return_, advantage, valid, old_dist_info = buffer_to(
                (action, return_, advantage, valid, old_dist_info), value.device
            )
        dist = self.agent.distribution
        ratio = dist.likelihood_ratio(action, old_dist_info=old_dist_info, new_dist_info=dist_info)
        clipped = ratio.clamp(1.0 - self.ratio_clip, 1.0 + self.ratio_clip)
        surrogate = torch.minimum(ratio * advantage, clipped * advantage)
        pi_loss = -valid_mean(surrogate, valid)
        value_loss = self.value_loss(value, return_, valid)
        entropy, perplexity = self.entropy_stats(dist_info, valid)
        loss = pi_loss + value_loss
        if self.entropy_loss_coeff != 0:
            loss = loss - self.entropy_loss_coeff * entropy
        return loss, entropy, perplexity
