"""What the DDPG, TD3 and SAC agents share: action scaling to the env's bounds, a critic
ensemble with target copies, one fused target update, modes, devices and state dicts."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from rlpyt.agents.base import BaseAgent, space_shape, space_size
from rlpyt.models.qpg.ensemble import make_q_ensemble
from rlpyt.models.utils import strip_ddp_state_dict


class ActionScaling:
    """The affine map between the agents' normalized actions and the env's action box.

    Policies and exploration noise work in normalized units, ``[-1, 1]`` per dimension (a
    tanh output); the agents map actions to the env's bounds ``[low, high]`` with
    ``a_env = center + half * a`` (``center = (high + low) / 2``, ``half = (high - low) / 2``)
    before returning them from ``step`` and before giving them to the critics. Env actions
    (the samples buffer, the replay buffer) and critic inputs are therefore in env units;
    for Pendulum-v1 (``[-2, 2]``) ``a_env = 2 a``. Identity parts of the map are skipped.

    Args:
        low, high: the action bounds (arrays of the action shape or scalars), finite.

    Raises:
        ValueError: for infinite bounds or ``high <= low``.
    """

    def __init__(self, low: Any, high: Any) -> None:
        low = np.asarray(low, dtype=np.float64).reshape(-1)
        high = np.asarray(high, dtype=np.float64).reshape(-1)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(
                f"ActionScaling needs finite action bounds, got low={low}, high={high}; "
                f"bound the env's action space (e.g. gymnasium.wrappers.ClipAction on a Box "
                f"with finite bounds)"
            )
        if np.any(high <= low):
            raise ValueError(f"ActionScaling needs high > low, got low={low}, high={high}")
        half, center = (high - low) / 2, (high + low) / 2
        self.low, self.high = low.astype(np.float32), high.astype(np.float32)
        # Log-densities in env units are those in normalized units minus this constant.
        self.log_scale = float(np.log(half).sum())
        self._half = _factor(half, identity=1.0)
        self._center = _factor(center, identity=0.0)
        self._low = self._high = None
        if self._center is not None:  # the shifted map can overshoot a bound by rounding
            self._low, self._high = torch.as_tensor(self.low), torch.as_tensor(self.high)

    def to(self, device: torch.device) -> ActionScaling:
        """Move the map's tensors to ``device`` (in place); returns ``self``."""
        for name in ("_half", "_center", "_low", "_high"):
            value = getattr(self, name)
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
        return self

    def to_env(self, action: torch.Tensor, clamp: bool = False) -> torch.Tensor:
        """Normalized ``[..., A]`` -> env units. ``clamp``: keep the result inside
        ``[low, high]`` exactly (only matters when the box is not centred on 0)."""
        if self._half is not None:
            action = action * self._half
        if self._center is not None:
            action = action + self._center
            if clamp:
                action = torch.clamp(action, self._low, self._high)
        return action

    def to_normalized(self, action: torch.Tensor) -> torch.Tensor:
        """Env units ``[..., A]`` -> normalized (the inverse of :meth:`to_env`)."""
        if self._center is not None:
            action = action - self._center
        if self._half is not None:
            action = action / self._half
        return action


def _factor(values: np.ndarray, identity: float) -> float | torch.Tensor | None:
    """``None`` if every entry is ``identity``, a Python float if all are equal, else a
    float32 tensor (so that common boxes cost at most one scalar op)."""
    if np.all(values == identity):
        return None
    if np.all(values == values[0]):
        return float(values[0])
    return torch.as_tensor(values, dtype=torch.float32)


def _frozen_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy that takes no gradient (a target network)."""
    target = copy.deepcopy(module)
    target.requires_grad_(False)
    return target


def is_agent_state_dict(state_dict: Any) -> bool:
    """Whether ``state_dict`` is a whole agent's (``{"model": {...}, ...}``), not a model's."""
    return isinstance(state_dict, Mapping) and isinstance(state_dict.get("model"), Mapping)


class QpgAgentBase(BaseAgent):
    """A policy (``model``) plus an ensemble of critics and target copies, for continuous
    actions in a bounded ``FloatBox``/Gymnasium ``Box`` of shape ``(A,)``.

    Not used directly: ``DdpgAgent``/``Td3Agent`` (deterministic policy, target policy) and
    ``SacAgent`` (Gaussian policy, no target policy) define ``step`` and the critic calls.
    Samplers call :meth:`step`; algorithms call the critic methods, :meth:`update_target`,
    :meth:`q_parameters` and :meth:`give_min_itr_learn`.

    Critics: ``q_models`` holds the ``n_q`` critics as one module: a fused
    ``QofMuEnsembleMlpModel`` for ``QModelCls=QofMuMlpModel`` with two critics, else
    separate instances (``rlpyt.models.qpg.ensemble``). The class attribute
    ``q_model_names`` names the members (``q_model``, ``q2_model``; or ``q1_model``,
    ``q2_model``): they are the agent's attributes of those names (member views, with
    ``target_`` versions) and the keys of :meth:`state_dict`. Target networks are deep copies
    with ``requires_grad=False``; :meth:`update_target` moves all of them in one foreach op.
    Critic and policy outputs stay on the model's device (only :meth:`step` returns CPU
    tensors), and none of these methods synchronises with the device.

    Actions: see :class:`ActionScaling` (``agent.action_scaling``): policies output
    normalized actions, the agent returns and the critics take env units.

    Args:
        ModelCls, QModelCls: policy and critic classes, built as ``Cls(observation_shape=...,
            action_size=..., **kwargs)`` (see :meth:`make_env_to_model_kwargs`).
        model_kwargs, q_model_kwargs: their keyword arguments; ``None`` gives
            ``dict(hidden_sizes=default_hidden_sizes)``.
        initial_model_state_dict: the policy's state dict, or a whole agent's
            (:meth:`state_dict`), loaded in :meth:`initialize`.
        default_hidden_sizes: the hidden sizes used for ``None`` kwargs.
    """

    n_q: int = 1
    q_model_names: tuple[str, ...] = ("q_model",)
    has_target_model: bool = True

    def __init__(
        self,
        ModelCls: type[torch.nn.Module],
        QModelCls: type[torch.nn.Module],
        model_kwargs: dict | None,
        q_model_kwargs: dict | None,
        initial_model_state_dict: dict | None,
        default_hidden_sizes: tuple[int, ...],
    ) -> None:
        if model_kwargs is None:
            model_kwargs = dict(hidden_sizes=list(default_hidden_sizes))
        if q_model_kwargs is None:
            q_model_kwargs = dict(hidden_sizes=list(default_hidden_sizes))
        super().__init__(
            ModelCls=ModelCls,
            model_kwargs=model_kwargs,
            initial_model_state_dict=initial_model_state_dict,
        )
        self.QModelCls = QModelCls
        self.q_model_kwargs = dict(q_model_kwargs)
        self.min_itr_learn = 0  # given by the algorithm (give_min_itr_learn)
        self.q_models: torch.nn.Module | None = None
        self.target_q_models: torch.nn.Module | None = None
        self.target_model: torch.nn.Module | None = None
        self.action_scaling: ActionScaling | None = None
        self._q_forward: torch.nn.Module | None = None  # q_models, or its DDP wrapper
        self._target_pairs: tuple | None = None

    # --- construction ----------------------------------------------------------------------

    def make_env_to_model_kwargs(self, env_spaces: Any) -> dict:
        """``dict(observation_shape, action_size)`` from the spaces, for every model class
        (given or default), as in rlpyt.

        Raises:
            ValueError: if actions are not float vectors.
        """
        action = env_spaces.action
        if len(space_shape(action)) != 1 or np.dtype(action.dtype).kind != "f":
            raise ValueError(
                f"{type(self).__name__} needs vector actions (a float box of shape (A,)), got "
                f"shape {space_shape(action)}, dtype {action.dtype}"
            )
        return dict(
            observation_shape=space_shape(env_spaces.observation),
            action_size=space_size(env_spaces.action),
        )

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the policy, the critics, their target copies and the action scaling.

        Raises:
            ValueError: for non-vector actions or action bounds that are not finite.
        """
        self.make_env_to_model_kwargs(env_spaces)  # checks the action shape first
        self.action_scaling = ActionScaling(env_spaces.action.low, env_spaces.action.high)
        initial = self.initial_model_state_dict
        whole_agent = is_agent_state_dict(initial)
        if whole_agent:
            self.initial_model_state_dict = None  # loaded below, once everything exists
        try:
            super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        finally:
            self.initial_model_state_dict = initial
        q_kwargs = {**self.env_model_kwargs, **self.q_model_kwargs}
        self.q_models = make_q_ensemble(self.QModelCls, self.n_q, **q_kwargs)
        self._load_initial_q_models()
        self.target_q_models = _frozen_copy(self.q_models)
        if self.has_target_model:
            self.target_model = _frozen_copy(self.model)
        if whole_agent:
            self.load_state_dict(initial)
        self._q_forward = self.q_models
        self._target_pairs = None

    def _load_initial_q_models(self) -> None:
        """Load the critics' initial state dicts given to the constructor (subclasses)."""

    def give_min_itr_learn(self, min_itr_learn: int) -> None:
        """The algorithm says from which sampler iteration it learns (exploration before it
        may differ, e.g. ``pretrain_std``)."""
        self.min_itr_learn = int(min_itr_learn)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["_target_pairs"] = None  # rebuilt on first use
        if state.get("model") is None and state.get("shared_model") is not None:
            # A parallel sampler's worker copy (``detach_model`` drops the model): it acts
            # with the shared policy only and needs no critics or targets.
            for name in ("q_models", "target_q_models", "target_model", "_q_forward"):
                state[name] = None
        return state

    # --- critics and targets -----------------------------------------------------------------

    def _q_member(self, models: torch.nn.Module | None, name: str) -> torch.nn.Module | None:
        return None if models is None else models.member(self.q_model_names.index(name))

    def q_parameters(self) -> Iterator[torch.nn.Parameter]:
        """Parameters of all critics (for one critic optimizer)."""
        return self.q_models.parameters()

    def update_target(self, tau: float = 1) -> None:
        """Copy the online networks into the targets (``tau=1``), or move the targets a
        fraction ``tau`` towards them, ``target <- target + tau * (online - target)``
        (Polyak averaging), in one ``torch._foreach_lerp_`` over all target tensors.

        Floating-point parameters and buffers are interpolated; other buffers are copied.
        ``tau`` is a Python number (a tensor would cost a device sync here).
        """
        if self._target_pairs is None:
            self._target_pairs = self._make_target_pairs()
        targets, sources, other_targets, other_sources = self._target_pairs
        with torch.no_grad():
            if tau == 1:
                torch._foreach_copy_(targets, sources)
            else:
                torch._foreach_lerp_(targets, sources, tau)
            for target, source in zip(other_targets, other_sources):
                target.copy_(source)

    def _make_target_pairs(self) -> tuple[list, list, list, list]:
        pairs = [(self.q_models, self.target_q_models)]
        if self.has_target_model:
            pairs.insert(0, (self.module, self.target_model))
        targets, sources, other_targets, other_sources = [], [], [], []
        for source_module, target_module in pairs:
            source_tensors = [*source_module.parameters(), *source_module.buffers()]
            target_tensors = [*target_module.parameters(), *target_module.buffers()]
            if [t.shape for t in source_tensors] != [t.shape for t in target_tensors]:
                raise RuntimeError(f"{type(self).__name__}: a target network's layout differs")
            for source, target in zip(source_tensors, target_tensors):
                if target.is_floating_point():
                    targets.append(target)
                    sources.append(source)
                else:
                    other_targets.append(target)
                    other_sources.append(source)
        return targets, sources, other_targets, other_sources

    # --- modes, devices, parallelism ---------------------------------------------------------

    def _set_networks_mode(self, training: bool) -> None:
        """``train(training)`` for the critics and targets, fast: modes switch twice per
        sampler iteration (one env step per iteration in typical off-policy runs), and
        ``Module.train`` costs several microseconds per submodule. Where no submodule
        overrides ``train``, the ``training`` flags are set directly (what ``Module.train``
        does); the module lists are found once per set of networks (not pickled)."""
        networks = (self.q_models, self.target_q_models, self.target_model)
        cached = self.__dict__.get("_cached_network_modules")
        if cached is None or any(a is not b for a, b in zip(cached[0], networks)):
            modules = [m for net in networks if net is not None for m in net.modules()]
            plain = all(type(m).train is torch.nn.Module.train for m in modules)
            cached = self._cached_network_modules = (networks, modules if plain else None)
        if cached[1] is None:
            for net in networks:
                if net is not None:
                    net.train(training)
            return
        for module in cached[1]:
            module.__dict__["training"] = training

    def train_mode(self, itr: int) -> None:
        super().train_mode(itr)
        self._set_networks_mode(True)

    def sample_mode(self, itr: int) -> None:
        super().sample_mode(itr)
        self._set_networks_mode(False)

    def eval_mode(self, itr: int) -> None:
        super().eval_mode(itr)
        self._set_networks_mode(False)

    def to_device(self, cuda_idx: int | None = None) -> None:
        """Move the policy, critics, targets and action scaling to GPU ``cuda_idx``."""
        super().to_device(cuda_idx)
        if cuda_idx is None:
            return
        for module in (self.q_models, self.target_q_models, self.target_model):
            if module is not None:
                module.to(self.device)
        self.action_scaling.to(self.device)
        self._target_pairs = None  # ``Module.to`` replaces buffers

    def data_parallel(self) -> bool:
        """Wrap the policy and the critics in ``DistributedDataParallel`` (targets are never
        wrapped); see ``BaseAgent.data_parallel``."""
        if not super().data_parallel():
            return False
        device_ids = None if self.device.type == "cpu" else [self.device.index]
        self._q_forward = torch.nn.parallel.DistributedDataParallel(
            self.q_models, device_ids=device_ids
        )
        return True

    def sync_shared_memory(self) -> None:
        """Copy the policy (only) into ``shared_model`` for sampler workers."""
        if self.shared_model is not None and self.shared_model is not self.model:
            self.shared_model.load_state_dict(strip_ddp_state_dict(self.model.state_dict()))

    # --- state -------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """``{"model", *q_model_names, ["target_model"], *("target_" + q_model_names)}``,
        each a state dict in its own class's layout (fused critics appear as separate
        ``QofMuMlpModel`` state dicts)."""
        out = {"model": strip_ddp_state_dict(self.model.state_dict())}
        for j, name in enumerate(self.q_model_names):
            out[name] = self.q_models.member(j).state_dict()
        if self.has_target_model:
            out["target_model"] = self.target_model.state_dict()
        for j, name in enumerate(self.q_model_names):
            out["target_" + name] = self.target_q_models.member(j).state_dict()
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Load :meth:`state_dict`'s output; a plain policy state dict loads the policy only.

        Raises:
            KeyError: if a whole-agent state dict lacks one of the networks.
        """
        if not is_agent_state_dict(state_dict):
            self.module.load_state_dict(strip_ddp_state_dict(state_dict))
            return
        missing = set(self.state_dict_keys()) - set(state_dict)
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {sorted(missing)}")
        self.module.load_state_dict(strip_ddp_state_dict(state_dict["model"]))
        for j, name in enumerate(self.q_model_names):
            self.q_models.member(j).load_state_dict(strip_ddp_state_dict(state_dict[name]))
            target = strip_ddp_state_dict(state_dict["target_" + name])
            self.target_q_models.member(j).load_state_dict(target)
        if self.has_target_model:
            self.target_model.load_state_dict(strip_ddp_state_dict(state_dict["target_model"]))

    def state_dict_keys(self) -> list[str]:
        """The keys of :meth:`state_dict`."""
        keys = ["model", *self.q_model_names]
        if self.has_target_model:
            keys.append("target_model")
        return keys + ["target_" + name for name in self.q_model_names]
