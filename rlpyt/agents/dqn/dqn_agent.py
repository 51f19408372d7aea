"""`DqnAgent`: epsilon-greedy acting on Q-values, with a target network (DQN, Double DQN)."""

from __future__ import annotations

import numpy as np
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
        q_np = self._host_q(observation)
        if q_np is not None:  # the NumPy fast path (see MlpDqnModel.host_forward)
            self._epsilon_for_batch(self._n_envs(prev_reward))
            action = torch.from_numpy(self.distribution.sample_numpy(q_np))
            if action.dtype != self.distribution.dtype:
                action = action.to(self.distribution.dtype)
            return AgentStep(action=action, agent_info=AgentInfo(q=torch.from_numpy(q_np)))
        with _no_grad():
            q = self._forward(self.model, observation, prev_action, prev_reward)
            (q,) = self._to_cpu(q)
            self._epsilon_for_batch(self._n_envs(prev_reward))
            action = self.distribution.sample(q)
        return AgentStep(action=action, agent_info=AgentInfo(q=q))

    # --- NumPy fast paths of plain MLP Q-networks (rlpyt.models.plain_mlp) ------------------

    def explicit_q(self, observation: np.ndarray):
        """Online Q-values computed in NumPy, and a function from their gradient to the
        parameters' gradients: ``(q [..., A], backward)`` with ``backward(grad_q) ->
        [(parameter, gradient array), ...]``. ``None`` where the model has no such path for
        this batch (see ``MlpDqnModel.host_forward``), is wrapped (e.g. by
        DistributedDataParallel, whose gradient hooks need autograd), or a subclass changed
        :meth:`__call__`. Called by ``DQN``; ``q`` equals :meth:`__call__`'s up to rounding."""
        if type(self).__call__ is not DqnAgent.__call__:
            return None
        model = self.model
        if not self._fast_paths_apply(model):
            return None
        saved: list = []
        q = model.host_forward(observation, saved)
        if q is None:
            return None
        return q, lambda grad_q: model.host_backward(saved, grad_q)

    def explicit_target_q(self, observation: np.ndarray) -> np.ndarray | None:
        """Target-network Q-values computed in NumPy, or ``None`` (as :meth:`explicit_q`)."""
        if type(self).target is not DqnAgent.target:
            return None
        if not self._fast_paths_apply(self.target_model):
            return None
        return self.target_model.host_forward(observation)

    def _fast_paths_apply(self, model: torch.nn.Module) -> bool:
        """Whether ``model.host_forward`` may stand in for ``self._forward(model, ...)``: the
        model has it (not a DDP wrapper) and reads only the observation, and no subclass
        changed how inputs reach it."""
        return (
            self._model_ignores_prev_inputs
            and type(self)._forward is QAgentBase._forward
            and getattr(model, "host_forward", None) is not None
        )

    def _host_q(self, observation: torch.Tensor) -> np.ndarray | None:
        """Q-values as a NumPy array from the model's ``host_forward`` where it serves this
        step (plain MLP on the CPU, small batch), else ``None``."""
        if (
            not isinstance(observation, torch.Tensor)
            or observation.requires_grad
            or observation.device.type != "cpu"
            or not self._fast_paths_apply(self.model)
        ):
            return None
        return self.model.host_forward(observation.numpy())
