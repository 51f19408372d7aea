"""The agent interface (`BaseAgent`), its data types, and recurrent-state handling."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from rlpyt.models.utils import RnnState, strip_ddp_state_dict
from rlpyt.utils.buffer import buffer_func, buffer_method, buffer_to
from rlpyt.utils.collections import namedarraytuple

AgentInputs = namedarraytuple("AgentInputs", ["observation", "prev_action", "prev_reward"])
"""What an agent reads each step: ``observation``, ``prev_action``, ``prev_reward``."""

AgentStep = namedarraytuple("AgentStep", ["action", "agent_info"])
"""What :meth:`BaseAgent.step` returns: the ``action`` and an ``agent_info`` namedarraytuple."""


def space_n(space: Any) -> int:
    """Number of discrete actions of an ``IntBox`` (or a ``GymSpaceWrapper`` around one)."""
    space = getattr(space, "space", space)
    n = space.n
    if not isinstance(n, int):
        raise ValueError(f"expected a discrete space with one range of values, got {space!r}")
    return n


def space_shape(space: Any) -> tuple[int, ...]:
    """Element shape of a space (an rlpyt space or a ``GymSpaceWrapper``)."""
    return tuple(getattr(space, "space", space).shape)


def space_size(space: Any) -> int:
    """Number of entries in one element of a box space, e.g. the action dimension."""
    return int(np.prod(space_shape(space)))


def model_ignores_prev_inputs(model: torch.nn.Module) -> bool:
    """Whether ``model`` declares that its ``forward`` never reads ``prev_action`` or
    ``prev_reward``, so agents may pass them without encoding them (e.g. no one-hot).

    A model opts in with the class attribute ``ignores_prev_inputs = True``, which counts only
    in the class that defines the ``forward`` in use: a subclass that overrides ``forward``
    (and may read those inputs) must declare it again to keep the short path.
    """
    for cls in type(model).__mro__:
        if "forward" in vars(cls):
            return bool(vars(cls).get("ignores_prev_inputs", False))
    return False


class BaseAgent:
    """A model (``torch.nn.Module``) plus an action distribution, for sampling and training.

    Samplers call :meth:`initialize` (through ``sampler.initialize``), :meth:`step` each
    environment step (no grad, CPU outputs), :meth:`reset` / :meth:`reset_one` at episode ends,
    and :meth:`sample_mode` / :meth:`eval_mode`; algorithms call the training forward
    :meth:`__call__` (subclasses define it), :meth:`train_mode`, :meth:`parameters`; runners
    call :meth:`to_device`, :meth:`data_parallel`, :meth:`state_dict`.

    Construction has two phases: ``__init__`` only stores plain, picklable settings, so an agent
    can be configured before the environment exists; :meth:`initialize` builds the model once
    the spaces are known, as ``ModelCls(**make_env_to_model_kwargs(env_spaces),
    **model_kwargs)``.

    Shared memory (parallel samplers): ``initialize(share_memory=True)`` also makes
    ``shared_model``, a CPU copy in shared memory that worker processes act with.
    :meth:`sync_shared_memory` copies the trained ``model`` into it; workers pull it into their
    own ``model`` with :meth:`recv_shared_memory`. Without shared memory, ``shared_model`` is
    ``None`` and these calls do nothing.

    Args:
        ModelCls: model class (a ``torch.nn.Module``); ``None`` for the agent's
            ``DefaultModelCls``, if it has one.
        model_kwargs: keyword arguments for ``ModelCls`` beyond those derived from the spaces.
        initial_model_state_dict: parameters loaded into the model in :meth:`initialize`.
    """

    recurrent = False
    alternating = False
    DefaultModelCls: type[torch.nn.Module] | None = None

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] | None = None,
        model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
    ) -> None:
        self._default_model = ModelCls is None and self.DefaultModelCls is not None
        self.ModelCls = self.DefaultModelCls if ModelCls is None else ModelCls
        self.model_kwargs = dict(model_kwargs or {})
        self.initial_model_state_dict = initial_model_state_dict
        self.model: torch.nn.Module | None = None
        self.shared_model: torch.nn.Module | None = None
        self.distribution = None
        self.env_model_kwargs: dict = {}
        self.device = torch.device("cpu")
        self.global_B = 1
        self.env_ranks = None
        self.env_spaces = None
        self.share_memory = False
        self._mode: str | None = None
        self._ddp = False
        self._model_ignores_prev_inputs = False

    # --- construction ----------------------------------------------------------------------

    def __call__(self, observation, prev_action, prev_reward):
        """Training forward pass, with grad (subclasses define it)."""
        raise NotImplementedError

    def make_env_to_model_kwargs(self, env_spaces: Any) -> dict:
        """Model keyword arguments derived from the env spaces.

        For the default model (``ModelCls=None`` and a class-level ``DefaultModelCls``) these
        are :meth:`default_model_kwargs`; for a model given by the user there are none, so its
        ``model_kwargs`` must say everything (as in rlpyt). Mixins such as ``AtariMixin``
        override this to provide them for their model family.
        """
        return self.default_model_kwargs(env_spaces) if self._default_model else {}

    def default_model_kwargs(self, env_spaces: Any) -> dict:
        """Keyword arguments of ``DefaultModelCls`` derived from the spaces."""
        return {}

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the model (on CPU) and load ``initial_model_state_dict``.

        Subclasses call this first, then make ``self.distribution``.

        Args:
            env_spaces: ``EnvSpaces(observation, action)``.
            share_memory: also make ``shared_model`` in shared memory for worker processes.
            global_B: total number of sampler envs across all workers.
            env_ranks: global indexes of the envs this agent steps.
        """
        if self.ModelCls is None:
            raise ValueError(f"{type(self).__name__}: no ModelCls given")
        self.env_model_kwargs = self.make_env_to_model_kwargs(env_spaces)
        self.model = self.ModelCls(**self.env_model_kwargs, **self.model_kwargs)
        self._model_ignores_prev_inputs = model_ignores_prev_inputs(self.model)
        if self.initial_model_state_dict is not None:
            self.model.load_state_dict(strip_ddp_state_dict(self.initial_model_state_dict))
        if share_memory:
            self.shared_model = self._cpu_copy_of_model().share_memory()
        self.env_spaces = env_spaces
        self.share_memory = share_memory
        self.collector_initialize(global_B=global_B, env_ranks=env_ranks)

    def collector_initialize(self, global_B: int = 1, env_ranks: list[int] | None = None) -> None:
        """Record which envs this copy of the agent steps (for per-env settings, e.g. epsilon).

        Parallel samplers call it in each worker with that worker's ``env_ranks``.
        """
        self.global_B = global_B
        self.env_ranks = env_ranks

    @property
    def module(self) -> torch.nn.Module:
        """The model without its ``DistributedDataParallel`` wrapper, if any."""
        return self.model.module if self._ddp else self.model

    def _cpu_copy_of_model(self) -> torch.nn.Module:
        return copy.deepcopy(self.module).cpu()

    # --- devices and parallelism -----------------------------------------------------------

    def to_device(self, cuda_idx: int | None = None) -> None:
        """Move the model to GPU ``cuda_idx`` (``None``: stay on CPU).

        ``shared_model`` stays on CPU for the workers; :meth:`sync_shared_memory` copies
        across devices.

        Raises:
            RuntimeError: if a GPU is asked for and CUDA is unavailable.
        """
        if cuda_idx is None:
            return
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"{type(self).__name__}.to_device(cuda_idx={cuda_idx}): CUDA is not available"
            )
        self.device = torch.device("cuda", index=cuda_idx)
        self.model.to(self.device)

    def data_parallel(self) -> bool:
        """Wrap the model in ``DistributedDataParallel`` (gradients all-reduced on backward).

        Needs an initialised ``torch.distributed`` process group (NCCL for GPUs, Gloo for
        CPU); call after :meth:`to_device`. ``device_ids`` is ``[cuda_idx]`` on GPU and
        ``None`` on CPU.

        Returns:
            ``True`` if the model was wrapped; ``False`` if no process group is initialised
            (single-process training) or it is already wrapped.
        """
        if self._ddp or not (
            torch.distributed.is_available() and torch.distributed.is_initialized()
        ):
            return False
        device_ids = None if self.device.type == "cpu" else [self.device.index]
        self.model = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)
        self._ddp = True
        return True

    def async_cpu(self, share_memory: bool = True) -> None:
        """Make ``shared_model``, a CPU copy of the model for asynchronous sampling workers.

        Args:
            share_memory: put the copy in shared memory (for worker processes).
        """
        self.shared_model = self._cpu_copy_of_model()
        if share_memory:
            self.shared_model.share_memory()

    def sync_shared_memory(self) -> None:
        """Copy the model's parameters into ``shared_model`` (no-op without one).

        Samplers with worker processes call it before each batch so workers act with the
        newest parameters.
        """
        if self.shared_model is not None and self.shared_model is not self.model:
            self.shared_model.load_state_dict(self.state_dict())

    def send_shared_memory(self) -> None:
        """Publish the model to ``shared_model`` (for asynchronous runners).

        Currently the same as :meth:`sync_shared_memory`, without a lock: readers may see a
        mix of old and new parameters during the copy.
        """
        self.sync_shared_memory()

    def recv_shared_memory(self) -> None:
        """Load ``shared_model``'s parameters into this agent's model (in worker processes)."""
        if self.shared_model is not None and self.shared_model is not self.model:
            with torch.no_grad():
                self.module.load_state_dict(self.shared_model.state_dict())

    # --- modes -----------------------------------------------------------------------------

    def train_mode(self, itr: int) -> None:
        """Before optimisation: ``model.train()``."""
        self._set_training(True)
        self._mode = "train"

    def sample_mode(self, itr: int) -> None:
        """Before collecting training samples: ``model.eval()``."""
        self._set_training(False)
        self._mode = "sample"

    def eval_mode(self, itr: int) -> None:
        """Before evaluation episodes: ``model.eval()``."""
        self._set_training(False)
        self._mode = "eval"

    def _set_training(self, mode: bool) -> None:
        """``model.train(mode)``, fast: the modes switch twice per iteration, and
        ``Module.train`` costs several microseconds per submodule (``Module.__setattr__``).

        When no module of the model overrides ``train``, setting every module's ``training``
        flag directly is exactly what ``Module.train`` does; the module list is found once per
        model object (``_cached_modules``, not pickled).
        """
        model = self.model
        if model is None or model.training == mode:
            return
        cached = self.__dict__.get("_cached_modules")
        if cached is None or cached[0] is not model:
            modules = list(model.modules())
            plain = all(type(m).train is torch.nn.Module.train for m in modules)
            cached = self._cached_modules = (model, modules if plain else None)
        if cached[1] is None:
            model.train(mode)
            return
        for module in cached[1]:
            module.__dict__["training"] = mode

    def __getstate__(self) -> dict:
        """Pickled state: everything but per-process caches (``_cached_*``)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_cached_")}

    # --- acting ----------------------------------------------------------------------------

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Choose actions for a batch of envs (no grad). Subclasses define it.

        Args:
            observation: ``[B, ...]`` tensor (or leading dims ``[]``, ``[T, B]``).
            prev_action: ``[B, ...]``.
            prev_reward: ``[B]``.

        Returns:
            ``AgentStep(action, agent_info)``, tensors on CPU.
        """
        raise NotImplementedError

    def reset(self) -> None:
        """All envs start new episodes (recurrent agents clear their state)."""

    def reset_one(self, idx: int) -> None:
        """Env ``idx`` starts a new episode (recurrent agents zero its state)."""

    # --- parameters ------------------------------------------------------------------------

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        return self.model.parameters()

    def named_parameters(self) -> Iterator[tuple[str, torch.nn.Parameter]]:
        return self.module.named_parameters()

    def state_dict(self) -> dict:
        """The model's ``state_dict`` (without ``DistributedDataParallel``'s ``module.``)."""
        return strip_ddp_state_dict(self.model.state_dict())

    def load_state_dict(self, state_dict: dict) -> None:
        """Load parameters saved by :meth:`state_dict` (``module.`` prefixes are tolerated)."""
        self.module.load_state_dict(strip_ddp_state_dict(state_dict))

    def update_obs_rms(self, observation: torch.Tensor) -> None:
        """Update the model's observation statistics, if it normalises observations.

        Algorithms call it with each batch of observations ``[T, B, ...]``; a no-op for
        models without ``update_obs_rms``.
        """
        update = getattr(self.module, "update_obs_rms", None)
        if update is not None:
            (observation,) = self._to_model_device(observation)
            update(observation)

    # --- helpers for subclasses --------------------------------------------------------------

    def _to_model_device(self, *inputs: Any) -> Any:
        """``inputs`` on the model's device (returned unchanged when the model is on CPU)."""
        if self.device.type == "cpu":
            return inputs
        return buffer_to(inputs, device=self.device)

    def _to_cpu(self, *outputs: Any) -> Any:
        """``outputs`` on CPU (returned unchanged when the model is on CPU)."""
        if self.device.type == "cpu":
            return outputs
        return buffer_to(outputs, device="cpu")


class RecurrentAgentMixin:
    """Keeps the recurrent state of the envs a recurrent agent steps.

    Put it before the agent class: ``class MyAgent(RecurrentAgentMixin, MyAgentBase)``. The
    agent's ``step`` reads :attr:`prev_rnn_state` (``None`` at the start: zeros) and stores the
    model's new state with :meth:`advance_rnn_state`. The state is held batch-major,
    ``[B, N_layers, H]`` per leaf, as it is recorded in ``agent_info.prev_rnn_state``, so that
    :meth:`reset_one` is ``state[idx] = 0``.

    Evaluation must not disturb sampling: entering :meth:`eval_mode` puts the sampler's state
    aside and starts evaluation from zeros; :meth:`sample_mode` and :meth:`train_mode` bring
    the sampler's state back.
    """

    recurrent = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prev_rnn_state = None
        self._sample_rnn_state = None  # the sampler's state while evaluating

    @property
    def prev_rnn_state(self) -> Any:
        """The state before the next step, batch-major ``[B, N, H]`` leaves, or ``None``."""
        return self._prev_rnn_state

    def advance_rnn_state(self, new_rnn_state: Any) -> None:
        """Store the model's new state (``[N, B, H]`` leaves) for the next step.

        Kept as a batch-major view, no copy; transposing it back for the model gives the
        original contiguous tensor.
        """
        self._prev_rnn_state = buffer_method(new_rnn_state, "transpose", 0, 1)

    def model_rnn_state(self) -> Any:
        """:attr:`prev_rnn_state` as the model takes it: ``[N, B, H]`` leaves, or ``None``."""
        if self._prev_rnn_state is None:
            return None
        return buffer_func(self._prev_rnn_state, _transpose_contiguous)

    def reset(self) -> None:
        """Forget the state of every env (the next step starts from zeros)."""
        self._prev_rnn_state = None

    def reset_one(self, idx: int) -> None:
        """Zero the state of env ``idx`` only."""
        if self._prev_rnn_state is not None:
            self._prev_rnn_state[idx] = 0

    def sample_mode(self, itr: int) -> None:
        if self._mode == "eval":
            self._prev_rnn_state = self._sample_rnn_state
        super().sample_mode(itr)

    def train_mode(self, itr: int) -> None:
        if self._mode == "eval":
            self._prev_rnn_state = self._sample_rnn_state
        super().train_mode(itr)

    def eval_mode(self, itr: int) -> None:
        if self._mode != "eval":
            self._sample_rnn_state = self._prev_rnn_state
            self._prev_rnn_state = None
        super().eval_mode(itr)

    def runtime_state_dict(self) -> dict:
        """The sampler's recurrent state, for snapshots (exact resume).

        Returns:
            ``{"rnn_state": None | tensor | {"fields": [...], "values": [...]}}`` with
            batch-major copies; loads with ``torch.load(weights_only=True)``.
        """
        state = self._sample_rnn_state if self._mode == "eval" else self._prev_rnn_state
        return {"rnn_state": _encode_rnn_state(state)}

    def load_runtime_state_dict(self, state: dict) -> None:
        """Restore :meth:`runtime_state_dict`'s output as the sampler's state."""
        saved = _decode_rnn_state(state["rnn_state"])
        if self._mode == "eval":
            self._sample_rnn_state = saved
        else:
            self._prev_rnn_state = saved


class AlternatingRecurrentAgentMixin(RecurrentAgentMixin):
    """Recurrent state for the alternating samplers: one state per half of the envs.

    ``AlternatingSampler`` / ``NoOverlapAlternatingSampler`` step the agent on the two halves
    of their ``B`` envs in turn: half 0 is envs ``0 .. ceil(B/2) - 1``, half 1 the rest, where
    ``B`` is the number of envs the agent steps (``len(env_ranks)``, or ``global_B`` without
    ``env_ranks``, as given to :meth:`initialize` / :meth:`collector_initialize`). This mixin
    keeps each half's state and serves them in a strict order: the sampling calls of
    :meth:`step` *and* :meth:`value` (the bootstrap values at the end of a batch) go half 0,
    half 1, half 0, ... The samplers call them in exactly that order, with both halves'
    values at the end of a batch, so every batch starts at half 0. A call with the wrong
    number of envs for its half raises ``ValueError`` once the agent has been put in a mode
    (before that, e.g. in the samplers' one-env example step at initialization, which is
    bracketed by :meth:`reset` calls, sizes are not checked).

    :meth:`reset_one` takes the env's index in the sampler's whole batch (``0 .. B - 1``) and
    zeros that row of its half's state; :meth:`reset` forgets both halves and starts again at
    half 0. While sampling, :attr:`prev_rnn_state` is the state of the half served next.

    Evaluation runs all eval envs in one batch, so in :meth:`eval_mode` the agent is a plain
    recurrent agent with a single full-batch state (starting from zeros; ``reset`` and
    ``reset_one`` then act on it); both halves' states and the phase are kept aside and are in
    place again after :meth:`sample_mode` / :meth:`train_mode`.

    Put it first in the bases of a recurrent agent (as ``RecurrentAgentMixin``):
    ``class AlternatingMyAgent(AlternatingRecurrentAgentMixin, MyRecurrentAgent)``. The
    training forward (``__call__`` with ``init_rnn_state``) is unchanged.
    """

    alternating = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # While sampling, ``_prev_rnn_state`` (read and advanced by the agent's ``step``) is
        # the state of half ``_next_half``; the other half's state waits in
        # ``_other_rnn_state``. Each sampling call swaps the two.
        self._next_half = 0
        self._other_rnn_state = None
        self._half_sizes = _half_sizes(1)

    def collector_initialize(self, global_B: int = 1, env_ranks: list[int] | None = None) -> None:
        """As :meth:`BaseAgent.collector_initialize`; also sizes the two halves."""
        super().collector_initialize(global_B=global_B, env_ranks=env_ranks)
        self._half_sizes = _half_sizes(global_B if env_ranks is None else len(env_ranks))

    @property
    def half_sizes(self) -> tuple[int, int]:
        """Number of envs in half 0 (``ceil(B/2)``) and in half 1 (``floor(B/2)``)."""
        return self._half_sizes

    @property
    def next_half(self) -> int:
        """The half (0 or 1) that the next sampling ``step`` or ``value`` call serves."""
        return self._next_half

    @property
    def half_rnn_states(self) -> tuple[Any, Any]:
        """The sampler's states of half 0 and half 1 (batch-major leaves, or ``None``), also
        while evaluating."""
        current = self._sample_rnn_state if self._mode == "eval" else self._prev_rnn_state
        if self._next_half == 0:
            return current, self._other_rnn_state
        return self._other_rnn_state, current

    def step(self, observation, prev_action, prev_reward):
        """The agent's ``step`` on the next half (or, evaluating, on all eval envs).

        Raises:
            ValueError: if the batch is not the size of the next half (in sample or train
                mode).
        """
        if self._mode == "eval":
            return super().step(observation, prev_action, prev_reward)
        self._check_half_batch(prev_reward, "step")
        agent_step = super().step(observation, prev_action, prev_reward)
        self._swap_halves()
        return agent_step

    def value(self, observation, prev_action, prev_reward):
        """The agent's ``value`` on the next half (its state is not advanced, but the turn
        passes to the other half).

        Raises:
            ValueError: if the batch is not the size of the next half (in sample or train
                mode).
        """
        if self._mode == "eval":
            return super().value(observation, prev_action, prev_reward)
        self._check_half_batch(prev_reward, "value")
        value = super().value(observation, prev_action, prev_reward)
        self._swap_halves()
        return value

    def _check_half_batch(self, prev_reward: Any, call: str) -> None:
        if self._mode is None:
            return  # not yet sampling: the samplers' example step, between two resets
        n = prev_reward.shape[0] if len(prev_reward.shape) else 1
        expected = self._half_sizes[self._next_half]
        if n != expected:
            raise ValueError(
                f"{type(self).__name__}.{call}: got {n} envs for half {self._next_half}, "
                f"expected {expected}; an alternating agent is stepped on the two halves "
                f"{self._half_sizes} of its {sum(self._half_sizes)} envs in turn, half 0 first "
                f"(as AlternatingSampler does); use the plain recurrent agent elsewhere"
            )

    def _swap_halves(self) -> None:
        self._prev_rnn_state, self._other_rnn_state = self._other_rnn_state, self._prev_rnn_state
        self._next_half ^= 1

    def reset(self) -> None:
        """Forget both halves' states and start again at half 0 (evaluating: forget the
        evaluation state only)."""
        if self._mode == "eval":
            super().reset()
            return
        self._prev_rnn_state = self._other_rnn_state = None
        self._next_half = 0

    def reset_one(self, idx: int) -> None:
        """Zero the state of env ``idx``, its index in the sampler's whole batch (evaluating:
        its index among the eval envs).

        Raises:
            IndexError: if, while sampling, ``idx`` is not in ``0 .. B - 1``.
        """
        if self._mode == "eval":
            super().reset_one(idx)
            return
        B0, B1 = self._half_sizes
        if not 0 <= idx < B0 + B1:
            raise IndexError(f"{type(self).__name__}.reset_one: env {idx} not in 0..{B0 + B1 - 1}")
        half, row = (0, idx) if idx < B0 else (1, idx - B0)
        state = self._prev_rnn_state if half == self._next_half else self._other_rnn_state
        if state is not None:
            state[row] = 0

    def runtime_state_dict(self) -> dict:
        """Both halves' sampling states and the next half, for snapshots (exact resume).

        Returns:
            ``{"rnn_state_halves": [half_0, half_1], "next_half": int}``, each half encoded
            as in :meth:`RecurrentAgentMixin.runtime_state_dict`; loads with
            ``torch.load(weights_only=True)``.
        """
        return {
            "rnn_state_halves": [_encode_rnn_state(s) for s in self.half_rnn_states],
            "next_half": self._next_half,
        }

    def load_runtime_state_dict(self, state: dict) -> None:
        """Restore :meth:`runtime_state_dict`'s output as the sampler's states.

        Raises:
            ValueError: for the state of a non-alternating agent (one full-batch state).
        """
        if "rnn_state_halves" not in state:
            raise ValueError(
                f"{type(self).__name__}.load_runtime_state_dict: not an alternating agent's "
                f"state (keys {sorted(state)}; expected 'rnn_state_halves', 'next_half')"
            )
        halves = [_decode_rnn_state(s) for s in state["rnn_state_halves"]]
        self._next_half = int(state["next_half"])
        current, self._other_rnn_state = halves[self._next_half], halves[1 - self._next_half]
        if self._mode == "eval":
            self._sample_rnn_state = current
        else:
            self._prev_rnn_state = current


def _half_sizes(B: int) -> tuple[int, int]:
    """The sizes of the alternating samplers' env halves: ``ceil(B/2)``, ``floor(B/2)``."""
    B0 = (B + 1) // 2
    return B0, B - B0


def _encode_rnn_state(state: Any) -> Any:
    """A copy of a batch-major state that ``torch.load(weights_only=True)`` can read:
    ``None``, a tensor, or ``{"fields": [...], "values": [...]}`` for a namedarraytuple."""
    if state is None or isinstance(state, torch.Tensor):
        return None if state is None else state.clone()
    return {"fields": list(state._fields), "values": [v.clone() for v in state]}


def _decode_rnn_state(saved: Any) -> Any:
    """Inverse of :func:`_encode_rnn_state`."""
    if isinstance(saved, dict):
        cls = RnnState if tuple(saved["fields"]) == RnnState._fields else None
        cls = cls or namedarraytuple("RnnState", saved["fields"])
        saved = cls(*saved["values"])
    return saved


def _transpose_contiguous(x: torch.Tensor) -> torch.Tensor:
    return x.transpose(0, 1).contiguous()
