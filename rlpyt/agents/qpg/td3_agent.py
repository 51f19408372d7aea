"""`Td3Agent`: DDPG's agent with twin critics, target policy smoothing and pre-training
exploration (TD3, Fujimoto et al. 2018)."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import space_size
from rlpyt.agents.qpg.ddpg_agent import DdpgAgent
from rlpyt.distributions.gaussian import Gaussian


class Td3Agent(DdpgAgent):
    """Agent for TD3: a deterministic policy and two critics, ``q_model`` and ``q2_model``.

    With the default ``QModelCls=QofMuMlpModel`` both critics are one fused
    ``QofMuEnsembleMlpModel`` (``agent.q_models``; ``q_model``/``q2_model`` are views of its
    members): :meth:`q` and :meth:`target_q_at_mu` evaluate both in one batched pass, and
    :meth:`q_parameters` (one optimizer for both, as in rlpyt) are the stacked parameters.
    Other critic classes are built as two instances.

    Exploration in sample mode: std ``pretrain_std`` before the algorithm's
    ``min_itr_learn`` (near-uniform actions over the box), ``action_std`` after; eval mode is
    deterministic. Target policy smoothing: :meth:`target_q_at_mu` adds Gaussian noise (std
    ``target_noise_std``, clipped to ``+-target_noise_clip``) to the target policy's action
    and clips it to the bounds. All noise is in normalized units (fractions of the bounds'
    half-range).

    Networks (attributes and :meth:`state_dict` keys): ``model``, ``q_model``, ``q2_model``,
    ``target_model``, ``target_q_model``, ``target_q2_model``.

    Args:
        pretrain_std: exploration std before learning starts.
        target_noise_std: std of the target smoothing noise.
        target_noise_clip: clip of the target smoothing noise.
        initial_q2_model_state_dict: the second critic's state dict.
        **kwargs: ``DdpgAgent``'s arguments (default hidden sizes ``[400, 300]``).
    """

    n_q = 2
    q_model_names = ("q_model", "q2_model")

    def __init__(
        self,
        pretrain_std: float = 0.5,
        target_noise_std: float = 0.2,
        target_noise_clip: float = 0.5,
        initial_q2_model_state_dict: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pretrain_std = pretrain_std
        self.target_noise_std = target_noise_std
        self.target_noise_clip = target_noise_clip
        self.initial_q2_model_state_dict = initial_q2_model_state_dict
        self.target_distribution: Gaussian | None = None

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """DDPG's networks with a second critic, and the target smoothing settings
        (``target_distribution``)."""
        super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        self.target_distribution = Gaussian(
            dim=space_size(env_spaces.action),
            std=self.target_noise_std,
            noise_clip=self.target_noise_clip,
            clip=1.0,
        )

    def _load_initial_q_models(self) -> None:
        super()._load_initial_q_models()
        if self.initial_q2_model_state_dict is not None:
            self.q_models.member(1).load_state_dict(self.initial_q2_model_state_dict)

    @property
    def q2_model(self) -> torch.nn.Module | None:
        """The second critic."""
        return self._q_member(self.q_models, "q2_model")

    @property
    def target_q2_model(self) -> torch.nn.Module | None:
        return self._q_member(self.target_q_models, "q2_model")

    def set_target_noise(self, std: float, noise_clip: float | None = None) -> None:
        """Change the target smoothing noise (normalized units)."""
        self.target_distribution.set_std(std)
        self.target_distribution.set_noise_clip(noise_clip)

    def sample_std(self, itr: int) -> float:
        return self.action_std if itr >= self.min_itr_learn else self.pretrain_std

    # --- critic calls ------------------------------------------------------------------------

    def q(self, observation, prev_action, prev_reward, action):
        """Both critics at env-unit actions ``[..., A]``, in one pass (with grad).

        Returns:
            ``(q1 [...], q2 [...])``.
        """
        inputs = self._to_model_device(observation, prev_action, prev_reward, action)
        return self._q_forward(*inputs)

    def target_q_at_mu(self, observation, prev_action, prev_reward):
        """Both target critics at the smoothed target action
        ``clip(mu'(s) + clip(noise, +-c), -1, 1)`` (scaled to env units).

        Returns:
            ``(target_q1 [...], target_q2 [...])``.
        """
        observation, prev_action, prev_reward = self._to_model_device(
            observation, prev_action, prev_reward
        )
        mu = self.target_model(observation, prev_action, prev_reward)
        # Plain tensor ops with Python-number settings: Gaussian.sample would make a device
        # tensor from the fixed std on every call (a host-device copy inside the update).
        dist = self.target_distribution
        noise = torch.randn_like(mu).mul_(dist.std)
        if dist.noise_clip is not None:
            noise.clamp_(-dist.noise_clip, dist.noise_clip)
        action = self.action_scaling.to_env(torch.clamp(mu + noise, -1.0, 1.0))
        return self.target_q_models(observation, prev_action, prev_reward, action)
