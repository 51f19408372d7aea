"""`QAgentBase`: what every DQN-family agent shares (target network, epsilon-greedy acting,
noisy-net noise control, model inputs)."""

from __future__ import annotations

import copy
from typing import Any

import torch

from rlpyt.agents.base import BaseAgent, space_n, space_shape
from rlpyt.agents.dqn.epsilon_greedy import EpsilonGreedyAgentMixin
from rlpyt.distributions.epsilon_greedy import EpsilonGreedy
from rlpyt.models.dqn.noisy import noisy_layers
from rlpyt.models.utils import strip_ddp_state_dict, update_state_dict

_STATE_KEYS = ("model", "target")


class QAgentBase(EpsilonGreedyAgentMixin, BaseAgent):
    """An agent acting epsilon-greedily on a Q-model and holding a target copy of it.

    Not used directly: ``DqnAgent``, ``CatDqnAgent`` and ``R2d1AgentBase`` define ``step``,
    ``__call__`` and ``target``. Algorithms call :meth:`update_target` (hard or Polyak) and,
    for noisy models, :meth:`resample_noise`; runners save :meth:`state_dict`, which holds
    both networks.

    ``target_model`` is made in :meth:`initialize` as a copy of the model (same initial
    parameters); it follows the model to devices but is never wrapped in DDP, shared with
    sampler workers, or trained.

    Noisy nets (models with ``noisy=True``): the agent switches noise on for sampling and
    training and off for evaluation (greedy on the mean weights), and draws new noise for
    the model at every :meth:`sample_mode` (the sampler's acting parameters stay fixed
    through a batch, as in Fortunato et al. 2017). Between updates the algorithm calls
    :meth:`resample_noise`, which redraws the noise of both networks independently.

    Args:
        ModelCls, model_kwargs, initial_model_state_dict: as for ``BaseAgent``;
            ``initial_model_state_dict`` may also be a saved ``{"model": ..., "target": ...}``
            (from :meth:`state_dict`); a plain model state dict initialises both networks.
        eps_init, eps_final, eps_final_min, eps_itr_min, eps_itr_max, eps_eval: the
            exploration schedule (keyword only; see ``EpsilonGreedyAgentMixin``).
    """

    target_model: torch.nn.Module | None = None

    # --- construction ----------------------------------------------------------------------

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the model, its target copy and the epsilon-greedy distribution."""
        initial = self.initial_model_state_dict
        target_initial = None
        if initial is not None and set(_STATE_KEYS) <= set(initial.keys()):
            self.initial_model_state_dict, target_initial = initial["model"], initial["target"]
        try:
            super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        finally:
            self.initial_model_state_dict = initial
        self.target_model = copy.deepcopy(self.model)
        if target_initial is not None:
            self.target_model.load_state_dict(strip_ddp_state_dict(target_initial))
        self.distribution = self.make_distribution(env_spaces)
        self.distribution.set_epsilon(self.eps_sample)

    def make_distribution(self, env_spaces: Any) -> EpsilonGreedy:
        """The action distribution: ``EpsilonGreedy`` over the discrete actions."""
        return EpsilonGreedy(dim=space_n(env_spaces.action))

    def default_model_kwargs(self, env_spaces: Any) -> dict:
        return dict(
            observation_shape=space_shape(env_spaces.observation),
            action_size=space_n(env_spaces.action),
        )

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        if state.get("model") is None and state.get("shared_model") is not None:
            # A parallel sampler's worker copy (``detach_model`` drops the model): it acts
            # with the shared model only, so it need not carry the target network either.
            state["target_model"] = None
        return state

    # --- forward passes --------------------------------------------------------------------

    def _forward(self, model: torch.nn.Module, observation, prev_action, prev_reward, *rnn):
        """``model`` on the inputs moved to the model's device; ``prev_action`` one-hot
        unless the model ignores it. Outputs stay on the model's device."""
        if not self._model_ignores_prev_inputs:
            prev_action = self.distribution.to_onehot(prev_action)
        return model(*self._to_model_device(observation, prev_action, prev_reward, *rnn))

    @staticmethod
    def _n_envs(prev_reward: torch.Tensor) -> int:
        """Number of envs in a step's inputs (``prev_reward`` is ``[]``, ``[B]`` or ``[T, B]``)."""
        return prev_reward.shape[-1] if prev_reward.dim() else 1

    # --- target network --------------------------------------------------------------------

    def update_target(self, tau: float = 1) -> None:
        """Copy the model into the target (``tau=1``), or move the target a fraction ``tau``
        towards it: ``target <- tau * model + (1 - tau) * target`` (Polyak averaging)."""
        update_state_dict(self.target_model, self.model.state_dict(), tau)

    # --- devices, parameters ---------------------------------------------------------------

    def to_device(self, cuda_idx: int | None = None) -> None:
        """Move the model and the target model to GPU ``cuda_idx`` (``None``: stay on CPU)."""
        super().to_device(cuda_idx)
        if self.target_model is not None:
            self.target_model.to(self.device)

    def state_dict(self) -> dict:
        """``{"model": model state dict, "target": target model state dict}``."""
        return dict(
            model=strip_ddp_state_dict(self.model.state_dict()),
            target=self.target_model.state_dict(),
        )

    def load_state_dict(self, state_dict: dict) -> None:
        """Load :meth:`state_dict`'s output; a plain model state dict goes into both."""
        if set(_STATE_KEYS) <= set(state_dict.keys()):
            model_state, target_state = state_dict["model"], state_dict["target"]
        else:
            model_state = target_state = state_dict
        self.module.load_state_dict(strip_ddp_state_dict(model_state))
        self.target_model.load_state_dict(strip_ddp_state_dict(target_state))

    def sync_shared_memory(self) -> None:
        """Copy the model (not the target) into ``shared_model`` for sampler workers."""
        if self.shared_model is not None and self.shared_model is not self.model:
            self.shared_model.load_state_dict(strip_ddp_state_dict(self.model.state_dict()))

    # --- modes and noise -------------------------------------------------------------------

    def _noisy_layers(self, target: bool = False) -> list:
        """The noisy layers of the model (or target), found once per model object: walking
        the modules at every update and mode switch costs more than a small network's
        forward pass."""
        model = self.target_model if target else self.model
        cache = self.__dict__.setdefault("_cached_noisy", {})
        found = cache.get(target)
        if found is None or found[0] is not model:
            found = cache[target] = (model, [] if model is None else noisy_layers(model))
        return found[1]

    def resample_noise(self) -> None:
        """Draw new noise in the noisy layers of the model and of the target (independent
        draws). Algorithms call it once per update, before the forward passes."""
        for layer in (*self._noisy_layers(), *self._noisy_layers(target=True)):
            layer.resample_noise()

    def _set_noise(self, on: bool, target: bool = False) -> None:
        for layer in self._noisy_layers(target):
            layer.noise_on = on

    def train_mode(self, itr: int) -> None:
        super().train_mode(itr)
        self._set_noise(True)
        self._set_noise(True, target=True)

    def sample_mode(self, itr: int) -> None:
        super().sample_mode(itr)
        self._set_noise(True)
        for layer in self._noisy_layers():
            layer.resample_noise()

    def eval_mode(self, itr: int) -> None:
        super().eval_mode(itr)
        self._set_noise(False)
