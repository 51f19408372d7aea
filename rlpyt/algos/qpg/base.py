"""What DDPG, TD3 and SAC share: the (time-limit aware) replay, the update loop that brings
diagnostics to the host once per call, replay batches prepared on the agent's device,
per-critic gradient clipping of a critic ensemble under one optimizer, and a lean step for
fused Adam."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from rlpyt.algos.base import RlAlgorithm
from rlpyt.algos.optim import FastAdamStep
from rlpyt.algos.update_schedule import UpdateSchedule, updates_this_itr
from rlpyt.algos.utils import replay_target_factors
from rlpyt.models.qpg.ensemble import QofMuEnsembleMlpModel
from rlpyt.replays.base import (
    BaseReplayBuffer,
    examples_to_buffer,
    samples_to_buffer,
)
from rlpyt.replays.factory import make_replay_buffer
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.logging import logger

__all__ = ["EnsembleGradClip", "FastAdamStep", "QpgAlgorithm", "ReplayBatch", "pack_to_device"]

ReplayBatch = namedarraytuple(
    "ReplayBatch",
    ["agent_inputs", "action", "return_", "bootstrap", "weight", "target_inputs"],
)
"""A replay batch ready for the losses, leading dim ``[batch_B]``, on the agent's device:

* ``agent_inputs``, ``target_inputs``: ``AgentInputs`` at the sampled step and at the
  bootstrap step (``t + n``, or where a time limit cut the n-step window);
* ``action``: the action taken (env units); ``return_``: the n-step return;
* ``bootstrap``: float32, the factor of the target value in the critic target
  ``y = return_ + bootstrap * V(target_inputs)``: 0 where the episode terminated within the
  window, else ``discount**k`` (``k`` the window length);
* ``weight``: float32 weights of the batch mean (valid samples ``1 / n_valid``, the others 0),
  or ``None`` when every sample is valid (then losses are plain means).
"""


class QpgAlgorithm(RlAlgorithm):
    """Base of the Q-function policy-gradient algorithms (DDPG, TD3, SAC).

    Runners call :meth:`initialize` (or the async pair :meth:`async_initialize` /
    :meth:`optim_initialize`), then :meth:`optimize_agent` every iteration. Each call
    appends the sampler's batch to the replay buffer and, from ``min_steps_learn`` env steps
    on, makes ``updates_per_optimize = max(1, round(replay_ratio * sampler_batch_size /
    batch_size))`` updates, each on a fresh replay batch: ``replay_ratio`` is how many times
    each collected transition is used in training, on average. Where that rate is below one
    update per iteration, the updates are spread out instead (one every few iterations,
    ``rlpyt.algos.update_schedule.UpdateSchedule``). Subclasses implement
    :meth:`optim_initialize` (their optimizers) and :meth:`update` (one gradient update,
    returning its diagnostics as tensors); this class brings every diagnostic of a call to
    the host in one transfer at the end of the call, so that no update waits on the device.

    Time limits: with ``bootstrap_timelimit`` and an env that reports ``env_info.timeout``
    (every ``GymEnvWrapper`` env), the replay is time-limit aware (``TlUniformReplayBuffer``):
    an n-step window cut by a time limit bootstraps from the state where it was cut
    (``discount**k``), never treating the truncation as a termination; a sampled step that is
    itself the timeout step is left out of the losses, because its successor observation in
    the buffer is the next episode's first one (Reset collectors store no final observation).
    Without either, the plain ``UniformReplayBuffer`` treats every ``done`` as terminal, as
    rlpyt did with ``bootstrap_timelimit=False``.
    """

    batch_size: int = 64  # a plain attribute here (the base class has a read-only property)
    OptInfoCls: type = tuple  # the namedtuple of the subclass's diagnostics

    def _init_common(
        self,
        discount: float,
        batch_size: int,
        min_steps_learn: int,
        replay_size: int,
        replay_ratio: float,
        target_update_tau: float,
        target_update_interval: int,
        OptimCls: type,
        optim_kwargs: dict | None,
        initial_optim_state_dict: Any,
        clip_grad_norm: float,
        n_step_return: int,
        updates_per_sync: int,
        bootstrap_timelimit: bool,
        ReplayBufferCls: type | None,
        compile_update: bool,
    ) -> None:
        """Check and store the settings every subclass has."""
        name = type(self).__name__
        for arg, value in (
            ("batch_size", batch_size),
            ("n_step_return", n_step_return),
            ("target_update_interval", target_update_interval),
            ("updates_per_sync", updates_per_sync),
        ):
            if int(value) < 1:
                raise ValueError(f"{name}: {arg} must be >= 1; got {value!r}")
        if not replay_ratio > 0:
            raise ValueError(f"{name}: replay_ratio must be > 0; got {replay_ratio!r}")
        if not 0 < target_update_tau <= 1:
            raise ValueError(
                f"{name}: target_update_tau must be in (0, 1]; got {target_update_tau}"
            )
        self.discount = discount
        self.batch_size = int(batch_size)
        self.min_steps_learn = min_steps_learn
        self.replay_size = replay_size
        self.replay_ratio = replay_ratio
        self.target_update_tau = target_update_tau
        self.target_update_interval = int(target_update_interval)
        self.OptimCls = OptimCls
        self.optim_kwargs = {} if optim_kwargs is None else dict(optim_kwargs)
        self.initial_optim_state_dict = initial_optim_state_dict
        self.clip_grad_norm = clip_grad_norm
        self.n_step_return = int(n_step_return)
        self.updates_per_sync = int(updates_per_sync)
        self.bootstrap_timelimit = bootstrap_timelimit
        self.ReplayBufferCls = ReplayBufferCls
        self.compile_update = compile_update
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
        """Schedules, the replay buffer and the optimizers; see ``RlAlgorithm.initialize``."""
        self._setup(agent, n_itr, batch_spec, mid_batch_reset, examples, world_size)
        self.update_schedule = UpdateSchedule(self.replay_ratio, self.sampler_bs, self.batch_size)
        self.updates_per_optimize = self.update_schedule.per_itr
        logger.log(
            f"{type(self).__name__}: sampler batch {self.sampler_bs}, training batch "
            f"{self.batch_size}, replay ratio {self.replay_ratio}: "
            f"{self.update_schedule.describe()}"
        )
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
        """Schedules and a shared-memory replay buffer (async runner); returns the buffer.
        The optimizers are built later by :meth:`optim_initialize`, in the optimizing
        process; each ``optimize_agent`` call makes ``updates_per_sync`` updates."""
        self._setup(agent, sampler_n_itr, batch_spec, mid_batch_reset, examples, world_size)
        self.update_schedule = None
        self.updates_per_optimize = self.updates_per_sync
        self.replay_buffer = self.initialize_replay_buffer(examples, batch_spec, async_=True)
        return self.replay_buffer

    def _setup(self, agent, n_itr, batch_spec, mid_batch_reset, examples, world_size) -> None:
        self.agent = agent
        self.n_itr = n_itr
        self.batch_spec = batch_spec
        self.mid_batch_reset = mid_batch_reset
        self.world_size = world_size
        self.sampler_bs = batch_spec.size
        self.min_itr_learn = int(self.min_steps_learn // self.sampler_bs)
        agent.give_min_itr_learn(self.min_itr_learn)
        env_info = examples["env_info"]
        has_timeout = "timeout" in getattr(env_info, "_fields", ())
        self.time_limit = bool(self.bootstrap_timelimit and has_timeout)
        if not mid_batch_reset:
            logger.log(
                f"WARNING: {type(self).__name__} expects Reset collectors (mid_batch_reset); "
                f"with WaitReset collectors the blank rows after an env's end are replayed too"
            )

    def optim_initialize(self, rank: int = 0) -> None:
        """Build the optimizers (in the optimizing process, for the async runner)."""
        raise NotImplementedError

    def examples_to_buffer(self, examples: dict[str, Any]) -> Any:
        """One step of what :meth:`samples_to_buffer` produces, for allocating the replay."""
        return examples_to_buffer(examples, self.time_limit)

    def initialize_replay_buffer(
        self, examples: dict[str, Any], batch_spec: Any, async_: bool = False
    ) -> BaseReplayBuffer:
        """A ``(Tl)UniformReplayBuffer`` (``Async...`` for ``async_``), or
        ``ReplayBufferCls`` with the same keyword arguments when one was given."""
        if self.ReplayBufferCls is not None:
            logger.log(f"{type(self).__name__}: using the given replay {self.ReplayBufferCls}")
        return make_replay_buffer(
            self.ReplayBufferCls,
            frames=False,
            time_limit=self.time_limit,
            prioritized=False,
            async_=async_,
            example=self.examples_to_buffer(examples),
            size=self.replay_size,
            B=batch_spec.B,
            discount=self.discount,
            n_step_return=self.n_step_return,
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
        if itr < self.min_itr_learn or not self._replay_ready():
            return self.OptInfoCls(*([] for _ in self.OptInfoCls._fields))
        records = []
        for _ in range(updates_this_itr(self, itr)):
            batch = self.prepare_batch(self.replay_buffer.sample_batch(self.batch_size))
            records.append(self.update(batch))
        return self._opt_info(records)

    def _replay_ready(self) -> bool:
        """Whether the replay holds more than ``min_steps_learn`` steps (and a full n-step
        window). Always so in a fresh run from ``min_itr_learn`` on; after resuming from a
        snapshot (replays are not saved) it holds the updates back until the replay is
        refilled, instead of training on a handful of transitions."""
        written = getattr(self.replay_buffer, "steps_written", None)
        if written is None:
            return True
        return written * self.replay_buffer.B > self.min_steps_learn and (
            written > self.n_step_return
        )

    def update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        """One gradient update on a prepared batch.

        Returns:
            Diagnostics as tensors on the device, ``{OptInfo field: tensor}`` (scalars or
            1-D; a field may be absent, e.g. the policy loss of an update without a policy
            step).
        """
        raise NotImplementedError

    def _opt_info(self, records: Sequence[dict[str, torch.Tensor]]) -> Any:
        """``OptInfo`` of lists from the updates' tensors, with one device-to-host copy."""
        fields = self.OptInfoCls._fields
        parts, lengths = [], []
        for name in fields:
            values = [r[name].reshape(-1) for r in records if name in r]
            lengths.append(sum(v.shape[0] for v in values))
            parts.extend(values)
        flat = torch.cat(parts).tolist() if parts else []
        out, start = [], 0
        for n in lengths:
            out.append(flat[start : start + n])
            start += n
        return self.OptInfoCls(*out)

    def prepare_batch(self, samples: Any) -> ReplayBatch:
        """A replay buffer's ``SamplesFromReplay[TL]`` as a :class:`ReplayBatch` on the
        agent's device: the bootstrap factor and the sample weights are computed here, once
        per batch (on the CPU), so the losses need neither ``done_n`` nor ``timeout``."""
        bootstrap, weight = replay_target_factors(
            samples, self.discount, self.n_step_return, self.time_limit
        )
        return_ = samples.return_
        if return_.dtype != torch.float32:
            return_ = return_.to(torch.float32)
        batch = ReplayBatch(
            agent_inputs=samples.agent_inputs,
            action=samples.action,
            return_=return_,
            bootstrap=bootstrap,
            weight=weight,
            target_inputs=samples.target_inputs,
        )
        device = getattr(self.agent, "device", None)
        if device is None or torch.device(device).type == "cpu":
            return batch
        return pack_to_device(batch, torch.device(device))

    # --- helpers for the losses ------------------------------------------------------------

    @staticmethod
    def batch_mean(values: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
        """Mean of ``values [batch_B]`` over the valid samples (``weight`` from the batch)."""
        if weight is None:
            return values.mean()
        return torch.dot(values, weight)

    def _maybe_compile(self, fn: Callable) -> Callable:
        """``torch.compile(fn)`` when ``compile_update`` is set, else ``fn``."""
        if not self.compile_update:
            return fn
        return torch.compile(fn, dynamic=False)


def pack_to_device(batch: Any, device: torch.device) -> Any:
    """Copy the tensors of ``batch`` to ``device`` with one host-to-device copy per dtype.

    Leaves of one dtype are concatenated (flat) on the host, put in pinned memory where CUDA
    is available, copied with ``non_blocking=True`` (so the host does not wait for the
    device's queue), and split back into views of their shapes on the device.
    """
    leaves, treedef = torch.utils._pytree.tree_flatten(batch)
    groups: dict[torch.dtype, list[int]] = {}
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, torch.Tensor):
            groups.setdefault(leaf.dtype, []).append(i)
    out = list(leaves)
    pin = device.type == "cuda" and torch.cuda.is_available()
    for idxs in groups.values():
        host = torch.cat([leaves[i].reshape(-1) for i in idxs])
        if pin:
            host = host.pin_memory()
        moved = host.to(device, non_blocking=pin)
        sizes = [leaves[i].numel() for i in idxs]
        for i, part in zip(idxs, moved.split(sizes)):
            out[i] = part.view(leaves[i].shape)
    return torch.utils._pytree.tree_unflatten(out, treedef)


class EnsembleGradClip:
    """Gradient-norm clipping of each critic of an ensemble on its own, with one optimizer
    over all of them (SAC's twin critics: rlpyt clipped each critic's gradient separately).

    Works for a fused ``QofMuEnsembleMlpModel`` (member ``j``'s gradient is slice ``j`` of
    every stacked gradient) and for separate instances. About ten tensor ops, no host
    synchronisation.

    Args:
        q_models: the agent's critic ensemble (``agent.q_models``).
    """

    def __init__(self, q_models: torch.nn.Module) -> None:
        self.k = int(q_models.ensemble_size)
        if isinstance(q_models, QofMuEnsembleMlpModel):
            self.params = list(q_models.parameters())
            self.member_params = None
        else:
            self.member_params = [list(q_models.member(j).parameters()) for j in range(self.k)]

    def _member_grads(self) -> list[list[torch.Tensor]]:
        if self.member_params is None:
            grads = [p.grad for p in self.params if p.grad is not None]
            return [[g[j] for g in grads] for j in range(self.k)]
        return [[p.grad for p in ps if p.grad is not None] for ps in self.member_params]

    def __call__(self, max_norm: float) -> torch.Tensor:
        """Clip each member's gradient to norm ``max_norm``.

        Returns:
            ``[k]`` norms before clipping.
        """
        members = self._member_grads()
        sizes = [len(m) for m in members]
        with torch.no_grad():
            norms = torch.stack(torch._foreach_norm([g for m in members for g in m]))
            if len(set(sizes)) == 1:
                norms = torch.linalg.vector_norm(norms.view(self.k, sizes[0]), dim=1)
            else:
                norms = torch.stack([torch.linalg.vector_norm(n) for n in norms.split(sizes)])
            coeff = torch.clamp(float(max_norm) / (norms + 1e-6), max=1.0)
            for grads, c in zip(members, coeff.unbind(0)):
                torch._foreach_mul_(grads, c)
        return norms
