"""`DdpgAgent`: deterministic policy with Gaussian exploration noise, one critic, target copies
of both (DDPG, Lillicrap et al. 2016)."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import AgentStep, space_size
from rlpyt.agents.pg.base import _no_grad
from rlpyt.agents.qpg.base import QpgAgentBase
from rlpyt.distributions.gaussian import DistInfo, Gaussian
from rlpyt.models.qpg.mlp import MuMlpModel, QofMuMlpModel
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.logging import logger

AgentInfo = namedarraytuple("AgentInfo", ["mu"])
"""``agent_info`` of ``DdpgAgent`` and ``Td3Agent``: ``mu [B, A]``, the policy's action
(env units) before exploration noise."""


class DdpgAgent(QpgAgentBase):
    """Agent for DDPG: ``model(observation, prev_action, prev_reward) -> mu`` (normalized,
    ``[-1, 1]``) and a critic ``q_model(observation, prev_action, prev_reward, action) -> q``.

    Samplers call :meth:`step`: ``mu`` plus Gaussian noise (std ``action_std``, optionally
    clipped to ``+-action_noise_clip``), clipped to ``[-1, 1]`` and scaled to the env's
    bounds; in eval mode the action is ``mu`` itself (deterministic). Noise and clips are in
    normalized units, i.e. fractions of the half-range of the bounds (TD3's convention). The
    DDPG algorithm calls :meth:`q`, :meth:`q_at_mu`, :meth:`target_q_at_mu`,
    :meth:`update_target`, :meth:`q_parameters` and :meth:`mu_parameters`. Outputs stay on
    the model's device.

    Networks (attributes and :meth:`state_dict` keys): ``model``, ``q_model``,
    ``target_model``, ``target_q_model``; the targets start as copies.

    Args:
        ModelCls: policy class (default :class:`MuMlpModel`).
        QModelCls: critic class (default :class:`QofMuMlpModel`).
        model_kwargs: policy kwargs (``None``: ``hidden_sizes=[400, 300]``, as in rlpyt).
        q_model_kwargs: critic kwargs (``None``: ``hidden_sizes=[400, 300]``).
        initial_model_state_dict: the policy's state dict, or a whole agent's.
        initial_q_model_state_dict: the critic's state dict.
        action_std: exploration noise std (normalized units).
        action_noise_clip: clip the exploration noise to ``+-action_noise_clip``, or ``None``.
    """

    n_q = 1
    q_model_names = ("q_model",)
    has_target_model = True

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] = MuMlpModel,
        QModelCls: type[torch.nn.Module] = QofMuMlpModel,
        model_kwargs: dict | None = None,
        q_model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
        initial_q_model_state_dict: dict | None = None,
        action_std: float = 0.1,
        action_noise_clip: float | None = None,
    ) -> None:
        super().__init__(
            ModelCls,
            QModelCls,
            model_kwargs,
            q_model_kwargs,
            initial_model_state_dict,
            default_hidden_sizes=(400, 300),
        )
        self.initial_q_model_state_dict = initial_q_model_state_dict
        self.action_std = action_std
        self.action_noise_clip = action_noise_clip

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the networks and the exploration ``Gaussian`` (normalized units, clip 1)."""
        super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        self.distribution = Gaussian(
            dim=space_size(env_spaces.action),
            std=self.action_std,
            noise_clip=self.action_noise_clip,
            clip=1.0,
        )

    def _load_initial_q_models(self) -> None:
        if self.initial_q_model_state_dict is not None:
            self.q_models.member(0).load_state_dict(self.initial_q_model_state_dict)

    @property
    def q_model(self) -> torch.nn.Module | None:
        """The (first) critic."""
        return self._q_member(self.q_models, "q_model")

    @property
    def target_q_model(self) -> torch.nn.Module | None:
        return self._q_member(self.target_q_models, "q_model")

    def mu_parameters(self):
        """The policy's parameters."""
        return self.model.parameters()

    # --- critic calls (with grad, outputs on the model's device) -----------------------------

    def q(self, observation, prev_action, prev_reward, action):
        """``Q(s, a)`` of the (first) critic for env-unit actions ``[..., A]``.

        Returns:
            ``q [...]`` (leading dims of the inputs).
        """
        inputs = self._to_model_device(observation, prev_action, prev_reward, action)
        return self._q_forward(*inputs, member=0)

    def q_at_mu(self, observation, prev_action, prev_reward) -> torch.Tensor:
        """``Q(s, mu(s))`` of the (first) critic; gradients reach the policy (actor loss)."""
        observation, prev_action, prev_reward = self._to_model_device(
            observation, prev_action, prev_reward
        )
        mu = self.action_scaling.to_env(self.model(observation, prev_action, prev_reward))
        return self._q_forward(observation, prev_action, prev_reward, mu, member=0)

    def target_q_at_mu(self, observation, prev_action, prev_reward):
        """``Q'(s, mu'(s))`` with the target networks (they take no gradient).

        Returns:
            ``q [...]``.
        """
        observation, prev_action, prev_reward = self._to_model_device(
            observation, prev_action, prev_reward
        )
        mu = self.target_model(observation, prev_action, prev_reward)
        action = self.action_scaling.to_env(mu)
        return self.target_q_models(observation, prev_action, prev_reward, action, member=0)

    # --- acting --------------------------------------------------------------------------------

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Actions for ``[B]`` envs in env units, without grad: ``mu`` plus clipped Gaussian
        noise in sample mode, ``mu`` in eval mode.

        Returns:
            ``AgentStep(action [B, A], AgentInfo(mu [B, A]))`` on CPU.
        """
        with _no_grad():
            inputs = self._to_model_device(observation, prev_action, prev_reward)
            mu = self.model(*inputs)
            if self._mode == "eval":
                action = torch.clamp(mu, -1.0, 1.0)
            else:
                action = self.distribution.sample(DistInfo(mean=mu))
            scaling = self.action_scaling
            action = scaling.to_env(action, clamp=True)
            agent_info = AgentInfo(mu=scaling.to_env(mu))
            action, agent_info = self._to_cpu(action, agent_info)
        return AgentStep(action=action, agent_info=agent_info)

    def sample_std(self, itr: int) -> float:
        """Exploration std in sample mode at iteration ``itr``."""
        return self.action_std

    def sample_mode(self, itr: int) -> None:
        super().sample_mode(itr)
        std = self.sample_std(itr)
        if itr == 0 or itr == self.min_itr_learn:
            logger.log(f"Agent at itr {itr}, sample std: {std}")
        self.distribution.set_std(std)

    def eval_mode(self, itr: int) -> None:
        super().eval_mode(itr)
        self.distribution.set_std(0.0)  # deterministic (step uses mu directly)
