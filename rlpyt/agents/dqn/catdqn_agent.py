"""`CatDqnAgent`: epsilon-greedy acting on categorical return distributions (C51, Rainbow)."""

from __future__ import annotations

from typing import Any

import torch

from rlpyt.agents.base import AgentStep, space_n
from rlpyt.agents.dqn.dqn_agent import DqnAgent
from rlpyt.agents.pg.base import _no_grad
from rlpyt.distributions.epsilon_greedy import CategoricalEpsilonGreedy
from rlpyt.utils.collections import namedarraytuple

AgentInfo = namedarraytuple("AgentInfo", ["p"])
"""``agent_info`` of ``CatDqnAgent``: ``p [B, A, n_atoms]``, return-distribution
probabilities."""


class CatDqnAgent(DqnAgent):
    """Agent for categorical DQN (Bellemare et al., 2017): the model gives, per action,
    probabilities ``p [..., A, n_atoms]`` over return atoms ``z = linspace(V_min, V_max,
    n_atoms)``; actions are epsilon-greedy on the expected return ``sum_i p_i z_i``.

    ``n_atoms`` is passed to the model (``model_kwargs["n_atoms"]``). With ``ModelCls=None``
    the model is an ``MlpDqnModel`` with ``n_atoms`` atoms. :meth:`__call__` and
    :meth:`target` return probabilities; the algorithm may move the atoms with
    :meth:`give_V_min_max`.

    Args:
        n_atoms: number of atoms.
        V_min, V_max: the lowest and highest atom.
        *args, **kwargs: as for ``DqnAgent`` (``ModelCls``, ``model_kwargs``,
            ``initial_model_state_dict``, epsilon schedule).

    Raises:
        ValueError: if ``model_kwargs`` holds a different ``n_atoms``.
    """

    def __init__(
        self, *args: Any, n_atoms: int = 51, V_min: float = -10, V_max: float = 10, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.model_kwargs.get("n_atoms", n_atoms) != n_atoms:
            raise ValueError(
                f"CatDqnAgent(n_atoms={n_atoms}) but model_kwargs has "
                f"n_atoms={self.model_kwargs['n_atoms']}"
            )
        self.n_atoms = int(n_atoms)
        self.model_kwargs["n_atoms"] = self.n_atoms
        self.V_min = V_min
        self.V_max = V_max

    def make_distribution(self, env_spaces: Any) -> CategoricalEpsilonGreedy:
        return CategoricalEpsilonGreedy(
            dim=space_n(env_spaces.action),
            z=torch.linspace(self.V_min, self.V_max, self.n_atoms),
        )

    def give_V_min_max(self, V_min: float, V_max: float) -> None:
        """Set the support ``[V_min, V_max]`` of the atoms (the algorithm calls it)."""
        self.V_min = V_min
        self.V_max = V_max
        if self.distribution is not None:
            self.distribution.set_z(torch.linspace(V_min, V_max, self.n_atoms))

    def step(self, observation, prev_action, prev_reward) -> AgentStep:
        """Epsilon-greedy actions on the expected returns, for ``[B]`` envs, without grad.

        Returns:
            ``AgentStep(action [B], AgentInfo(p [B, A, n_atoms]))`` on CPU.
        """
        with _no_grad():
            p = self._forward(self.model, observation, prev_action, prev_reward)
            (p,) = self._to_cpu(p)
            self._epsilon_for_batch(self._n_envs(prev_reward))
            action = self.distribution.sample(p)
        return AgentStep(action=action, agent_info=AgentInfo(p=p))
