"""`DqnAgent`: epsilon-greedy acting on Q-values, with a target network (DQN, Double DQN)."""

from __future__ import annotations

import torch

from rlpyt.agents.base import AgentStep
from rlpyt.agents.dqn.base import QAgentBase
from rlpyt.agents.pg.base import _no_grad
from rlpyt.models.dqn.mlp_q_model import MlpDqnModel
from rlpyt.utils.collections import namedarraytuple

AgentInfo = namedarraytuple("AgentInfo", ["q"])
"""``agent_info`` of ``DqnAgent``: ``q [B, A]``, the Q-values the action was chosen from."""


class DqnAgent(QAgentBase):
    """Agent for DQN-style algorithms: ``model(observation, prev_action, prev_reward) -> q``.

    Samplers call :meth:`step` (epsilon-greedy actions); the DQN algorithm calls the agent
    (:meth:`__call__`) for the online Q-values with grad, :meth:`target` for the target
    network's, and :meth:`update_target`. With ``ModelCls=None`` the model is an
    :class:`MlpDqnModel` (``[64, 64]`` ReLU MLP) sized from the spaces, so any env with
    vector observations and discrete actions works without a model written; pass
    ``model_kwargs=dict(dueling=True)`` or ``noisy=True`` for those variants.

    Args:
        ModelCls, model_kwargs, initial_model_state_dict: see ``QAgentBase``.
        eps_init, eps_final, eps_final_min, eps_itr_min, eps_itr_max, eps_eval: the
            exploration schedule (keyword only; see ``EpsilonGreedyAgentMixin``).
    """

    DefaultModelCls = MlpDqnModel

    def __call__(self, observation, prev_action, prev_reward) -> torch.Tensor:
        """Q-values ``[T, B, A]`` (any leading dims) with grad, on the model's device."""
        return self._forward(self.model, observation, prev_action, prev_reward)

    def target(self, observation, prev_action, prev_reward) -> torch.Tensor:
        """Target-network Q-values (leading dims + ``[A]``), on the model's device.

        Algorithms call it under ``torch.no_grad()`` (the target gets no gradient)."""
        return self._forward(self.target_model, observation, prev_action, prev_reward)

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Epsilon-greedy actions for ``[B]`` envs, without grad.

        Returns:
            ``AgentStep(action [B], AgentInfo(q [B, A]))`` on CPU.
        """
        with _no_grad():
            q = self._forward(self.model, observation, prev_action, prev_reward)
            (q,) = self._to_cpu(q)
            self._epsilon_for_batch(self._n_envs(prev_reward))
            action = self.distribution.sample(q)
        return AgentStep(action=action, agent_info=AgentInfo(q=q))
