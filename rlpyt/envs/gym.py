"""`GymEnvWrapper`: any Gymnasium env as an rlpyt `Env`, with info dicts as fixed namedtuples."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np

from rlpyt.envs.base import Env, EnvStep
from rlpyt.spaces.gym_wrapper import GymSpaceWrapper, sanitize_field_names
from rlpyt.utils.collections import namedarraytuple

# Fields the wrapper always adds to env_info (info keys with these names are renamed *_2).
_OWN_FIELDS = ("timeout", "traj_done")


class _Leaf:
    """Converts one numeric info value to a fixed dtype and shape; null (zeros) when absent."""

    def __init__(self, path: str, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self.path, self.dtype, self.shape = path, dtype, shape
        self.null = np.zeros(shape, dtype=dtype)

    def __call__(self, value: Any, warn) -> np.ndarray:
        if value is None:
            return self.null.copy()
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.dtype.kind not in "biufc":
            warn(self.path, "bad", f"is no longer numeric ({type(value).__name__}); using zeros")
            return self.null.copy()
        if arr.shape != self.shape:
            warn(self.path, "shape", f"changed shape {self.shape} -> {arr.shape}; using zeros")
            return self.null.copy()
        if arr.dtype != self.dtype:
            if not np.can_cast(arr.dtype, self.dtype, "same_kind"):
                warn(self.path, "cast", f"has dtype {arr.dtype}, cast to {self.dtype}")
            arr = arr.astype(self.dtype)
        return arr


class _Node:
    """Converts a (nested) info dict into a namedarraytuple with fixed fields."""

    def __init__(self, path: str, keys: list, children: list, cls: type, ignored: set) -> None:
        self.path, self.keys, self.children, self.cls = path, keys, children, cls
        self.known = set(keys) | ignored  # keys that never trigger a "new key" warning
        n_own = len(cls._fields) - len(children)  # the top level adds timeout, traj_done
        self.null = None if n_own else cls(*(c.null for c in children))
        self._bare: dict[tuple, Any] = {}  # instances without children, by own-field values

    def __call__(self, info: Any, warn, *own: Any) -> Any:
        # None and {} (many envs' usual step info) take the short way: every field null.
        if info is None or (type(info) is dict and not info):
            if not self.children:  # only the own fields (bools): reuse one instance per value
                bare = self._bare.get(own)
                if bare is None:
                    bare = self._bare[own] = self.cls(*own)
                return bare
            return self.cls(*(_null_copy(c.null) for c in self.children), *own)
        if not isinstance(info, Mapping):
            warn(self.path, "bad", f"is no longer a dict ({type(info).__name__}); using zeros")
            return self.cls(*(_null_copy(c.null) for c in self.children), *own)
        for key in info.keys() - self.known:
            warn(
                _join(self.path, key),
                "new",
                "was not in the first info dicts (nor in "
                "info_example) and is dropped; declare it in info_example to keep it",
            )
        values = [c(info.get(k), warn) for k, c in zip(self.keys, self.children)]
        return self.cls(*values, *own)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _null_copy(null: Any) -> Any:
    if isinstance(null, np.ndarray):
        return null.copy()
    return type(null)(*(_null_copy(v) for v in null))


def _build(
    examples: list[Mapping], declared: Mapping, path: str, typename: str, own: tuple = ()
) -> _Node:
    """Make a converter from example info dicts (``declared`` first, then in order)."""
    firsts: dict[Any, Any] = {}
    for source in (declared, *examples):
        for key, value in source.items():
            firsts.setdefault(key, value)
    keys, children, ignored = [], [], set()
    fields = sanitize_field_names(firsts.keys(), taken=own)
    kept_fields = []
    for (key, value), field in zip(firsts.items(), fields):
        key_path = _join(path, key)
        if isinstance(value, Mapping):
            sub_examples = [e[key] for e in examples if isinstance(e.get(key), Mapping)]
            sub_declared = declared.get(key) if isinstance(declared.get(key), Mapping) else {}
            child = _build(sub_examples, sub_declared, key_path, f"{typename}_{field}")
        else:
            try:
                arr = np.asarray(value)
            except (TypeError, ValueError):
                arr = None
            if arr is None or arr.dtype.kind not in "biufc":
                if key in declared:
                    raise ValueError(
                        f"info_example[{key_path!r}] = {value!r} is not numeric; env_info "
                        f"fields must be numbers, bools, numeric arrays or dicts of them"
                    )
                warnings.warn(
                    f"GymEnvWrapper: info key {key_path!r} has non-numeric value of type "
                    f"{type(value).__name__} and is dropped from env_info",
                    stacklevel=2,
                )
                ignored.add(key)
                continue
            child = _Leaf(key_path, arr.dtype, arr.shape)
        keys.append(key)
        children.append(child)
        kept_fields.append(field)
    cls = namedarraytuple(typename, [*kept_fields, *own])
    return _Node(path, keys, children, cls, ignored)


class GymEnvWrapper(Env):
    """Adapts a Gymnasium env to rlpyt's :class:`~rlpyt.envs.base.Env` interface.

    Samplers build it through :func:`make` (``EnvCls=gym_make, env_kwargs=dict(id=...)``).
    ``reset()`` returns only the (converted) observation; ``step(action)`` reverts the agent's
    action to Gymnasium form and returns ``EnvStep(observation, reward, done, env_info)`` with
    ``done = terminated or truncated`` and ``reward`` a ``np.float32``.

    ``env_info`` is a namedarraytuple with the same fields at every step: one per numeric info
    key, then ``timeout = truncated and not terminated`` and ``traj_done = done``. The fields
    are fixed at construction: the wrapper resets the env and takes one random step to collect
    the keys of the first reset info and step info, merged after the keys of ``info_example``
    (which wins on value shapes and dtypes). Rules per key (dotted paths name nested keys):

    - Numbers, bools and numeric arrays keep their dtype and shape; dicts become nested
      namedarraytuples. Keys are sanitized into field names (``"episode.r" -> "episode_r"``;
      see :func:`~rlpyt.spaces.gym_wrapper.sanitize_field_name`).
    - A known key absent from a step's info gets zeros of its example's shape and dtype.
    - A key seen for the first time after construction is dropped, with one warning per key.
    - Non-numeric values (str, None, objects) found while probing are dropped with a warning;
      in ``info_example`` they raise ``ValueError``.
    - A known key whose value later changes shape or stops being numeric gets zeros, with one
      warning per key; values are cast to the example's dtype (warning once if unsafe).

    Args:
        env: the Gymnasium env (not yet reset; the wrapper owns and closes it).
        act_null_value: null value of the action space (``prev_action`` at episode start).
        obs_null_value: null value of the observation space.
        force_float32: cast float64 Box observations/actions to float32 (actions are cast back
            to the env's dtype before ``env.step``).
        info_example: optional dict declaring info keys (and example values) up front.
    """

    def __init__(
        self,
        env: gymnasium.Env,
        act_null_value: Any = 0,
        obs_null_value: Any = 0,
        force_float32: bool = True,
        info_example: Mapping | None = None,
    ) -> None:
        self.env = env
        self._action_space = GymSpaceWrapper(env.action_space, act_null_value, "act", force_float32)
        self._observation_space = GymSpaceWrapper(
            env.observation_space, obs_null_value, "obs", force_float32
        )
        spec = getattr(env, "spec", None)
        self._horizon = getattr(spec, "max_episode_steps", None)
        self._warned: set[tuple[str, str]] = set()
        _, reset_info = env.reset()
        *_, step_info = env.step(env.action_space.sample())
        self._info = _build([reset_info, step_info], info_example or {}, "", "EnvInfo", _OWN_FIELDS)

    def step(self, action: Any) -> EnvStep:
        """Step the env with an rlpyt action; see the class docstring for the outputs."""
        o, r, terminated, truncated, info = self.env.step(self._action_space.revert(action))
        done = bool(terminated or truncated)
        timeout = bool(truncated and not terminated)
        env_info = self._info(info, self._warn, timeout, done)
        return EnvStep(self._observation_space.convert(o), np.float32(r), done, env_info)

    def reset(self) -> Any:
        """Reset the env (with the seed from :meth:`seed`, once) and return the observation."""
        seed, self._seed = self._seed, None
        o, _ = self.env.reset(seed=seed)
        return self._observation_space.convert(o)

    def seed(self, seed: int | None = None) -> None:
        """Use ``seed`` at the next reset (``env.reset(seed=seed)``) and seed both spaces."""
        self._seed = seed
        self._action_space.seed(seed)
        self._observation_space.seed(None if seed is None else seed + 1)

    def close(self) -> None:
        self.env.close()

    @property
    def env_info_cls(self) -> type:
        """The namedarraytuple class of ``env_info``."""
        return self._info.cls

    @property
    def unwrapped(self) -> gymnasium.Env:
        """The innermost Gymnasium env."""
        return self.env.unwrapped

    def _warn(self, path: str, reason: str, message: str) -> None:
        if (path, reason) not in self._warned:
            self._warned.add((path, reason))
            warnings.warn(f"GymEnvWrapper: info key {path!r} {message}", stacklevel=4)


def make(
    *args: Any,
    info_example: Mapping | None = None,
    act_null_value: Any = 0,
    obs_null_value: Any = 0,
    force_float32: bool = True,
    **kwargs: Any,
) -> GymEnvWrapper:
    """``GymEnvWrapper(gymnasium.make(*args, **kwargs), ...)``: the usual ``EnvCls`` for samplers.

    Picklable by reference, so ``EnvCls=gym_make, env_kwargs=dict(id="CartPole-v1")`` travels to
    worker processes under any start method. MuJoCo envs come the same way
    (``gym_make("HalfCheetah-v5")``), as do Atari envs registered by ale-py (``"ALE/Pong-v5"``).

    Args:
        *args: positional arguments of ``gymnasium.make`` (the env id first).
        info_example: see :class:`GymEnvWrapper`.
        act_null_value: see :class:`GymEnvWrapper`.
        obs_null_value: see :class:`GymEnvWrapper`.
        force_float32: see :class:`GymEnvWrapper`.
        **kwargs: keyword arguments of ``gymnasium.make`` (e.g. ``max_episode_steps``).
    """
    return GymEnvWrapper(
        gymnasium.make(*args, **kwargs),
        act_null_value=act_null_value,
        obs_null_value=obs_null_value,
        force_float32=force_float32,
        info_example=info_example,
    )


gym_make = make
