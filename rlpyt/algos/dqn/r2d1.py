"""R2D1 (Kapturowski et al. 2019, R2D2 without the distributed actors): recurrent Q-learning from
replayed sequences with stored RNN states, burn-in, value rescaling and mixed sequence
priorities."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import torch

from rlpyt.algos.dqn.dqn import DQN
from rlpyt.algos.update_schedule import updates_this_itr
from rlpyt.algos.utils import discount_return_n_step, valid_from_done
from rlpyt.replays.base import PrioritiesSamplesToBuffer, SamplesToBufferRnn
from rlpyt.replays.sequence import frame, prioritized, uniform
from rlpyt.utils.buffer import buffer_method, buffer_to, torchify_buffer
from rlpyt.utils.tensor import select_at_indexes, valid_mean

__all__ = ["R2D1", "OptInfo", "inv_value_rescale", "value_rescale"]

OptInfo = namedtuple("OptInfo", ["loss", "gradNorm", "tdAbsErr", "priority"])
"""Diagnostics of one ``R2D1.optimize_agent`` call: per update ``loss`` and ``gradNorm``; a
subsample of the valid absolute TD errors (``tdAbsErr``) and the new sequence priorities
(``priority``)."""

# (frames, prioritized) -> (sync class, async class)
_SEQUENCE_BUFFERS = {
    (False, False): (
        uniform.UniformSequenceReplayBuffer,
        uniform.AsyncUniformSequenceReplayBuffer,
    ),
    (False, True): (
        prioritized.PrioritizedSequenceReplayBuffer,
        prioritized.AsyncPrioritizedSequenceReplayBuffer,
    ),
    (True, False): (
        frame.UniformSequenceReplayFrameBuffer,
        frame.AsyncUniformSequenceReplayFrameBuffer,
    ),
    (True, True): (
        frame.PrioritizedSequenceReplayFrameBuffer,
        frame.AsyncPrioritizedSequenceReplayFrameBuffer,
    ),
}


def value_rescale(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """``h(x) = sign(x) (sqrt(|x| + 1) - 1) + eps x``: squashes returns so one network fits
    values of very different scales (Pohlen et al. 2018, arXiv:1805.11593, Prop. A.2).
    Invertible for ``eps > 0`` (and for ``eps = 0``)."""
    return torch.sign(x) * (torch.sqrt(torch.abs(x) + 1) - 1) + eps * x


def inv_value_rescale(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """The inverse of :func:`value_rescale`:
    ``sign(x) (((sqrt(1 + 4 eps (|x| + 1 + eps)) - 1) / (2 eps))**2 - 1)``,
    and ``sign(x) ((|x| + 1)**2 - 1)`` for ``eps = 0`` (solve the quadratic in
    ``sqrt(|y| + 1)``)."""
    abs_x = torch.abs(x)
    if eps == 0:
        return torch.sign(x) * ((abs_x + 1) ** 2 - 1)
    root = (torch.sqrt(1 + 4 * eps * (abs_x + 1 + eps)) - 1) / (2 * eps)
    return torch.sign(x) * (root**2 - 1)


class R2D1(DQN):
    """Recurrent replay DQN: Double DQN with n-step returns on replayed sequences.

    Each update draws ``batch_B`` sequences of ``warmup_T + batch_T`` steps (plus
    ``n_step_return`` for the targets) from a sequence replay that stores the agent's
    ``prev_rnn_state`` every ``store_rnn_state_interval`` steps and starts sequences only
    there. For each sequence (Kapturowski et al. 2019, "Recurrent Experience Replay in
    Distributed Reinforcement Learning", ICLR):

    * **Stored state, burn-in.** The online and the target network each start from the
      stored state and run the first ``warmup_T`` steps without grad, only to refresh their
      state; the loss covers the next ``batch_T`` steps.
    * **Targets.** ``y_t = h(R_t + (1 - done_n) discount**n h^-1(Q_target(s_{t+n}, a*)))``
      with the n-step return ``R_t`` from the buffer, ``a*`` the online network's argmax
      (``double_dqn``) and ``h`` the invertible value rescaling (:func:`value_rescale`,
      ``value_scale_eps``; ``None`` turns it off): the networks learn rescaled values.
    * **Valid steps.** A sequence is replayed as one run of the LSTM, without resets, so
      only the steps before and at the first ``done`` since the sequence start (burn-in
      included) are trained on: after an episode ends the replayed state no longer matches
      the agent's (which restarted from zeros).
    * **Priorities** of a sequence: ``pri_eta * max_t |delta_t| + (1 - pri_eta) *
      mean_t |delta_t|`` over its valid steps. Loss: squared (or Huber, ``delta_clip``)
      TD errors, weighted by the sequence's importance weight, averaged over valid steps.
    * **Input priorities.** New data enters the replay with a priority computed from the
      sampler batch itself (:meth:`compute_input_priorities`: the agent's recorded Q-values,
      n-step returns within the batch), one per env; the replay gives it to the sequence
      whose training part starts in the batch (``input_priority_shift``).

    Time limits: sequence replay is not time-limit aware; a timeout ends the n-step returns
    as a termination does. ``replay_ratio`` counts trained steps: ``updates_per_optimize =
    round(replay_ratio * sampler_batch_size / (batch_B * batch_T))`` (below one: an update
    every few iterations, see ``UpdateSchedule``).

    Args:
        discount: gamma.
        batch_T: trained steps per sequence.
        batch_B: sequences per update.
        warmup_T: burn-in steps per sequence (no loss).
        store_rnn_state_interval: steps between stored RNN states (sequence starts);
            ``0`` stores none (every sequence starts from zeros).
        min_steps_learn, delta_clip, replay_size, replay_ratio, target_update_interval,
        n_step_return, learning_rate, OptimCls, initial_optim_state_dict, clip_grad_norm,
        eps_steps, double_dqn, prioritized_replay, pri_alpha, pri_beta_init,
        pri_beta_final, pri_beta_steps, default_priority, ReplayBufferCls,
        updates_per_sync, frame_buffer: as for ``DQN`` (``delta_clip=None``: squared error).
        optim_kwargs: default ``dict(eps=1e-3)`` (Adam's epsilon in the R2D2 paper).
        pri_eta: weight of the maximum in the sequence priorities.
        input_priorities: give new data priorities from the sampler batch.
        input_priority_shift: in stored-state slots; default
            ``warmup_T // store_rnn_state_interval``.
        value_scale_eps: ``eps`` of the value rescaling, ``None`` for none.
    """

    opt_info_fields = tuple(OptInfo._fields)

    def __init__(
        self,
        discount: float = 0.997,
        batch_T: int = 80,
        batch_B: int = 64,
        warmup_T: int = 40,
        store_rnn_state_interval: int = 40,
        min_steps_learn: int = int(1e5),
        delta_clip: float | None = None,
        replay_size: int = int(1e6),
        replay_ratio: float = 1,
        target_update_interval: int = 2500,
        n_step_return: int = 5,
        learning_rate: float = 1e-4,
        OptimCls: type[torch.optim.Optimizer] = torch.optim.Adam,
        optim_kwargs: dict | None = None,
        initial_optim_state_dict: Any = None,
        clip_grad_norm: float = 80.0,
        eps_steps: int = int(1e6),
        double_dqn: bool = True,
        prioritized_replay: bool = True,
        pri_alpha: float = 0.6,
        pri_beta_init: float = 0.9,
        pri_beta_final: float = 0.9,
        pri_beta_steps: int = int(50e6),
        pri_eta: float = 0.9,
        default_priority: float | None = None,
        input_priorities: bool = True,
        input_priority_shift: int | None = None,
        value_scale_eps: float | None = 1e-3,
        ReplayBufferCls: type | None = None,
        updates_per_sync: int = 1,
        frame_buffer: bool | None = None,
    ) -> None:
        for name, value in (("batch_T", batch_T), ("batch_B", batch_B)):
            if int(value) < 1:
                raise ValueError(f"R2D1: {name} must be >= 1; got {value!r}")
        if warmup_T < 0 or store_rnn_state_interval < 0:
            raise ValueError(
                f"R2D1: warmup_T and store_rnn_state_interval must be >= 0; got {warmup_T}, "
                f"{store_rnn_state_interval}"
            )
        super().__init__(
            discount=discount,
            batch_size=batch_B * batch_T,  # trained steps per update, for the replay ratio
            min_steps_learn=min_steps_learn,
            delta_clip=delta_clip,
            replay_size=replay_size,
            replay_ratio=replay_ratio,
            target_update_interval=target_update_interval,
            n_step_return=n_step_return,
            learning_rate=learning_rate,
            OptimCls=OptimCls,
            optim_kwargs=dict(eps=1e-3) if optim_kwargs is None else optim_kwargs,
            initial_optim_state_dict=initial_optim_state_dict,
            clip_grad_norm=clip_grad_norm,
            eps_steps=eps_steps,
            double_dqn=double_dqn,
            prioritized_replay=prioritized_replay,
            pri_alpha=pri_alpha,
            pri_beta_init=pri_beta_init,
            pri_beta_final=pri_beta_final,
            pri_beta_steps=pri_beta_steps,
            default_priority=default_priority,
            ReplayBufferCls=ReplayBufferCls,
            updates_per_sync=updates_per_sync,
            frame_buffer=frame_buffer,
        )
        self.batch_T = batch_T
        self.batch_B = batch_B
        self.warmup_T = warmup_T
        self.store_rnn_state_interval = store_rnn_state_interval
        self.pri_eta = pri_eta
        self.input_priorities = input_priorities
        if input_priority_shift is None:
            input_priority_shift = warmup_T // max(1, store_rnn_state_interval)
        self.input_priority_shift = input_priority_shift
        self.value_scale_eps = value_scale_eps

    # --- replay ----------------------------------------------------------------------------

    def examples_to_buffer(self, examples: dict[str, Any]) -> Any:
        """One step of :meth:`samples_to_buffer`'s samples (without input priorities)."""
        return SamplesToBufferRnn(
            observation=examples["observation"],
            action=examples["action"],
            reward=examples["reward"],
            done=examples["done"],
            prev_rnn_state=examples["agent_info"].prev_rnn_state,
        )

    def replay_kwargs(self, examples: dict[str, Any], batch_spec: Any) -> dict[str, Any]:
        """Sequence replay arguments: sequences of ``warmup_T + batch_T`` steps."""
        kwargs = dict(
            example=self.examples_to_buffer(examples),
            size=self.replay_size,
            B=batch_spec.B,
            rnn_state_interval=self.store_rnn_state_interval,
            batch_T=self.warmup_T + self.batch_T,
            discount=self.discount,
            n_step_return=self.n_step_return,
        )
        if self.prioritized_replay:
            kwargs.update(
                alpha=self.pri_alpha,
                beta=self.pri_beta_init,
                input_priorities=self.input_priorities,
                input_priority_shift=self.input_priority_shift,
            )
            if self.default_priority is not None:
                kwargs["default_priority"] = self.default_priority
        return kwargs

    def initialize_replay_buffer(
        self, examples: dict[str, Any], batch_spec: Any, async_: bool = False
    ) -> Any:
        """A sequence replay: frames or whole observations (``frame_buffer``, chosen as in
        DQN), uniform or prioritized; ``ReplayBufferCls`` wins when given."""
        kwargs = self.replay_kwargs(examples, batch_spec)
        if self.ReplayBufferCls is not None:
            return self.ReplayBufferCls(**kwargs)
        frames = self.frame_buffer
        if frames is None:
            observation = np.asarray(examples["observation"])
            frames = observation.dtype == np.uint8 and observation.ndim == 3
        classes = _SEQUENCE_BUFFERS[(bool(frames), bool(self.prioritized_replay))]
        return classes[bool(async_)](**kwargs)

    def samples_to_buffer(self, samples: Any) -> Any:
        """``SamplesToBufferRnn`` of a sampler batch (``[T, B]`` leaves), wrapped with
        :meth:`compute_input_priorities` in ``PrioritiesSamplesToBuffer`` when the replay
        takes input priorities."""
        data = SamplesToBufferRnn(
            observation=samples.env.observation,
            action=samples.agent.action,
            reward=samples.env.reward,
            done=samples.env.done,
            prev_rnn_state=samples.agent.agent_info.prev_rnn_state,
        )
        if self.prioritized_replay and self.input_priorities:
            priorities = self.compute_input_priorities(samples)
            if priorities is not None:
                return PrioritiesSamplesToBuffer(priorities=priorities, samples=data)
        return data

    def compute_input_priorities(self, samples: Any) -> np.ndarray | None:
        """Priorities ``[B]`` of a sampler batch, from the Q-values the agent acted on.

        The TD errors ``|y_t - q_t(a_t)|`` use the batch's own n-step returns (``n =
        min(n_step_return, T - 1)``, so only steps with a complete window) and bootstrap
        ``max_a q_{t+n}`` from the recorded (online, rescaled) Q-values, then mix them per
        env as the sequence priorities are mixed. With WaitReset collectors (no mid-batch
        reset) only the steps up to each env's first ``done`` are real.

        Returns:
            ``[B]`` float64, or ``None`` for a batch of one step (nothing to compare).
        """
        samples = torchify_buffer(samples)
        q = samples.agent.agent_info.q.float()  # [T, B, A]
        T = q.shape[0]
        n = min(self.n_step_return, T - 1)
        if n < 1:
            return None
        return_, done_n = discount_return_n_step(
            samples.env.reward.float(), samples.env.done, n_step=n, discount=self.discount
        )
        bootstrap = torch.max(q[n:], dim=-1).values  # [T - n, B]
        y = self._targets(return_[: T - n], done_n[: T - n], bootstrap, self.discount**n)
        q_a = select_at_indexes(samples.agent.action[: T - n], q[: T - n])
        abs_delta = torch.abs(y - q_a)
        valid = None
        if not getattr(self, "mid_batch_reset", True):
            valid = valid_from_done(samples.env.done[: T - n])
        return self._mix_priorities(abs_delta, valid).numpy().astype(np.float64)

    # --- training --------------------------------------------------------------------------

    def optimize_agent(self, itr: int, samples: Any = None, sampler_itr: int | None = None) -> Any:
        """Append ``samples`` (if given) and make this iteration's sequence updates.

        Returns:
            ``OptInfo`` with a list per field (empty before ``min_steps_learn``).
        """
        itr = itr if sampler_itr is None else sampler_itr
        if samples is not None:
            self.replay_buffer.append_samples(self.samples_to_buffer(samples))
        opt_info = OptInfo(*([] for _ in OptInfo._fields))
        if itr < self.min_itr_learn:
            return opt_info
        n_updates = updates_this_itr(self, itr)
        if n_updates == 0:  # a replay ratio below one update per iteration
            self.update_itr_hyperparams(itr)
            return opt_info
        device = self._device
        stats, td_errors, priorities_all = [], [], []
        for _ in range(n_updates):
            batch = buffer_to(self.replay_buffer.sample_batch(self.batch_B), device=device)
            self.agent.resample_noise()
            loss, td_abs_errors, priorities = self.loss(batch)
            self._gradient_step.zero_grad()
            loss.backward()
            grad_norm = self._gradient_step.clip_grad_norm(self.clip_grad_norm)
            self._optim_step()
            if self.prioritized_replay:
                self.replay_buffer.update_batch_priorities(priorities.cpu())
            stats.append(torch.stack([loss.detach(), grad_norm.to(loss.device)]))
            td_errors.append(td_abs_errors[::8])
            priorities_all.append(priorities)
            self.update_counter += 1
            if self.update_counter % self.target_update_interval == 0:
                self.agent.update_target(self.target_update_tau)
        losses, grad_norms = torch.stack(stats).T.tolist()  # one host transfer
        opt_info.loss.extend(losses)
        opt_info.gradNorm.extend(grad_norms)
        opt_info.tdAbsErr.extend(torch.cat(td_errors).tolist())
        opt_info.priority.extend(torch.cat(priorities_all).tolist())
        self.update_itr_hyperparams(itr)
        return opt_info

    def loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Loss, valid absolute TD errors and new priorities of a batch of sequences.

        Args:
            batch: sequence ``SamplesFromReplay[Pri]`` with ``L = warmup_T + batch_T +
                n_step_return`` steps (``all_*``: ``[L, batch_B]``; ``return_``, ``done``,
                ``done_n``: ``[warmup_T + batch_T, batch_B]``).

        Returns:
            ``(loss, td_abs_errors, priorities)``: a scalar with grad; the absolute TD
            errors of the valid steps (``[n_valid]``, clipped at ``delta_clip``); and
            ``[batch_B]`` sequence priorities.
        """
        wT, bT, n = self.warmup_T, self.batch_T, self.n_step_return
        observation, prev_action, prev_reward = (
            batch.all_observation,
            batch.all_action,
            batch.all_reward,
        )
        init_rnn_state = batch.init_rnn_state
        if init_rnn_state is not None:  # stored batch-major [B, N, H]; the model takes [N, B, H]
            init_rnn_state = buffer_method(init_rnn_state, "transpose", 0, 1)
            init_rnn_state = buffer_method(init_rnn_state, "contiguous")
        target_rnn_state = init_rnn_state
        if wT > 0:  # burn-in: refresh both networks' states, no grad
            with torch.no_grad():
                warm = (observation[:wT], prev_action[:wT], prev_reward[:wT])
                _, init_rnn_state = self.agent(*warm, init_rnn_state)
                _, target_rnn_state = self.agent.target(*warm, target_rnn_state)
        inputs = (observation[wT:], prev_action[wT:], prev_reward[wT:])  # bT + n steps
        qs, _ = self.agent(*inputs, init_rnn_state)  # [bT + n, B, A]
        q = select_at_indexes(prev_action[wT + 1 : wT + bT + 1], qs[:bT])
        with torch.no_grad():
            target_qs, _ = self.agent.target(*inputs, target_rnn_state)
            target_qs = target_qs[n:]
            chooser = qs[n:] if self.double_dqn else target_qs
            next_q = select_at_indexes(torch.argmax(chooser, dim=-1), target_qs)
            y = self._targets(batch.return_[wT:], batch.done_n[wT:], next_q, self.discount**n)
        delta = y - q
        abs_delta = torch.abs(delta.detach())
        losses = 0.5 * delta**2
        if self.delta_clip is not None:  # Huber loss
            linear = self.delta_clip * (torch.abs(delta) - 0.5 * self.delta_clip)
            losses = torch.where(abs_delta <= self.delta_clip, losses, linear)
            abs_delta = torch.clamp(abs_delta, max=self.delta_clip)
        if self.prioritized_replay:
            losses = losses * batch.is_weights.unsqueeze(0)
        # Train only up to the first episode end since the sequence start (burn-in included).
        valid = valid_from_done(batch.done)[wT:]
        loss = valid_mean(losses, valid)
        priorities = self._mix_priorities(abs_delta, valid)
        return loss, abs_delta[valid > 0], priorities

    def _targets(self, return_, done_n, next_q, bootstrap_discount: float) -> torch.Tensor:
        """``h(return_ + (1 - done_n) * bootstrap_discount * h^-1(next_q))`` (rescaled values),
        or without ``h`` when ``value_scale_eps`` is ``None``."""
        eps = self.value_scale_eps
        if eps is not None:
            next_q = inv_value_rescale(next_q, eps)
        y = return_.to(next_q.dtype) + (1 - done_n.to(next_q.dtype)) * bootstrap_discount * next_q
        return y if eps is None else value_rescale(y, eps)

    def _mix_priorities(self, abs_delta: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        """``eta * max_t + (1 - eta) * mean_t`` of ``abs_delta [T, B]`` over valid steps."""
        if valid is None:
            max_d, mean_d = abs_delta.max(dim=0).values, abs_delta.mean(dim=0)
        else:
            max_d = torch.max(abs_delta * valid, dim=0).values
            mean_d = valid_mean(abs_delta, valid, dim=0)
        return self.pri_eta * max_d + (1 - self.pri_eta) * mean_d
