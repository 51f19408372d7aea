"""Partially observed Gymnasium envs: hide observation entries to turn a task into a memory task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np

from rlpyt.envs.gym import GymEnvWrapper


class MaskObservation(gymnasium.ObservationWrapper):
    """Keep only the entries ``keep_indices`` of a flat Box observation.

    E.g. CartPole with ``keep_indices=(0, 2)`` shows cart position and pole angle but hides both
    velocities, which an agent must then infer from the history (recurrent agents can).

    Args:
        env: a Gymnasium env with a 1-D ``Box`` observation space.
        keep_indices: indices of the observation entries to keep, in order.
    """

    def __init__(self, env: gymnasium.Env, keep_indices: Sequence[int]) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gymnasium.spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"MaskObservation needs a 1-D Box observation space, got {space!r}")
        keep = np.asarray(keep_indices, dtype=np.int64)
        if keep.ndim != 1 or keep.size == 0 or keep.min() < 0 or keep.max() >= space.shape[0]:
            raise ValueError(
                f"keep_indices {list(keep_indices)} must be non-empty indices into an "
                f"observation of size {space.shape[0]}"
            )
        self._keep = keep
        self.observation_space = gymnasium.spaces.Box(
            space.low[keep], space.high[keep], dtype=space.dtype
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[self._keep]


def masked_gym_make(
    *args: Any, keep_indices: Sequence[int], info_example: Any = None, **kwargs: Any
) -> GymEnvWrapper:
    """``gym_make`` with only ``keep_indices`` of the observation visible.

    Usable as a sampler's ``EnvCls``:
    ``EnvCls=masked_gym_make, env_kwargs=dict(id="CartPole-v1", keep_indices=[0, 2])``.
    """
    env = MaskObservation(gymnasium.make(*args, **kwargs), keep_indices)
    return GymEnvWrapper(env, info_example=info_example)
