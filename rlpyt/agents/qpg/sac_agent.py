"""`SacAgent`: tanh-squashed Gaussian policy with twin critics and their target copies (the
twin-Q form of SAC, Haarnoja et al. 2018b, without a state-value network)."""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import torch

from rlpyt.agents.base import AgentStep, space_size
from rlpyt.agents.pg.base import _no_grad
from rlpyt.agents.qpg.base import QpgAgentBase
from rlpyt.distributions.gaussian import DistInfoStd, Gaussian
from rlpyt.models.qpg.ensemble import SeparateQEnsemble
from rlpyt.models.qpg.mlp import PiMlpModel, QofMuMlpModel
from rlpyt.utils.collections import namedarraytuple
from rlpyt.utils.logging import logger

MIN_LOG_STD = -20
MAX_LOG_STD = 2

AgentInfo = namedarraytuple("AgentInfo", ["dist_info"])
"""``agent_info`` of ``SacAgent``: ``dist_info = DistInfoStd(mean, log_std)``, each
``[B, A]``, of the pre-squash Gaussian (the policy model's raw outputs)."""

Models = namedtuple("Models", ["pi", "q1", "q2"])
"""``SacAgent.models``: the policy and the two critics."""


class SacAgent(QpgAgentBase):
    """Agent for SAC: ``model(observation, prev_action, prev_reward) -> (mean, log_std)`` and
    two critics ``q1_model``, ``q2_model`` with target copies (no target policy).

    Actions are ``a = center + half * action_squash * tanh(u)``, ``u ~ N(mean, std)`` with
    ``log_std`` clamped to ``[MIN_LOG_STD, MAX_LOG_STD]``: ``action_squash=1`` spans the
    env's bounds exactly (``ActionScaling``; for a box ``[-1, 1]`` this is rlpyt's squash).
    :meth:`pi` returns reparameterised actions with their exact log-likelihood (the
    change of variables of the tanh and of the scaling), in env units.

    Samplers call :meth:`step`: stochastic in sample mode (std ``pretrain_std`` instead of
    the learned one before the algorithm's ``min_itr_learn``), deterministic
    ``center + half * action_squash * tanh(mean)`` in eval mode. The SAC algorithm calls
    :meth:`pi`, :meth:`q`, :meth:`target_q`, :meth:`update_target`,
    :meth:`pi_parameters` and :meth:`q_parameters`; it owns the entropy coefficient alpha.
    Outputs stay on the model's device.

    With the default ``QModelCls=QofMuMlpModel`` the critics are one fused
    ``QofMuEnsembleMlpModel`` (``agent.q_models``): :meth:`q` and :meth:`target_q` are one
    batched pass each, and :meth:`q_parameters` are the stacked parameters of both, for one
    critic optimizer (with Adam, the same updates as one optimizer per critic).
    ``q1_model``/``q2_model`` are views of the members with ``QofMuMlpModel``'s
    ``state_dict`` layout.

    Networks (attributes and :meth:`state_dict` keys): ``model``, ``q1_model``,
    ``q2_model``, ``target_q1_model``, ``target_q2_model``.

    Args:
        ModelCls: policy class (default :class:`PiMlpModel`).
        QModelCls: critic class (default :class:`QofMuMlpModel`).
        model_kwargs: policy kwargs (``None``: ``hidden_sizes=[256, 256]``).
        q_model_kwargs: critic kwargs (``None``: ``hidden_sizes=[256, 256]``).
        v_model_kwargs: accepted for compatibility with rlpyt; unused (no V model).
        initial_model_state_dict: a whole agent's state dict (:meth:`state_dict`), or the
            policy's.
        action_squash: scale of the tanh relative to the bounds' half-range (``None``: no
            squashing, unbounded Gaussian actions).
        pretrain_std: exploration std (of ``u``) before learning starts.
    """

    n_q = 2
    q_model_names = ("q1_model", "q2_model")
    has_target_model = False

    def __init__(
        self,
        ModelCls: type[torch.nn.Module] = PiMlpModel,
        QModelCls: type[torch.nn.Module] = QofMuMlpModel,
        model_kwargs: dict | None = None,
        q_model_kwargs: dict | None = None,
        v_model_kwargs: dict | None = None,
        initial_model_state_dict: dict | None = None,
        action_squash: float | None = 1.0,
        pretrain_std: float = 0.75,
    ) -> None:
        super().__init__(
            ModelCls,
            QModelCls,
            model_kwargs,
            q_model_kwargs,
            initial_model_state_dict,
            default_hidden_sizes=(256, 256),
        )
        self.v_model_kwargs = v_model_kwargs
        self.action_squash = action_squash
        self.pretrain_std = pretrain_std
        self._pretrain_distribution: Gaussian | None = None
        self._pretraining = False

    def initialize(
        self,
        env_spaces: Any,
        share_memory: bool = False,
        global_B: int = 1,
        env_ranks: list[int] | None = None,
    ) -> None:
        """Build the networks and the squashed ``Gaussian`` (learned std, clamped)."""
        super().initialize(env_spaces, share_memory, global_B=global_B, env_ranks=env_ranks)
        dim = space_size(env_spaces.action)
        self.distribution = Gaussian(
            dim=dim,
            squash=self.action_squash,
            min_std=math.exp(MIN_LOG_STD),
            max_std=math.exp(MAX_LOG_STD),
        )
        self._pretrain_distribution = Gaussian(
            dim=dim, std=self.pretrain_std, squash=self.action_squash
        )

    @property
    def q1_model(self) -> torch.nn.Module | None:
        return self._q_member(self.q_models, "q1_model")

    @property
    def q2_model(self) -> torch.nn.Module | None:
        return self._q_member(self.q_models, "q2_model")

    @property
    def target_q1_model(self) -> torch.nn.Module | None:
        return self._q_member(self.target_q_models, "q1_model")

    @property
    def target_q2_model(self) -> torch.nn.Module | None:
        return self._q_member(self.target_q_models, "q2_model")

    @property
    def models(self) -> Models:
        return Models(pi=self.model, q1=self.q1_model, q2=self.q2_model)

    def pi_parameters(self):
        """The policy's parameters."""
        return self.model.parameters()

    def q1_parameters(self):
        """The first critic's parameters (separate critics only; see :meth:`q_parameters`).

        Raises:
            RuntimeError: for fused critics, whose parameters are stacked.
        """
        return self._separate_q_parameters(0)

    def q2_parameters(self):
        """The second critic's parameters (separate critics only)."""
        return self._separate_q_parameters(1)

    def _separate_q_parameters(self, j: int):
        if not isinstance(self.q_models, SeparateQEnsemble):
            raise RuntimeError(
                "SacAgent: the twin critics are fused (stacked parameters); optimize "
                "agent.q_parameters() with one optimizer on q1_loss + q2_loss instead"
            )
        return self.q_models.member(j).parameters()

    # --- policy and critics (with grad, outputs on the model's device) -----------------------

    def pi(self, observation, prev_action, prev_reward):
        """Reparameterised actions of the policy and their log-likelihoods.

        Returns:
            ``(action [..., A], log_pi [...], dist_info)``: ``action`` in env units,
            ``log_pi`` its exact log-density in env units (the Gaussian's, minus the tanh's
            and the scaling's log-Jacobians), ``dist_info = DistInfoStd(mean, log_std)``
            the model's outputs.
        """
        inputs = self._to_model_device(observation, prev_action, prev_reward)
        mean, log_std = self.model(*inputs)
        dist_info = DistInfoStd(mean=mean, log_std=log_std)
        action, log_pi = self.distribution.sample_loglikelihood(dist_info)
        scaling = self.action_scaling
        if scaling.log_scale != 0.0:
            log_pi = log_pi - scaling.log_scale
        return scaling.to_env(action), log_pi, dist_info

    def q(self, observation, prev_action, prev_reward, action):
        """Both critics at env-unit actions ``[..., A]`` in one pass (with grad).

        Returns:
            ``(q1 [...], q2 [...])``.
        """
        inputs = self._to_model_device(observation, prev_action, prev_reward, action)
        return self._q_forward(*inputs)

    def target_q(self, observation, prev_action, prev_reward, action):
        """Both target critics (no gradient to their parameters).

        Returns:
            ``(target_q1 [...], target_q2 [...])``.
        """
        inputs = self._to_model_device(observation, prev_action, prev_reward, action)
        return self.target_q_models(*inputs)

    # --- acting --------------------------------------------------------------------------------

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Actions for ``[B]`` envs in env units, without grad.

        Returns:
            ``AgentStep(action [B, A], AgentInfo(DistInfoStd(mean, log_std)))`` on CPU.
        """
        with _no_grad():
            inputs = self._to_model_device(observation, prev_action, prev_reward)
            mean, log_std = self.model(*inputs)
            dist_info = DistInfoStd(mean=mean, log_std=log_std)
            if self._mode == "eval":
                action = mean if self.action_squash is None else torch.tanh(mean)
                if self.action_squash not in (None, 1):
                    action = action * self.action_squash
            elif self._pretraining:
                action = self._pretrain_distribution.sample(dist_info)
            else:
                action = self.distribution.sample(dist_info)
            action = self.action_scaling.to_env(action, clamp=True)
            action, agent_info = self._to_cpu(action, AgentInfo(dist_info=dist_info))
        return AgentStep(action=action, agent_info=agent_info)

    def sample_mode(self, itr: int) -> None:
        super().sample_mode(itr)
        self._pretraining = itr < self.min_itr_learn
        if itr == 0 or itr == self.min_itr_learn:
            std = self.pretrain_std if self._pretraining else "learned"
            logger.log(f"Agent at itr {itr}, sample std: {std}")
