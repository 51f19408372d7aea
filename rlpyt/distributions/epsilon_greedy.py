"""`EpsilonGreedy` and `CategoricalEpsilonGreedy`: action selection from Q-values or return
distributions, uniformly random with probability epsilon (one scalar or one per env)."""

from __future__ import annotations

import numpy as np
import torch

from rlpyt.distributions.base import Distribution
from rlpyt.distributions.discrete import DiscreteMixin


class EpsilonGreedy(DiscreteMixin, Distribution):
    """Greedy over Q-values, except a uniformly random action with probability ``epsilon``.

    DQN-family agents call :meth:`sample` on ``q [..., dim]`` when acting; their exploration
    schedule sets the probability with :meth:`set_epsilon`. Only sampling is defined: the
    likelihood methods of :class:`Distribution` raise ``NotImplementedError``.

    ``epsilon`` is a float, or a tensor that broadcasts against the leading dims of ``q``
    from the right: ``[B]`` gives each of ``B`` envs its own epsilon (Ape-X style), for
    ``q`` of shape ``[B, dim]`` or ``[T, B, dim]``. The random action may equal the greedy
    one, so the greedy action is taken with probability ``1 - epsilon * (dim - 1) / dim``.

    Args:
        dim: number of actions.
        epsilon: initial probability of a random action.
        dtype: dtype of sampled indexes.
        onehot_dtype: dtype of one-hot codes (:meth:`to_onehot`).

    Examples:
        >>> dist = EpsilonGreedy(dim=3, epsilon=0.0)
        >>> dist.sample(torch.tensor([[0.0, 2.0, 1.0], [5.0, 0.0, 0.0]]))
        tensor([1, 0])
    """

    def __init__(
        self,
        dim: int,
        epsilon: float | torch.Tensor = 1.0,
        dtype: torch.dtype = torch.long,
        onehot_dtype: torch.dtype = torch.float,
    ) -> None:
        super().__init__(dim, dtype=dtype, onehot_dtype=onehot_dtype)
        self._epsilon: float | torch.Tensor = 1.0
        self._device_epsilon: dict[torch.device, torch.Tensor] = {}
        self.set_epsilon(epsilon)

    @property
    def epsilon(self) -> float | torch.Tensor:
        """The current probability of a random action (float or per-env tensor)."""
        return self._epsilon

    def set_epsilon(self, epsilon: float | torch.Tensor) -> None:
        """Set the probability of a random action: a float, or a tensor (e.g. ``[B]``, one
        per env) broadcasting against the leading dims of the Q-values from the right."""
        if isinstance(epsilon, torch.Tensor) and epsilon.dim() == 0:
            epsilon = float(epsilon)
        self._epsilon = epsilon
        self._device_epsilon = {}

    def _epsilon_on(self, device: torch.device) -> torch.Tensor:
        eps = self._device_epsilon.get(device)
        if eps is None:
            eps = self._epsilon.to(device)
            self._device_epsilon[device] = eps
        return eps

    def sample(self, q: torch.Tensor) -> torch.Tensor:
        """Actions (leading dims of ``q``, ``dtype``): ``argmax q`` or uniform at random.

        Q-values on the CPU without grad (what agents act on) go through
        :meth:`sample_numpy`. Elsewhere the choice is vectorised on ``q``'s device: one
        uniform draw per leading index decides, random actions are drawn for every index and
        kept where chosen (no boolean indexing, no host sync), from torch's generator.
        """
        if q.device.type == "cpu" and not q.requires_grad:
            action = torch.from_numpy(self.sample_numpy(q.numpy()))
            return action if action.dtype == self.dtype else action.to(self.dtype)
        action = torch.argmax(q, dim=-1)
        eps = self._epsilon
        if isinstance(eps, torch.Tensor):
            explore = torch.rand(action.shape, device=q.device) < self._epsilon_on(q.device)
        elif eps <= 0:
            return action if action.dtype == self.dtype else action.to(self.dtype)
        elif eps >= 1:
            return torch.randint(self.dim, action.shape, device=q.device, dtype=self.dtype)
        else:
            explore = torch.rand(action.shape, device=q.device) < eps
        random = torch.randint_like(action, self.dim)
        action = torch.where(explore, random, action)
        return action if action.dtype == self.dtype else action.to(self.dtype)

    def sample_numpy(self, q: np.ndarray) -> np.ndarray:
        """:meth:`sample` for NumPy Q-values ``[..., dim]``: ``int64`` actions (leading dims).

        Random draws come from NumPy's global generator (seeded, saved and restored with the
        others by ``rlpyt.utils.seed``). Speed: at the one-to-few envs of a sampler step each
        torch op costs several times its NumPy equivalent, and random actions are drawn only
        when some index explores (rarely, at the usual small epsilon).
        """
        action = np.asarray(q.argmax(axis=-1))
        eps = self._epsilon
        if isinstance(eps, torch.Tensor):
            threshold = self._epsilon_on(torch.device("cpu")).numpy()
        elif eps <= 0:
            return action
        elif eps >= 1:
            return np.random.randint(self.dim, size=action.shape, dtype=np.int64)
        else:
            threshold = eps
        explore = np.random.random_sample(action.size).reshape(action.shape) < threshold
        if np.count_nonzero(explore):  # (a C call; ``.any()`` costs several times more)
            random = np.random.randint(self.dim, size=action.shape, dtype=np.int64)
            action = np.where(explore, random, action)
        return action


class CategoricalEpsilonGreedy(EpsilonGreedy):
    """Epsilon-greedy over the expected values of return distributions on fixed atoms ``z``.

    Distributional (C51) agents call :meth:`sample` with probabilities ``p [..., dim,
    n_atoms]``; the greedy action maximises ``sum_i p_i z_i``. The algorithm may move the
    support with :meth:`set_z` (e.g. ``CatDqnAgent.give_V_min_max``).

    Args:
        dim: number of actions.
        z: atom values ``[n_atoms]`` (the support of the return distribution).
        epsilon, dtype, onehot_dtype: as for :class:`EpsilonGreedy`.
    """

    def __init__(
        self,
        dim: int,
        z: torch.Tensor,
        epsilon: float | torch.Tensor = 1.0,
        dtype: torch.dtype = torch.long,
        onehot_dtype: torch.dtype = torch.float,
    ) -> None:
        super().__init__(dim, epsilon=epsilon, dtype=dtype, onehot_dtype=onehot_dtype)
        self.set_z(z)

    @property
    def z(self) -> torch.Tensor:
        """Atom values ``[n_atoms]``."""
        return self._z

    def set_z(self, z: torch.Tensor) -> None:
        """Set the atom values ``[n_atoms]``."""
        self._z = torch.as_tensor(z, dtype=torch.float32)
        self._device_z: dict[torch.device, torch.Tensor] = {}

    def expected_value(self, p: torch.Tensor) -> torch.Tensor:
        """``q [..., dim] = sum_i p[..., i] z_i`` from ``p [..., dim, n_atoms]``."""
        z = self._device_z.get(p.device)
        if z is None:
            z = self._device_z[p.device] = self._z.to(p.device)
        return torch.matmul(p, z.to(p.dtype))

    def sample(self, p: torch.Tensor) -> torch.Tensor:
        """Actions (leading dims of ``p``): greedy on :meth:`expected_value`, or random."""
        return super().sample(self.expected_value(p))
