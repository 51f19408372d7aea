"""Entry point of parallel-sampler worker processes (`sampling_process`), importable by spawn."""

from __future__ import annotations

import copy
import ctypes
import ctypes.util
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import psutil
import torch

from rlpyt.samplers.collectors import decorrelation_rngs
from rlpyt.samplers.run_state import load_run_state_dict, run_state_dict
from rlpyt.utils.logging import logger
from rlpyt.utils.seed import get_rng_states, set_envs_seeds, set_rng_states, set_seed

__all__ = ["SamplingWorker", "master_alive", "sampling_process", "worker_seed"]

# A worker never waits longer than this for a command without checking that the master lives.
POLL_S = 0.5
_PR_SET_PDEATHSIG = 1


def worker_seed(seed: int, rank: int, worker_rank: int) -> int:
    """Seed of the global RNGs (Python, NumPy, torch) of one worker process.

    Distinct per worker (under ``fork`` every worker would otherwise inherit the master's
    torch RNG state, so stochastic agents in all workers would draw the same numbers), and
    apart from the env seeds ``seed + g``.
    """
    return int(np.random.SeedSequence([int(seed), rank, worker_rank, 2]).generate_state(1)[0])


class _PipeQueue:
    """``put(item)`` sends ``("traj", item)`` to the master: the eval collectors' queue."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def put(self, item: Any) -> None:
        self.conn.send(("traj", item))


def _prepare_process(settings: dict[str, Any]) -> None:
    """Signals, parent-death signal, torch threads, global seeds and CPU affinity of a worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the master handles Ctrl-C
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked across start
    libc_name = ctypes.util.find_library("c")
    if libc_name and os.uname().sysname == "Linux":
        try:
            # SIGTERM when the process (thread) that started us dies.
            ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    torch.set_num_threads(int(settings.get("torch_threads") or 1))
    set_seed(settings["global_seed"])
    cpus = settings.get("cpus")
    if cpus and settings.get("set_affinity", True):
        try:
            psutil.Process().cpu_affinity(list(cpus))
        except (AttributeError, OSError, ValueError) as e:
            logger.log(f"sampler worker: could not set CPU affinity {cpus}: {e}")


class _MasterWatch:
    """Tells whether the master process still lives (parent sentinel and parent pid)."""

    def __init__(self) -> None:
        self.ppid = os.getppid()
        parent = mp.parent_process()
        self.sentinel = None if parent is None else parent.sentinel

    def alive(self) -> bool:
        if os.getppid() != self.ppid:  # re-parented: the master is gone
            return False
        if self.sentinel is not None and mp_connection.wait([self.sentinel], timeout=0):
            return False
        return True

    def wait_command(self, conn: Any) -> tuple[str, Any] | None:
        """The next command from the master, or ``None`` if the master has gone."""
        waitables = [conn] if self.sentinel is None else [conn, self.sentinel]
        while True:
            ready = mp_connection.wait(waitables, timeout=POLL_S)
            if conn in ready:
                try:
                    return conn.recv()
                except (EOFError, OSError):
                    return None
            if not self.alive():
                return None


_watch: _MasterWatch | None = None


def master_alive() -> bool:
    """In a worker process: whether the master still lives (always True elsewhere)."""
    return _watch is None or _watch.alive()


class SamplingWorker:
    """The work of one CPU-sampler worker: its envs, its collector, its agent copy.

    Built inside the worker process by :func:`sampling_process` and driven by the master's
    commands: ``sample`` (one batch into the shared buffer; replies with the completed
    trajectory infos), ``eval`` (one evaluation; sends each finished trajectory), ``state`` and
    ``load_state`` (snapshot of this worker's part of the sampling run: its envs, its global
    RNG states and, for agents with ``runtime_state_dict``, its agent copy's runtime state).

    Args:
        common: settings shared by all workers (``EnvCls``, ``env_kwargs``, ``CollectorCls``,
            ``eval_CollectorCls``, ``TrajInfoCls``, ``batch_T``, ``global_B``, ``seed``,
            ``max_decorrelation_steps``, ``agent``, ``sync``, ``eval_env_kwargs``,
            ``eval_max_T``).
        worker: this worker's settings: ``rank``, ``env_ranks`` (global env indexes),
            ``samples_np`` (its ``[T, B_worker]`` slice of the shared buffer), ``eval_n_envs``,
            ``eval_seed``, ``step_buffer_np`` (GPU samplers).
        conn: this worker's end of the pipe to the master.
    """

    def __init__(self, common: dict[str, Any], worker: dict[str, Any], conn: Any) -> None:
        self.conn = conn
        self.common = common
        self.rank = worker["rank"]
        env_ranks: Sequence[int] = worker["env_ranks"]
        self.agent = _worker_agent(common.get("agent"))
        self.envs = [common["EnvCls"](**common["env_kwargs"]) for _ in env_ranks]
        set_envs_seeds(self.envs, common["seed"] + env_ranks[0])
        self.eval_envs: list[Any] = []
        self.eval_collector = None
        self.collector = common["CollectorCls"](
            rank=self.rank,
            envs=self.envs,
            samples_np=worker["samples_np"],
            batch_T=common["batch_T"],
            TrajInfoCls=common["TrajInfoCls"],
            agent=self.agent,
            sync=common.get("sync"),
            step_buffer_np=worker.get("step_buffer_np"),
            global_B=common["global_B"],
            env_ranks=list(env_ranks),
        )
        self.rngs = decorrelation_rngs(common["seed"], env_ranks)
        self.agent_inputs, self.traj_infos = self.collector.start_envs(
            common["max_decorrelation_steps"], rng=self.rngs
        )
        self.collector.start_agent()
        if worker.get("eval_n_envs", 0) > 0:
            self.eval_envs = [
                common["EnvCls"](**common["eval_env_kwargs"]) for _ in range(worker["eval_n_envs"])
            ]
            set_envs_seeds(self.eval_envs, worker["eval_seed"])
            self.eval_collector = common["eval_CollectorCls"](
                rank=self.rank,
                envs=self.eval_envs,
                TrajInfoCls=common["TrajInfoCls"],
                traj_infos_queue=_PipeQueue(conn),
                max_T=common["eval_max_T"],
                agent=self.agent,
                sync=common.get("sync"),
                step_buffer_np=worker.get("eval_step_buffer_np"),
            )

    def handle(self, command: str, arg: Any) -> None:
        """Carry out one command from the master and send the reply."""
        if command == "sample":
            self._recv_parameters()
            self.agent_inputs, self.traj_infos, completed = self.collector.collect_batch(
                self.agent_inputs, self.traj_infos, arg
            )
            self.collector.reset_if_needed(self.agent_inputs)
            self.conn.send(("batch", completed))
        elif command == "eval":
            self._recv_parameters()
            self.eval_collector.collect_evaluation(arg)  # ends with ("traj", None)
        elif command == "state":
            state = run_state_dict(
                self.envs, self.agent_inputs, self.traj_infos, self.collector, self.rngs
            )
            state["worker_rng_states"] = get_rng_states()
            runtime_state_dict = getattr(self.agent, "runtime_state_dict", None)
            if runtime_state_dict is not None:  # e.g. the recurrent state of this worker's envs
                state["agent_runtime_state"] = runtime_state_dict()
            self.conn.send(("state", state))
        elif command == "load_state":
            with warnings.catch_warnings():  # the master warns once for all workers
                warnings.simplefilter("ignore")
                self.agent_inputs, self.traj_infos = load_run_state_dict(
                    arg,
                    self.envs,
                    self.agent_inputs,
                    self.collector,
                    self.rngs,
                    self.common["TrajInfoCls"],
                    self.common["max_decorrelation_steps"],
                    self.collector.agent,
                    f"sampler worker {self.rank}",
                )
            if arg.get("worker_rng_states") is not None:
                set_rng_states(arg["worker_rng_states"])
            if arg.get("agent_runtime_state") is not None:
                self.agent.load_runtime_state_dict(arg["agent_runtime_state"])
            self.conn.send(("loaded", None))
        else:
            raise ValueError(f"sampler worker {self.rank}: unknown command {command!r}")

    def _recv_parameters(self) -> None:
        if self.agent is not None and hasattr(self.agent, "recv_shared_memory"):
            self.agent.recv_shared_memory()

    def close(self) -> None:
        for env in [*self.envs, *self.eval_envs]:
            try:
                env.close()
            except Exception as e:  # closing must not hide the reason we are exiting
                logger.log(f"sampler worker {self.rank}: env.close() failed: {e!r}")


def _worker_agent(agent: Any) -> Any:
    """Give the worker's agent a private model, loaded from the shared parameters.

    The master sends the agent with ``model`` detached (see ``detach_model``); the worker
    acts with its own copy of ``shared_model`` and refreshes it with ``recv_shared_memory``
    before every batch.
    """
    if agent is not None and getattr(agent, "shared_model", None) is not None:
        if getattr(agent, "model", None) is None:
            agent.model = copy.deepcopy(agent.shared_model)
        agent.recv_shared_memory()
    return agent


def detach_model(agent: Any) -> Any:
    """A shallow copy of ``agent`` without its (master-side) ``model``, to send to workers.

    Workers rebuild ``model`` from ``shared_model`` (:func:`_worker_agent`); this keeps the
    master's training parameters out of the workers (under ``spawn`` torch would otherwise
    move them into shared memory and let workers write into them). Agents without a
    ``shared_model`` are sent as they are.
    """
    if agent is None or getattr(agent, "shared_model", None) is None:
        return agent
    worker_agent = copy.copy(agent)
    worker_agent.model = None
    return worker_agent


def sampling_process(common: dict[str, Any], worker: dict[str, Any], conn: Any) -> None:
    """Body of a sampler worker process (the ``target`` the master starts).

    Prepares the process (SIGINT ignored, SIGTERM on master death, torch threads, seeds, CPU
    affinity), builds the worker (``common.get("WorkerCls", SamplingWorker)``), reports
    ``("ready", pid)``, then serves commands until ``("close", None)`` or the master's death.
    Any exception is sent to the master as ``("error", text)`` (type, message, traceback) and
    ends the process with exit code 1.
    """
    global _watch
    sampling_worker = None
    try:
        _prepare_process(worker)
        watch = _watch = _MasterWatch()
        sampling_worker = common.get("WorkerCls", SamplingWorker)(common, worker, conn)
        conn.send(("ready", os.getpid()))
        while True:
            message = watch.wait_command(conn)
            if message is None or message[0] == "close":
                break
            sampling_worker.handle(*message)
    except SystemExit:  # asked to exit, or the master is gone: nothing to report
        raise
    except BaseException as e:
        text = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        try:
            conn.send(("error", text))
        except (OSError, EOFError, ValueError):
            pass
        raise SystemExit(1) from None
    finally:
        if sampling_worker is not None:
            sampling_worker.close()
        conn.close()
