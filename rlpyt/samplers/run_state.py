"""Snapshot of a sampling run (envs, agent inputs, trajectories in progress) for exact resume.

Every sampler writes the same format, so a snapshot taken with one sampler resumes with
another: ``SerialSampler`` builds it from its one collector; parallel samplers ask each worker
for the state of its envs (:func:`run_state_dict`) and join the parts in env order
(:func:`merge_run_states`), and split a loaded state back over the workers
(:func:`split_run_state`).
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from rlpyt.samplers.buffer import copy_leaves_into, leaves_to_tensors

__all__ = [
    "env_generators",
    "load_run_state_dict",
    "merge_run_states",
    "run_state_dict",
    "split_run_state",
]


def _plain(value: Any) -> Any:
    """NumPy scalars to Python ones, so snapshots load with ``weights_only=True``."""
    return value.item() if isinstance(value, np.generic) else value


def env_generators(env: Any) -> dict[str, np.random.Generator]:
    """The random generators an env exposes: Gymnasium's ``np_random`` and the action space's."""
    found = {}
    unwrapped = getattr(env, "unwrapped", None)
    np_random = getattr(unwrapped, "np_random", None)
    if isinstance(np_random, np.random.Generator):
        found["np_random"] = np_random
    space = getattr(env, "action_space", None)
    rng = getattr(getattr(space, "space", space), "_rng", None)  # GymSpaceWrapper delegates
    if isinstance(rng, np.random.Generator):
        found["action_space"] = rng
    return found


def run_state_dict(
    envs: Sequence[Any],
    agent_inputs: Any,
    traj_infos: Sequence[Any],
    collector: Any,
    rngs: Sequence[np.random.Generator],
) -> dict[str, Any]:
    """The state of one collector's envs (tensors, Python values and bytes only).

    Keys: ``agent_inputs`` (leaf tensors, ``[B]`` leading), ``traj_infos`` (dicts),
    ``collector`` (its flags), ``envs`` (``pickle.dumps`` of the env list, or ``None``),
    ``envs_unpicklable`` (why not, or ``None``), ``env_rng`` (per env, the bit-generator states
    of the generators it exposes), ``decorrelation_rng`` (per env).
    """
    try:
        pickled, reason = pickle.dumps(list(envs)), None
    except Exception as e:  # any env may refuse pickling in its own way
        pickled, reason = None, f"{type(e).__name__}: {e}"
    return {
        "agent_inputs": leaves_to_tensors(agent_inputs),
        "traj_infos": [{k: _plain(v) for k, v in info.items()} for info in traj_infos],
        "collector": collector.state_dict(),
        "envs": pickled,
        "envs_unpicklable": reason,
        "env_rng": [
            {k: g.bit_generator.state for k, g in env_generators(env).items()} for env in envs
        ],
        "decorrelation_rng": [g.bit_generator.state for g in rngs],
    }


def load_run_state_dict(
    state: dict[str, Any],
    envs: list[Any],
    agent_inputs: Any,
    collector: Any,
    rngs: Sequence[np.random.Generator],
    TrajInfoCls: Callable[[], Any],
    max_decorrelation_steps: int,
    agent: Any,
    owner: str,
) -> tuple[Any, list[Any]]:
    """Restore :func:`run_state_dict`'s output into a collector built with the same settings.

    Pickled envs replace (and close) ``envs`` in place (the collector holds the same list).
    Without them, the envs get the saved generator states and are reset and decorrelated
    again, with a warning naming ``owner``.

    Returns:
        ``(agent_inputs, traj_infos)`` to continue from.

    Raises:
        ValueError: if the state holds a different number of envs.
    """
    B = len(envs)
    if len(state["traj_infos"]) != B:
        raise ValueError(f"state has {len(state['traj_infos'])} envs, sampler has {B}")
    for generator, rng_state in zip(rngs, state["decorrelation_rng"]):
        generator.bit_generator.state = rng_state
    if state["envs"] is None:
        warnings.warn(
            f"{owner}.load_state_dict: envs were not saved ({state['envs_unpicklable']}); "
            f"resetting and decorrelating them again, so sampling does not continue exactly",
            stacklevel=3,
        )
        for env, rng_states in zip(envs, state["env_rng"]):
            for name, generator in env_generators(env).items():
                if name in rng_states:
                    generator.bit_generator.state = rng_states[name]
        agent_inputs, traj_infos = collector.start_envs(max_decorrelation_steps, rng=list(rngs))
        agent.reset()
        return agent_inputs, traj_infos
    loaded = pickle.loads(state["envs"])
    if len(loaded) != B:
        raise ValueError(f"state has {len(loaded)} envs, sampler has {B}")
    for env in envs:
        env.close()
    envs[:] = loaded
    copy_leaves_into(agent_inputs, state["agent_inputs"])
    traj_infos = []
    for saved in state["traj_infos"]:
        info = TrajInfoCls()
        info.update(saved)
        traj_infos.append(info)
    collector.load_state_dict(state["collector"])
    return agent_inputs, traj_infos


def _cat(parts: Sequence[Any]) -> Any:
    """Join per-collector values along the env dimension (tensors, lists of them, dicts)."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(list(parts))
    if isinstance(first, dict):
        return {k: _cat([p[k] for p in parts]) for k in first}
    if isinstance(first, list) and first and isinstance(first[0], torch.Tensor):
        return [torch.cat(list(leaf)) for leaf in zip(*parts)]
    raise TypeError(f"cannot join collector states of type {type(first).__name__}")


def _slice(value: Any, start: int, stop: int) -> Any:
    if isinstance(value, torch.Tensor):
        return value[start:stop].clone()
    if isinstance(value, dict):
        return {k: _slice(v, start, stop) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
        return [_slice(v, start, stop) for v in value]
    raise TypeError(f"cannot split a collector state of type {type(value).__name__}")


def merge_run_states(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One state for all envs from per-collector states, in env order.

    The envs are joined into one pickled list (they are unpickled here for that); if any
    collector's envs did not pickle, ``envs`` is ``None`` with the first reason.
    """
    reasons = [s["envs_unpicklable"] for s in states if s["envs"] is None]
    if reasons:
        envs = None
    else:
        envs = pickle.dumps([env for s in states for env in pickle.loads(s["envs"])])
    return {
        "agent_inputs": _cat([s["agent_inputs"] for s in states]),
        "traj_infos": [info for s in states for info in s["traj_infos"]],
        "collector": _cat([s["collector"] for s in states]) if states[0]["collector"] else {},
        "envs": envs,
        "envs_unpicklable": reasons[0] if reasons else None,
        "env_rng": [r for s in states for r in s["env_rng"]],
        "decorrelation_rng": [r for s in states for r in s["decorrelation_rng"]],
    }


def split_run_state(state: dict[str, Any], counts: Sequence[int]) -> list[dict[str, Any]]:
    """Split a state over collectors holding ``counts`` envs each, in env order.

    Raises:
        ValueError: if the state holds a different number of envs than ``sum(counts)``.
    """
    B = sum(counts)
    if len(state["traj_infos"]) != B:
        raise ValueError(f"state has {len(state['traj_infos'])} envs, sampler has {B}")
    envs = None if state["envs"] is None else pickle.loads(state["envs"])
    if envs is not None and len(envs) != B:
        raise ValueError(f"state has {len(envs)} envs, sampler has {B}")
    parts = []
    start = 0
    for n in counts:
        stop = start + n
        parts.append(
            {
                "agent_inputs": [t[start:stop].clone() for t in state["agent_inputs"]],
                "traj_infos": state["traj_infos"][start:stop],
                "collector": _slice(state["collector"], start, stop) if state["collector"] else {},
                "envs": None if envs is None else pickle.dumps(envs[start:stop]),
                "envs_unpicklable": state["envs_unpicklable"],
                "env_rng": state["env_rng"][start:stop],
                "decorrelation_rng": state["decorrelation_rng"][start:stop],
            }
        )
        start = stop
    return parts
