"""Sample buffers: one example step from env and agent, then `[T, B]` buffers allocated from it."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import numpy as np
import torch

from rlpyt.agents.base import AgentInputs
from rlpyt.samplers.collections import (
    AgentSamples,
    AgentSamplesBsv,
    BatchSpec,
    EnvSamples,
    Samples,
)
from rlpyt.utils.buffer import buffer_from_example, buffer_func, numpify_buffer, torchify_buffer

__all__ = ["build_samples_buffer", "copy_leaves_into", "get_example_outputs", "leaves_to_tensors"]


def _batch_of_one(example: Any) -> Any:
    """A ``[1, ...]`` copy of one (possibly nested) value, as NumPy arrays."""
    buf = buffer_from_example(example, 1)
    buf[0] = example
    return buf


def _first(buf: Any) -> Any:
    """Index ``[0]`` of every leaf, copied to NumPy (so nothing aliases agent outputs)."""
    return buffer_func(numpify_buffer(buf), lambda x: np.array(x[0]))


def get_example_outputs(
    agent: Any, env: Any, examples: dict[str, Any], subprocess: bool = False
) -> dict[str, Any]:
    """Fill ``examples`` with one step of every quantity the samples buffer stores.

    Resets ``env`` and steps it once with ``env.action_space.sample()``; resets ``agent`` and
    calls ``agent.step`` once on that observation with a batch of one (leading dim ``[1]``),
    then keeps entry ``[0]`` of every output leaf. Taking a batch of one and dropping it works
    for every agent, including recurrent ones whose ``agent_info.prev_rnn_state`` is stored
    batch-major (``[B, N, H]`` per step -> example ``[N, H]``). The agent is reset again after,
    so the probe leaves no recurrent state behind.

    Args:
        agent: an initialized agent.
        env: an env (it is reset and stepped once).
        examples: dict to fill with keys ``observation``, ``reward`` (float32), ``done`` (bool),
            ``env_info``, ``action`` (the env's sample, fixing the action buffer's dtype) and
            ``agent_info``.
        subprocess: this is running in a throwaway child process (see
            :func:`build_samples_buffer`): use one torch thread.

    Returns:
        ``examples``.
    """
    if subprocess:
        torch.set_num_threads(1)
    observation = env.reset()
    action = env.action_space.sample()
    o, r, d, env_info = env.step(action)
    reward = np.asarray(r, dtype=np.float32)
    agent_inputs = AgentInputs(
        _batch_of_one(observation), _batch_of_one(action), _batch_of_one(reward)
    )
    agent.reset()
    with torch.no_grad():
        _, agent_info = agent.step(*torchify_buffer(agent_inputs))
    agent.reset()
    examples["observation"] = observation
    examples["reward"] = reward
    examples["done"] = np.asarray(d, dtype=bool)
    examples["env_info"] = env_info
    examples["action"] = action
    examples["agent_info"] = _first(agent_info)
    return examples


def _examples_in_child(agent: Any, env: Any, conn: Any) -> None:
    try:
        conn.send(("ok", get_example_outputs(agent, env, {}, subprocess=True)))
    except BaseException as e:  # report any failure to the parent instead of hanging it
        conn.send(("error", repr(e)))
    finally:
        conn.close()


def _examples_from_subprocess(agent: Any, env: Any) -> dict[str, Any]:
    # A forked child probes copies of the agent and env, so the parent's env, agent (recurrent
    # state, RNG of the action space) and torch thread pools are left exactly as they were.
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_examples_in_child, args=(agent, env, send), daemon=True)
    proc.start()
    send.close()
    try:
        if not recv.poll(120):
            raise RuntimeError("get_example_outputs subprocess gave no answer within 120 s")
        status, payload = recv.recv()
    except EOFError:
        raise RuntimeError(
            f"get_example_outputs subprocess died (exit code {proc.exitcode})"
        ) from None
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    if status != "ok":
        raise RuntimeError(f"get_example_outputs failed in its subprocess: {payload}")
    return payload


def _full_shape(example: Any, leading_dims: tuple[int, ...]) -> Any:
    # A zero-stride view of the example with the buffer's full shape: it costs no memory and
    # lets several groups of leading dims go into one buffer_from_example call (one block).
    return buffer_func(
        example, lambda x: np.broadcast_to(np.asarray(x), leading_dims + np.shape(x))
    )


def build_samples_buffer(
    agent: Any,
    env: Any,
    batch_spec: BatchSpec,
    bootstrap_value: bool = False,
    agent_shared: bool = True,
    env_shared: bool = True,
    subprocess: bool = True,
    examples: dict[str, Any] | None = None,
) -> tuple[Samples, Samples, dict[str, Any]]:
    """Allocate the ``[T, B]`` samples buffer a sampler's collectors write into.

    Layout (every leaf zero-filled, ``T, B = batch_spec``)::

        Samples.agent: action [T, B, *A], prev_action [T, B, *A], agent_info [T, B, ...]
                       (+ bootstrap_value [1, B] if bootstrap_value)
        Samples.env:   observation [T, B, *O], reward [T, B] float32, prev_reward [T, B],
                       done [T, B] bool, env_info [T, B, ...]

    ``prev_action``/``action`` are the slices ``[:-1]``/``[1:]`` of one ``[T + 1, B]`` array,
    so ``prev_action[t + 1]`` *is* ``action[t]`` (same memory; same for ``prev_reward`` and
    ``reward``): a collector writes ``action[t]`` once and the next step's ``prev_action``
    follows, and only the leading entries ``prev_action[0]``/``prev_reward[0]`` are written at
    the start of a batch. The agent group and the env group are each one allocation (one
    shared-memory block when shared).

    Args:
        agent: initialized agent (probed once by :func:`get_example_outputs`).
        env: one env of the kind being sampled (reset and stepped once).
        batch_spec: ``BatchSpec(T, B)``; ``B`` counts all envs writing into this buffer.
        bootstrap_value: add ``agent.bootstrap_value`` ``[1, B]`` (shaped like
            ``agent_info.value``).
        agent_shared: put the agent group in OS shared memory.
        env_shared: put the env group in OS shared memory.
        subprocess: take the example step in a forked child process (where ``fork`` exists),
            leaving this process's env and agent untouched.
        examples: precomputed examples (skips the probe).

    Returns:
        ``(samples_pyt, samples_np, examples)``: torch and NumPy views of the same memory, and
        the examples dict.
    """
    if examples is None:
        if subprocess and "fork" in mp.get_all_start_methods():
            examples = _examples_from_subprocess(agent, env)
        else:
            examples = get_example_outputs(agent, env, {})
    T, B = batch_spec
    bootstrap_example = None
    if bootstrap_value:
        value = getattr(examples["agent_info"], "value", None)
        if value is None:
            raise ValueError(
                "bootstrap_value=True needs an agent whose agent_info has a 'value' field; got "
                f"agent_info {type(examples['agent_info']).__name__}"
            )
        bootstrap_example = _full_shape(value, (1, B))
    all_action, agent_info, bootstrap = buffer_from_example(
        (
            _full_shape(examples["action"], (T + 1, B)),
            _full_shape(examples["agent_info"], (T, B)),
            bootstrap_example,
        ),
        (),
        agent_shared,
    )
    observation, all_reward, done, env_info = buffer_from_example(
        (
            _full_shape(examples["observation"], (T, B)),
            _full_shape(np.float32(0), (T + 1, B)),
            _full_shape(np.bool_(False), (T, B)),
            _full_shape(examples["env_info"], (T, B)),
        ),
        (),
        env_shared,
    )
    # Aliasing: action/prev_action (and reward/prev_reward) are shifted views of one array.
    action, prev_action = all_action[1:], all_action[:-1]
    reward, prev_reward = all_reward[1:], all_reward[:-1]
    if bootstrap_value:
        agent_buffer = AgentSamplesBsv(action, prev_action, agent_info, bootstrap)
    else:
        agent_buffer = AgentSamples(action, prev_action, agent_info)
    env_buffer = EnvSamples(observation, reward, prev_reward, done, env_info)
    samples_np = Samples(agent_buffer, env_buffer)
    return torchify_buffer(samples_np), samples_np, examples


def leaves_to_tensors(buffer_: Any) -> list[torch.Tensor]:
    """Copies of a buffer's leaves as a flat list of tensors (depth first, in field order).

    A structure-free form for snapshots: it loads with ``torch.load(weights_only=True)``, and
    :func:`copy_leaves_into` writes it back into a buffer of the same structure.
    """
    found: list[torch.Tensor] = []
    buffer_func(buffer_, lambda x: found.append(torch.tensor(np.asarray(x))))
    return found


def copy_leaves_into(buffer_: Any, tensors: list[Any]) -> None:
    """Write ``tensors`` (from :func:`leaves_to_tensors`) into the leaves of ``buffer_``.

    Raises:
        ValueError: if the number of leaves or a leaf's shape differs.
    """
    leaves: list[np.ndarray] = []
    buffer_func(buffer_, leaves.append)
    if len(leaves) != len(tensors):
        raise ValueError(f"buffer has {len(leaves)} leaves, state has {len(tensors)}")
    for leaf, value in zip(leaves, tensors):
        value = np.asarray(value)
        if leaf.shape != value.shape:
            raise ValueError(f"leaf shape {leaf.shape} differs from state shape {value.shape}")
        leaf[...] = value
