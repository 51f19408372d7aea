"""DQN (Mnih et al. 2015) with the usual extensions: Double DQN, n-step returns, prioritized
replay, Huber loss, hard or soft target updates; time-limit aware."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import torch

from rlpyt.algos.base import RlAlgorithm
from rlpyt.algos.optim import FastAdamStep, GradientStep
from rlpyt.algos.update_schedule import UpdateSchedule, updates_this_itr
from rlpyt.algos.utils import replay_target_factors, replay_target_factors_numpy
from rlpyt.replays.base import (
    BaseReplayBuffer,
    SamplesToBuffer,
    SamplesToBufferTl,
    examples_to_buffer,
    samples_to_buffer,
)
from rlpyt.replays.factory import make_replay_buffer
from rlpyt.utils.buffer import buffer_to
from rlpyt.utils.tensor import select_at_indexes

__all__ = ["DQN", "OptInfo", "SamplesToBuffer", "SamplesToBufferTl"]

OptInfo = namedtuple("OptInfo", ["loss", "gradNorm", "tdAbsErr"])
"""Diagnostics of one ``optimize_agent`` call: per update ``loss`` and ``gradNorm``, and a
subsample of the absolute TD errors (``tdAbsErr``)."""


class DQN(RlAlgorithm):
    """Deep Q-learning from a replay buffer; the base of ``CategoricalDQN``.

    Each ``optimize_agent`` call appends the sampler's batch to the replay buffer and, once
    ``min_steps_learn`` env steps have been collected, makes ``updates_per_optimize =
    round(replay_ratio * batch_size_sampler / batch_size)`` gradient updates on sampled
    batches: so ``replay_ratio`` is the number of times each collected transition is used for
    training on average (below one update per iteration, one update every few iterations:
    ``rlpyt.algos.update_schedule.UpdateSchedule``). The target network is updated every
    ``target_update_interval`` updates (copied for ``target_update_tau = 1``, Polyak-averaged
    otherwise).

    Loss: the TD error against ``return_ + (1 - done_n) * discount**n * Q_target(s_{t+n},
    a*)``, with ``a* = argmax Q_target`` (DQN) or ``argmax Q_online`` (Double DQN, van
    Hasselt et al. 2016); Huber with threshold ``delta_clip`` (``None``: squared error),
    weighted by importance weights under prioritized replay (Schaul et al. 2016), whose
    priorities are the absolute TD errors (clipped at ``delta_clip``).

    Time limits: when the env reports ``env_info.timeout`` the replay is time-limit aware
    (``Tl...`` buffers): an n-step window cut by a time limit bootstraps from the state where
    it was cut, never treating truncation as termination, and the timeout step itself (whose
    successor state was replaced by the reset) is left out of the loss.

    Collectors: with Reset collectors every row is a real step. With WaitReset collectors
    the rows after an env's ``done`` within a batch are blank (zero observation, null action,
    zero reward, ``done`` set): stored as they are, they are terminal one-step transitions
    that no real return crosses (the ``done`` before them ends every n-step window), so they
    only teach the Q-value of the blank observation to be 0. Prefer Reset collectors for
    DQN; WaitReset works (tested) for agents or envs that need it.

    Args:
        discount: gamma.
        batch_size: transitions per update.
        min_steps_learn: env steps collected before the first update.
        delta_clip: Huber loss threshold; ``None`` for the squared error.
        replay_size: replay capacity in transitions.
        replay_ratio: average number of updates each transition takes part in.
        target_update_tau: 1 copies the model into the target; < 1 Polyak-averages.
        target_update_interval: updates between target updates.
        n_step_return: n of the n-step returns.
        learning_rate, OptimCls, optim_kwargs: the optimizer
            (``OptimCls(params, lr=learning_rate, **optim_kwargs)``; default
            ``optim_kwargs = dict(eps=0.01 / batch_size)``, as in the rlpyt DQN papers' setup).
        initial_optim_state_dict: optimizer state to load in :meth:`initialize`.
        clip_grad_norm: max global gradient norm per update.
        eps_steps: env steps over which the agent's epsilon anneals (after ``min_steps_learn``).
        double_dqn: choose target actions with the online network.
        prioritized_replay: sample by priority, weight by importance weights.
        pri_alpha, pri_beta_init, pri_beta_final, pri_beta_steps: prioritization exponent, and
            the importance-weight exponent annealed linearly over ``pri_beta_steps`` env steps.
        default_priority: priority of new transitions (``None``: the buffer's default).
        ReplayBufferCls: replay class to use instead of the automatic choice (called with the
            keyword arguments of the automatic one).
        updates_per_sync: async runner: updates between parameter pushes to the sampler.
        frame_buffer: store one frame per step (Atari frame stacks); ``None`` chooses it for
            ``uint8`` observations shaped ``[n_frames, H, W]``.
    """

    opt_info_fields = tuple(OptInfo._fields)
    batch_size: int = 32  # a plain attribute here (the base class has a read-only property)

    def __init__(
        self,
        discount: float = 0.99,
        batch_size: int = 32,
        min_steps_learn: int = int(5e4),
        delta_clip: float | None = 1.0,
        replay_size: int = int(1e6),
        replay_ratio: float = 8,
        target_update_tau: float = 1,
        target_update_interval: int = 312,
        n_step_return: int = 1,
        learning_rate: float = 2.5e-4,
        OptimCls: type[torch.optim.Optimizer] = torch.optim.Adam,
        optim_kwargs: dict | None = None,
        initial_optim_state_dict: Any = None,
        clip_grad_norm: float = 10.0,
        eps_steps: int = int(1e6),
        double_dqn: bool = False,
        prioritized_replay: bool = False,
        pri_alpha: float = 0.6,
        pri_beta_init: float = 0.4,
        pri_beta_final: float = 1.0,
        pri_beta_steps: int = int(50e6),
        default_priority: float | None = None,
        ReplayBufferCls: type | None = None,
        updates_per_sync: int = 1,
        frame_buffer: bool | None = None,
    ) -> None:
        for name, value in (("batch_size", batch_size), ("n_step_return", n_step_return)):
            if int(value) < 1:
                raise ValueError(f"DQN: {name} must be >= 1; got {value!r}")
        if replay_ratio <= 0:
            raise ValueError(f"DQN: replay_ratio must be > 0; got {replay_ratio!r}")
        if not 0 < target_update_tau <= 1:
            raise ValueError(f"DQN: target_update_tau must be in (0, 1]; got {target_update_tau}")
        self.discount = discount
        self.batch_size = batch_size
        self.min_steps_learn = min_steps_learn
        self.delta_clip = delta_clip
        self.replay_size = replay_size
        self.replay_ratio = replay_ratio
        self.target_update_tau = target_update_tau
        self.target_update_interval = target_update_interval
        self.n_step_return = n_step_return
        self.learning_rate = learning_rate
        self.OptimCls = OptimCls
        self.optim_kwargs = dict(eps=0.01 / batch_size) if optim_kwargs is None else optim_kwargs
        self.initial_optim_state_dict = initial_optim_state_dict
        self.clip_grad_norm = clip_grad_norm
        self.eps_steps = eps_steps
        self.double_dqn = double_dqn
        self.prioritized_replay = prioritized_replay
        self.pri_alpha = pri_alpha
        self.pri_beta_init = pri_beta_init
        self.pri_beta_final = pri_beta_final
        self.pri_beta_steps = pri_beta_steps
        self.default_priority = default_priority
        self.ReplayBufferCls = ReplayBufferCls
        self.updates_per_sync = updates_per_sync
        self.frame_buffer = frame_buffer
        self.update_counter = 0

    # --- construction ----------------------------------------------------------------------

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
        """Schedules, the replay buffer and the optimizer; see ``RlAlgorithm.initialize``."""
        self._setup(agent, n_itr, batch_spec, mid_batch_reset, examples, world_size)
        self.replay_buffer = self.initialize_replay_buffer(examples, batch_spec)
        self.optim_initialize(rank)

    def async_initialize(
        self,
        agent: Any,
        sampler_n_itr: int,
        batch_spec: Any,
        mid_batch_reset: bool,
        examples: Any,
        world_size: int = 1,
    ) -> BaseReplayBuffer:
        """Schedules and a shared-memory replay buffer (async runner); returns the buffer."""
        self._setup(agent, sampler_n_itr, batch_spec, mid_batch_reset, examples, world_size)
        self.update_schedule = None  # the async runner throttles to the replay ratio itself
        self.replay_buffer = self.initialize_replay_buffer(examples, batch_spec, async_=True)
        return self.replay_buffer

    def _setup(self, agent, n_itr, batch_spec, mid_batch_reset, examples, world_size) -> None:
        self.agent = agent
        self.n_itr = n_itr
        self.batch_spec = batch_spec
        self.mid_batch_reset = mid_batch_reset
        self.world_size = world_size
        self.sampler_bs = sampler_bs = batch_spec.size
        self.update_schedule = UpdateSchedule(self.replay_ratio, sampler_bs, self.batch_size)
        self.updates_per_optimize = self.update_schedule.per_itr
        self.min_itr_learn = int(self.min_steps_learn // sampler_bs)
        eps_itr_max = max(1, int(self.eps_steps // sampler_bs))
        agent.set_epsilon_itr_min_max(self.min_itr_learn, eps_itr_max)
        self.pri_beta_itr = max(1, self.pri_beta_steps // sampler_bs)
        env_info = examples["env_info"]
        self.time_limit = "timeout" in getattr(env_info, "_fields", ())

    def optim_initialize(self, rank: int = 0) -> None:
        """Build the optimizer (in the optimizing process, for the async runner)."""
        self.rank = rank
        self._gradient_step = GradientStep(
            self.OptimCls, list(self.agent.parameters()), self.learning_rate, self.optim_kwargs
        )
        self.optimizer = self._gradient_step.optimizer
        self._optim_step = FastAdamStep(self._gradient_step)
        if self.initial_optim_state_dict is not None:
            self.load_optim_state_dict(self.initial_optim_state_dict)

    def examples_to_buffer(self, examples: dict[str, Any]) -> Any:
        """One step of what :meth:`samples_to_buffer` produces, for allocating the replay."""
        return examples_to_buffer(examples, self.time_limit)

    def replay_kwargs(self, examples: dict[str, Any], batch_spec: Any) -> dict[str, Any]:
        """Keyword arguments of the replay buffer (subclasses add their own)."""
        kwargs = dict(
            example=self.examples_to_buffer(examples),
            size=self.replay_size,
            B=batch_spec.B,
            discount=self.discount,
            n_step_return=self.n_step_return,
        )
        if self.prioritized_replay:
            kwargs.update(alpha=self.pri_alpha, beta=self.pri_beta_init)
            if self.default_priority is not None:
                kwargs["default_priority"] = self.default_priority
        return kwargs

    def initialize_replay_buffer(
        self, examples: dict[str, Any], batch_spec: Any, async_: bool = False
    ) -> BaseReplayBuffer:
        """Build the replay buffer for these examples (see ``make_replay_buffer``)."""
        frames = self.frame_buffer
        if frames is None:
            observation = np.asarray(examples["observation"])
            frames = observation.dtype == np.uint8 and observation.ndim == 3
        return make_replay_buffer(
            self.ReplayBufferCls,
            frames=bool(frames),
            time_limit=self.time_limit,
            prioritized=self.prioritized_replay,
            async_=async_,
            **self.replay_kwargs(examples, batch_spec),
        )

    # --- training --------------------------------------------------------------------------

    def samples_to_buffer(self, samples: Any) -> Any:
        """The fields of a sampler batch the replay keeps, ``[T, B]`` leaves."""
        return samples_to_buffer(samples, self.time_limit)

    def optimize_agent(self, itr: int, samples: Any = None, sampler_itr: int | None = None) -> Any:
        """Append ``samples`` (if given) and make this iteration's updates.

        Returns:
            ``OptInfo`` with a list per field (empty before ``min_steps_learn``).
        """
        itr = itr if sampler_itr is None else sampler_itr  # async: the sampler's progress
        if samples is not None:
            self.replay_buffer.append_samples(self.samples_to_buffer(samples))
        opt_info = OptInfo(*([] for _ in OptInfo._fields))
        if itr < self.min_itr_learn:
            return opt_info
        n_updates = updates_this_itr(self, itr)
        if n_updates == 0:  # a replay ratio below one update per iteration
            self.update_itr_hyperparams(itr)
            return opt_info
        losses, grad_norms, td_errors = [], [], []
        device = self._device
        for _ in range(n_updates):
            batch = self.replay_buffer.sample_batch(self.batch_size)
            if device.type != "cpu":
                batch = buffer_to(batch, device=device)
            self.agent.resample_noise()
            self._gradient_step.zero_grad()
            loss, td_abs_errors = self.loss_and_grads(batch)
            grad_norms.append(
                self._gradient_step.clip_grad_norm(self.clip_grad_norm, host_scale=True)
            )
            self._optim_step()
            if self.prioritized_replay:
                self.replay_buffer.update_batch_priorities(td_abs_errors.cpu())
            losses.append(loss.detach())
            td_errors.append(td_abs_errors[::8])
            self.update_counter += 1
            if self.update_counter % self.target_update_interval == 0:
                self.agent.update_target(self.target_update_tau)
        if device.type == "cpu":  # no transfers: read each value (fewer ops than stacking)
            opt_info.loss.extend(x.item() for x in losses)
            opt_info.gradNorm.extend(x.item() for x in grad_norms)
            for x in td_errors:
                opt_info.tdAbsErr.extend(x.tolist())
        else:  # one host transfer for all diagnostics of the call
            opt_info.loss.extend(torch.stack(losses).tolist())
            opt_info.gradNorm.extend(torch.stack(grad_norms).tolist())
            opt_info.tdAbsErr.extend(torch.cat(td_errors).tolist())
        self.update_itr_hyperparams(itr)
        return opt_info

    def target_q(self, batch: Any) -> torch.Tensor:
        """``Q_target(s_{t+n}, a*)``, ``[batch_B]``, without grad."""
        target_inputs = batch.target_inputs
        target_qs = self.agent.target(*target_inputs)
        if not self.double_dqn:
            return target_qs.amax(dim=-1)  # = target_qs at their argmax, in one op
        next_actions = torch.argmax(self.agent(*target_inputs), dim=-1)
        return select_at_indexes(next_actions, target_qs)

    def loss_and_grads(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`loss` of one batch and its gradients in the parameters' ``.grad``.

        Speed: for a plain MLP Q-network on the CPU (``DqnAgent`` with ``MlpDqnModel``,
        neither dueling nor noisy, small batch) the whole loss and backward pass run in NumPy
        without autograd (:meth:`_explicit_loss`, with ``DqnAgent.explicit_q``): at batch 32
        that is ~90 us against ~330 us for autograd, where per-op overhead is the cost. The
        loss, TD errors and gradients equal the autograd path's up to float rounding (tested).
        Any other agent, model, device, or a subclass that overrides :meth:`loss`, takes
        ``self.loss(batch)`` and ``backward()``.

        Returns:
            ``(loss, td_abs_errors)`` as :meth:`loss`; ``loss`` may have no graph.
        """
        explicit_q = getattr(self.agent, "explicit_q", None)
        observation = batch.agent_inputs.observation
        if (
            explicit_q is not None
            and type(self).loss is DQN.loss
            and isinstance(observation, torch.Tensor)
            and observation.device.type == "cpu"
        ):
            out = explicit_q(observation.numpy())
            if out is not None:
                explicit = self._explicit_loss(batch, *out)
                if explicit is not None:
                    return explicit
        loss, td_abs_errors = self.loss(batch)
        loss.backward()
        return loss, td_abs_errors

    def _explicit_loss(
        self, batch: Any, q_all: np.ndarray, backward: Any
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """:meth:`loss_and_grads` in NumPy from the online Q-values ``q_all [B, A]``: the
        same target, weights and loss as :meth:`loss`, and the loss's gradient in the taken
        actions' Q-values ``weight * clamp(q - y, +-delta_clip)`` (Huber) or ``weight * (q -
        y)`` (half squared error), back-propagated by ``backward``. ``None`` (nothing changed)
        if the target network has no NumPy path."""
        explicit_target_q = getattr(self.agent, "explicit_target_q", None)
        target_obs = batch.target_inputs.observation.numpy()
        target_qs = None if explicit_target_q is None else explicit_target_q(target_obs)
        if target_qs is None:
            return None
        if self.double_dqn:
            next_q = self.agent.explicit_q(target_obs)
            if next_q is None:
                return None
            next_actions = next_q[0].argmax(axis=-1)
            target_q = np.take_along_axis(target_qs, next_actions[..., None], -1)[..., 0]
        else:
            target_q = target_qs.max(axis=-1)
        action = batch.action.numpy()
        rows = np.arange(len(action))
        q = q_all[rows, action]
        bootstrap, weight = replay_target_factors_numpy(
            batch, self.discount, self.n_step_return, self.time_limit
        )
        y = batch.return_.numpy().astype(q.dtype, copy=False) + bootstrap * target_q
        if self.prioritized_replay:
            is_weights = batch.is_weights.numpy().astype(q.dtype, copy=False)
            weight = is_weights / is_weights.size if weight is None else is_weights * weight
        if weight is None:
            weight = np.float32(1.0 / q.size)
        diff = q - y
        if self.delta_clip is None:
            td_abs_errors = np.abs(diff)
            grad_q = diff
            losses = 0.5 * diff * diff
        else:  # Huber, 0.5 d^2 within delta, delta (|d| - delta / 2) beyond: = c (d - c / 2)
            grad_q = np.clip(diff, -self.delta_clip, self.delta_clip)
            td_abs_errors = np.abs(grad_q)
            losses = grad_q * (diff - 0.5 * grad_q)
        loss = np.dot(losses, weight) if weight.ndim else losses.sum() * weight
        grad_q_all = np.zeros_like(q_all)
        grad_q_all[rows, action] = grad_q * weight
        for param, grad in backward(grad_q_all):
            param.grad = torch.from_numpy(grad)
        return torch.tensor(float(loss)), torch.from_numpy(td_abs_errors)

    def loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss and absolute TD errors of one replay batch.

        Returns:
            ``(loss, td_abs_errors)``: a scalar with grad, and ``[batch_B]`` (clipped at
            ``delta_clip``) for priorities and diagnostics.
        """
        # Speed: a small Q-network's update is bound by per-op overhead, forward and backward,
        # so everything without grad (target, factors, weights, TD errors) is computed apart
        # and the graph after the Q-values is two nodes: per-sample losses, one weighted sum.
        q = select_at_indexes(batch.action, self.agent(*batch.agent_inputs))
        with torch.no_grad():
            bootstrap, weight = replay_target_factors(
                batch, self.discount, self.n_step_return, self.time_limit
            )
            y = torch.addcmul(batch.return_.to(q.dtype), bootstrap, self.target_q(batch))
            td_abs_errors = torch.sub(y, q).abs_()
            if self.delta_clip is not None:
                td_abs_errors.clamp_(max=self.delta_clip)
            if self.prioritized_replay:
                is_weights = batch.is_weights.to(q.dtype)
                if weight is None:
                    weight = is_weights / is_weights.numel()
                else:
                    weight = is_weights * weight
        if self.delta_clip is None:
            losses = 0.5 * torch.nn.functional.mse_loss(q, y, reduction="none")
        else:  # Huber: 0.5 * delta**2 within delta_clip, linear beyond
            losses = torch.nn.functional.huber_loss(q, y, reduction="none", delta=self.delta_clip)
        loss = losses.mean() if weight is None else torch.dot(losses, weight)
        return loss, td_abs_errors

    def _bootstrap_discount(self, batch: Any) -> Any:
        """``discount**n``, or the per-sample factor of time-limit-aware batches."""
        if self.time_limit:
            return batch.bootstrap_discount
        return self.discount**self.n_step_return

    def _valid(self, batch: Any) -> torch.Tensor | None:
        """Samples to keep in the loss: not timeout steps (their successor was replaced)."""
        if self.time_limit:
            return 1 - batch.timeout.float()
        return None

    def update_itr_hyperparams(self, itr: int) -> None:
        """Anneal the prioritized replay's beta linearly over ``pri_beta_steps``."""
        if self.prioritized_replay and itr <= self.pri_beta_itr:
            span = max(1, self.pri_beta_itr - self.min_itr_learn)
            progress = min(1.0, max(0, itr - self.min_itr_learn) / span)
            beta = self.pri_beta_init + progress * (self.pri_beta_final - self.pri_beta_init)
            self.replay_buffer.set_beta(beta)

    # --- state -----------------------------------------------------------------------------

    def optim_state_dict(self) -> dict[str, Any]:
        """Optimizer state and update count (the replay buffer is not included)."""
        return {"optimizer": self.optimizer.state_dict(), "update_counter": self.update_counter}

    def load_optim_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`optim_state_dict`'s output, or a bare ``torch.optim`` state dict."""
        if "param_groups" in state_dict:
            self.optimizer.load_state_dict(state_dict)
            return
        self.optimizer.load_state_dict(state_dict["optimizer"])
        self.update_counter = int(state_dict.get("update_counter", 0))

    @property
    def _device(self) -> torch.device:
        return torch.device(getattr(self.agent, "device", "cpu"))
