"""Deterministic fake environments for exact-layout tests of samplers, collectors and buffers."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlpyt.envs.base import Env, EnvStep
from rlpyt.spaces.float_box import FloatBox
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.collections import namedarraytuple

CountingEnvInfo = namedarraytuple("CountingEnvInfo", ["timeout", "traj_done", "k"])
"""``env_info`` of :class:`CountingEnv`: ``timeout`` bool, ``traj_done`` bool, ``k`` int64."""


class CountingEnv(Env):
    """An env whose observation counts the steps since the last reset.

    With ``k`` the number of steps since :meth:`reset` (``reset`` gives ``k = 0``):

    - observation: ``np.full(obs_shape, k, float32)``;
    - reward of the step that leads to ``k``: ``float(k)`` (no dependence on the action);
    - ``done=True, traj_done=True, timeout=False`` when ``done_every`` divides ``k``;
    - otherwise ``done=True, traj_done=True, timeout=True`` when ``k == timeout_every``
      (termination wins when both hold), which is also ``horizon``;
    - ``env_info = CountingEnvInfo(timeout, traj_done, k)``.

    Stepping past a ``done`` without :meth:`reset` keeps counting. ``n_resets`` and
    ``last_action`` record how the env was driven, for assertions.

    Args:
        done_every: terminate every this many steps (``None``: never).
        timeout_every: truncate after this many steps (``None``: never).
        obs_shape: observation shape.
        n_actions: number of discrete actions, or the action dimension if ``continuous``.
        continuous: ``FloatBox(-1, 1, (n_actions,))`` actions instead of ``IntBox(0, n_actions)``.
        seed: seed of the action space (for ``action_space.sample()``).
    """

    def __init__(
        self,
        done_every: int | None = None,
        timeout_every: int | None = None,
        obs_shape: tuple[int, ...] = (2,),
        n_actions: int = 3,
        continuous: bool = False,
        seed: int | None = 0,
    ) -> None:
        self.done_every = done_every
        self.timeout_every = timeout_every
        self._horizon = timeout_every
        self._obs_shape = tuple(obs_shape)
        self._observation_space = FloatBox(0, np.inf, self._obs_shape)
        if continuous:
            self._action_space = FloatBox(-1, 1, (n_actions,))
        else:
            self._action_space = IntBox(0, n_actions)
        self._action_space.seed(seed)
        self.k = 0
        self.n_resets = 0
        self.last_action: Any = None

    def reset(self) -> np.ndarray:
        self.k = 0
        self.n_resets += 1
        return np.full(self._obs_shape, 0, dtype=np.float32)

    def step(self, action: Any) -> EnvStep:
        self.last_action = action
        self.k += 1
        k = self.k
        terminated = self.done_every is not None and k % self.done_every == 0
        timeout = not terminated and self.timeout_every is not None and k == self.timeout_every
        done = terminated or timeout
        info = CountingEnvInfo(timeout=timeout, traj_done=done, k=np.int64(k))
        obs = np.full(self._obs_shape, k, dtype=np.float32)
        return EnvStep(obs, np.float32(k), done, info)

    def seed(self, seed: int | None = None) -> None:
        self._seed = seed
        self._action_space.seed(seed)
