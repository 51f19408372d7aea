"""The `Env` interface every sampler steps, and the `EnvStep` / `EnvSpaces` / `EnvInfo` types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import namedtuple
from typing import Any

from rlpyt.spaces.base import Space
from rlpyt.utils.collections import namedarraytuple

EnvStep = namedtuple("EnvStep", ["observation", "reward", "done", "env_info"])
"""What :meth:`Env.step` returns: ``(observation, reward, done, env_info)``."""

EnvSpaces = namedtuple("EnvSpaces", ["observation", "action"])
"""The two spaces of an env, handed to ``agent.initialize(env_spaces, ...)``."""

EnvInfo = namedarraytuple("EnvInfo", [])
"""Default ``env_info`` type for envs with nothing to report (no fields)."""


class Env(ABC):
    """An environment as rlpyt's samplers see it: NumPy in, NumPy out.

    Collectors (inside sampler workers) call :meth:`reset` and :meth:`step`; samplers read
    :attr:`spaces` to build example steps and allocate ``[T, B]`` buffers from them, and
    :meth:`seed` each env with a distinct seed. Subclasses set ``self._action_space``,
    ``self._observation_space`` and optionally ``self._horizon``, or override the properties.

    ``env_info`` must be a namedtuple (preferably a namedarraytuple) with the *same fields at
    every step*, because the sampler allocates one buffer per field from the first step.
    Two fields carry meaning for samplers and algorithms:

    - ``timeout``: the step ended the episode by truncation (time limit), not termination;
      algorithms bootstrap through it instead of treating the next value as zero.
    - ``traj_done``: the trajectory really ended, so the collector resets the env. It may
      differ from ``done``: Atari with ``episodic_lives`` sets ``done`` on a life loss but
      ``traj_done`` only at game over. Envs without the field are reset on every ``done``.
    """

    _action_space: Space
    _observation_space: Space
    _horizon: int | None = None
    _seed: int | None = None

    @abstractmethod
    def step(self, action: Any) -> EnvStep:
        """Advance one step.

        Args:
            action: an element of :attr:`action_space` (NumPy array or namedtuple of arrays).

        Returns:
            ``EnvStep(observation, reward, done, env_info)``: ``observation`` an element of
            :attr:`observation_space`, ``reward`` a float, ``done`` a bool, ``env_info`` a
            namedtuple with fixed fields.
        """

    @abstractmethod
    def reset(self) -> Any:
        """Start a new episode (using the seed given to :meth:`seed`, if any) and return the
        first observation."""

    @property
    def action_space(self) -> Space:
        return self._action_space

    @property
    def observation_space(self) -> Space:
        return self._observation_space

    @property
    def spaces(self) -> EnvSpaces:
        """``EnvSpaces(observation=observation_space, action=action_space)``."""
        return EnvSpaces(observation=self.observation_space, action=self.action_space)

    @property
    def horizon(self) -> int | None:
        """Maximum episode length in steps, or ``None`` if unbounded."""
        return self._horizon

    def seed(self, seed: int | None = None) -> None:
        """Store ``seed`` to be used by the next :meth:`reset` (subclasses may seed more)."""
        self._seed = seed

    def close(self) -> None:
        """Release resources (windows, emulators, subprocesses). Safe to call twice."""
        return None
