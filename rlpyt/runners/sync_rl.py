"""`SyncRl` and `SyncRlEval`: synchronous data-parallel training, one full replica per device.

Every replica is a process with its own sampler, agent and algorithm; the agent's models are
wrapped in ``DistributedDataParallel``, so each backward pass averages the gradients of all
replicas (NCCL when the replica has a GPU, Gloo on CPU) and the replicas' parameters stay equal.
Replicas are started in one of two ways:

- **locally**: the process that calls ``train()`` is rank 0 and starts one child process (start
  method ``spawn``) per further entry of the ``affinity`` list, on this machine;
- **under torchrun** (or any launcher that sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
  ``MASTER_ADDR``, ``MASTER_PORT``): every launched process is one replica, and nothing is
  spawned. The process group is initialised from the environment (``env://``).

Only rank 0 logs and saves snapshots; trajectory statistics come from all replicas. See
``docs/sync_rl.md``.
"""

from __future__ import annotations

import contextlib
import datetime
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.distributed as dist

from rlpyt.runners.minibatch_rl import MinibatchRl, MinibatchRlEval
from rlpyt.runners.sync_replicas import (
    ChildReplica,
    ReplicaError,
    Replicas,
    master_store,
    replica_main,
)
from rlpyt.utils.logging import logger
from rlpyt.utils.seed import get_rng_states, make_seed, set_seed

__all__ = [
    "RANK_SEED_STRIDE",
    "ReplicaError",
    "SyncRl",
    "SyncRlEval",
    "SyncRlMixin",
    "launched_affinity",
    "replica_affinities",
    "torchrun_env",
]

RANK_SEED_STRIDE = 100
"""Rank ``r`` reseeds its global RNGs (Python, NumPy, torch) with ``seed + 100 * r`` after
start-up; env seeds come from the shared ``seed`` and the global env index instead."""

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
"""Environment variables whose presence means "launched by torchrun": no spawning."""

_FAILURE_GRACE_S = 3.0  # after a collective failed: how long to wait for a child's report


def replica_affinities(affinity: Any) -> list[dict]:
    """The per-replica affinity dicts of a ``SyncRl`` ``affinity`` argument.

    A list (as ``make_affinity(..., n_gpu=N, gpu_per_run=N)`` returns) gives one replica per
    entry; a single dict or ``None`` gives one replica.

    Raises:
        ValueError: for an empty list or an async affinity (``optimizer``/``sampler`` keys).
    """
    if affinity is None:
        return [{}]
    if isinstance(affinity, Mapping):
        if "optimizer" in affinity and "sampler" in affinity:
            raise ValueError(
                "SyncRl got an async affinity (make_affinity(async_sample=True)); use AsyncRl, "
                "or make_affinity(..., gpu_per_run=N) for N synchronous replicas"
            )
        return [dict(affinity)]
    affinities = [dict(a) for a in affinity]
    if not affinities:
        raise ValueError("SyncRl: the affinity list is empty; give one dict per replica")
    return affinities


def torchrun_env() -> dict[str, int] | None:
    """``rank``, ``world_size``, ``local_rank``, ``local_world_size`` from torchrun's
    environment variables, or ``None`` when they are not all set."""
    if not all(k in os.environ for k in TORCHRUN_ENV):
        return None
    world_size = int(os.environ["WORLD_SIZE"])
    return dict(
        rank=int(os.environ["RANK"]),
        world_size=world_size,
        local_rank=int(os.environ["LOCAL_RANK"]),
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", world_size)),
    )


def launched_affinity(affinities: list[dict], local_rank: int, local_world_size: int) -> dict:
    """The affinity of the process with ``local_rank`` on its machine (torchrun).

    With one dict per local process (a list), entry ``local_rank``; with a single dict shared
    by several local processes, a copy with ``cuda_idx = local_rank`` (when it names a GPU) and
    without CPU pinning (the processes would all pin the same cores).

    Raises:
        ValueError: if the list has fewer entries than this machine has processes.
    """
    if len(affinities) > 1:
        if local_rank >= len(affinities):
            raise ValueError(
                f"SyncRl under torchrun: local rank {local_rank} but the affinity list has "
                f"{len(affinities)} entries; give one per process of a node (--nproc_per_node)"
            )
        return dict(affinities[local_rank])
    affinity = dict(affinities[0])
    if local_world_size > 1:
        if affinity.get("cuda_idx") is not None:
            affinity["cuda_idx"] = local_rank
        affinity["set_affinity"] = False
    return affinity


def _backend(affinity: Mapping) -> str:
    return "gloo" if affinity.get("cuda_idx") is None else "nccl"


def _to_cpu(tree: Any) -> Any:
    """``tree`` with every tensor on CPU (for sending a snapshot to other ranks)."""
    return torch.utils._pytree.tree_map(
        lambda x: x.cpu() if isinstance(x, torch.Tensor) else x, tree
    )


def _interleave(lists: Sequence[Sequence[Any]]) -> list[Any]:
    """The replicas' new trajectories in one list, newest last, alternating between replicas
    (so the last ``N`` hold about ``N / len(lists)`` of each replica's newest)."""
    keyed = [
        (len(infos) - i, r, info) for r, infos in enumerate(lists) for i, info in enumerate(infos)
    ]
    keyed.sort(key=lambda k: (-k[0], k[1]))
    return [info for _, _, info in keyed]


# -- the runners ----------------------------------------------------------------------------------


class SyncRlMixin:
    """Synchronous data-parallel training on top of a minibatch runner (see the module doc).

    Args:
        algo, agent, sampler, n_steps, seed, log_interval_steps: as for ``MinibatchRl``;
            ``n_steps`` counts the environment steps of all replicas together.
        affinity: a list of per-replica affinity dicts (one replica each; e.g.
            ``make_affinity(n_gpu=2, gpu_per_run=2)``), or a single dict or ``None`` (one
            replica, unless launched by torchrun).
        dist_timeout: seconds any collective (and start-up) may wait for the other replicas
            before failing; bounds how long a hung replica (or, with NCCL, a dead one) goes
            unnoticed. It must exceed rank 0's longest pause between collectives (evaluation,
            snapshot saving).
        **kwargs: the base runner's other arguments (``log_traj_window``, ``progress_bar``).

    Attributes:
        start_method: multiprocessing start method of local child replicas (``"spawn"``,
            which works with CUDA; ``"forkserver"`` also does).
    """

    start_method: str = "spawn"

    def __init__(
        self,
        algo: Any,
        agent: Any,
        sampler: Any,
        n_steps: float,
        seed: int | None = None,
        affinity: Any = None,
        log_interval_steps: float = 1e5,
        dist_timeout: float = 1800.0,
        **kwargs: Any,
    ) -> None:
        self.affinities = replica_affinities(affinity)
        super().__init__(
            algo,
            agent,
            sampler,
            n_steps,
            seed=seed,
            affinity=self.affinities[0],
            log_interval_steps=log_interval_steps,
            **kwargs,
        )
        self.dist_timeout = float(dist_timeout)
        self._replicas: Replicas | None = None

    def __getstate__(self) -> dict:
        """Pickled for child replicas: settings only, never the process handles."""
        state = dict(self.__dict__)
        state["_replicas"] = None
        return state

    # -- launching

    def train(self, resume_from: str | Mapping | None = None) -> None:
        """Train all replicas for ``n_steps`` environment steps in total.

        Args:
            resume_from: rank 0's run directory, snapshot file or snapshot dict; every replica
                continues from its agent and optimiser state (see ``docs/sync_rl.md``).

        Raises:
            ReplicaError: if a local child replica dies or raises.
        """
        timeout = datetime.timedelta(seconds=self.dist_timeout)
        launched = torchrun_env()
        if dist.is_available() and dist.is_initialized():
            self._train_in_existing_group(resume_from)
        elif launched is not None:
            self._train_launched(launched, resume_from, timeout)
        elif len(self.affinities) > 1:
            self._train_local(resume_from, timeout)
        else:
            super().train(resume_from)

    def _train_local(self, resume_from: Any, timeout: datetime.timedelta) -> None:
        """Rank 0 of a local run: start the children, train, reap the children."""
        world_size = len(self.affinities)
        if self.seed is None:
            self.seed = make_seed()
        backend = _backend(self.affinities[0])
        replicas = Replicas(0, world_size, backend)
        try:
            cpus = self.affinities[0].get("master_cpus") or (0,)
            store = master_store(world_size, timeout, int(cpus[0]))
            ctx = mp.get_context(self.start_method)
            for rank in range(1, world_size):
                recv_conn, send_conn = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=replica_main,
                    args=(self, rank, world_size, backend, store.port, self.dist_timeout,
                          send_conn),
                    name=f"SyncRl-replica-{rank}",
                )  # fmt: skip
                process.start()
                send_conn.close()
                replicas.children.append(ChildReplica(rank, process, recv_conn))
            replicas.wait_ready(store, self.dist_timeout)
            if backend == "nccl":
                torch.cuda.set_device(self.affinity["cuda_idx"])
            replicas.init_group(timeout, store=store)
            self._run_replica(replicas, resume_from)
            replicas.finish()
        except BaseException as error:
            # A dead peer makes a Gloo collective fail at once; name the replica behind it.
            wait_s = _FAILURE_GRACE_S if isinstance(error, RuntimeError) else 0.0
            failure = None if isinstance(error, ReplicaError) else replicas.find_failure(wait_s)
            if failure is not None and not isinstance(error, KeyboardInterrupt):
                raise failure from error
            raise
        finally:
            replicas.close()

    def _train_launched(
        self, launched: dict[str, int], resume_from: Any, timeout: datetime.timedelta
    ) -> None:
        """One process of a torchrun launch: join the group from the environment, train."""
        self.affinity = launched_affinity(
            self.affinities, launched["local_rank"], launched["local_world_size"]
        )
        backend = _backend(self.affinity)
        if backend == "nccl":
            torch.cuda.set_device(self.affinity["cuda_idx"])
        replicas = Replicas(launched["rank"], launched["world_size"], backend)
        try:
            replicas.init_group(timeout, init_method="env://")
            self._run_replica(replicas, resume_from)
        finally:
            replicas.close()

    def _train_in_existing_group(self, resume_from: Any) -> None:
        """Join a default process group the caller initialised (left open afterwards)."""
        rank, world_size = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
        self.affinity = launched_affinity(self.affinities, local_rank, local_world_size)
        replicas = Replicas(rank, world_size, dist.get_backend(), owns_group=False)
        try:
            replicas.init_group(datetime.timedelta(seconds=self.dist_timeout))
            self._run_replica(replicas, resume_from)
        finally:
            replicas.close()

    def _run_replica(self, replicas: Replicas, resume_from: Any) -> None:
        """Train as one replica of an initialised group (the runner's usual ``train``)."""
        self._replicas = replicas
        self.rank, self.world_size = replicas.rank, replicas.world_size
        if self.rank == 0 and self.seed is None:
            self.seed = make_seed()
        self.seed = replicas.broadcast(self.seed)
        try:
            if self.rank == 0:
                super().train(resume_from)
                return
            self.progress_bar = False
            with logger.preserved_state():  # only rank 0 logs
                logger.disable()
                logger.disable_tabular()
                super().train(resume_from)
        finally:
            # The process group ends with training: leave a plain agent (usable on its own,
            # and holding no handle of the closed group).
            _unwrap_ddp(self.agent)

    # -- hooks into the minibatch runner

    def startup(self) -> int:
        """Start up as the base runner, then give this rank its own global RNG stream."""
        n_itr = super().startup()
        if self._replicas is not None:
            if self.rank > 0:
                set_seed(self.seed + RANK_SEED_STRIDE * self.rank)
            self._new_traj_infos: deque = deque(maxlen=getattr(self, "log_traj_window", 100))
            self._new_traj_count = 0
            logger.log(
                f"SyncRl: {self.world_size} replicas ({self._replicas.backend}), "
                f"{self.sampler.batch_spec.size} env steps each per iteration, seed {self.seed}"
            )
        return n_itr

    def _train_itr(self, itr: int) -> None:
        if self._replicas is not None:
            self._replicas.check()
        super()._train_itr(itr)

    def store_diagnostics(self, itr: int, traj_infos: Any, opt_info: Any) -> None:
        """Keep this replica's new trajectories until the next log, when rank 0 gathers them."""
        if self._replicas is None:
            return super().store_diagnostics(itr, traj_infos, opt_info)
        traj_infos = list(traj_infos)
        self._new_traj_count += len(traj_infos)
        self._new_traj_infos.extend(traj_infos)
        return super().store_diagnostics(itr, (), opt_info)

    def log_diagnostics(self, itr: int, *args: Any, **kwargs: Any) -> None:
        """Gather every replica's new trajectories on rank 0, which logs and saves snapshots.

        The other ranks only take part in the gather (all ranks reach each log interval at the
        same iteration).
        """
        if self._replicas is None:
            return super().log_diagnostics(itr, *args, **kwargs)
        gathered = self._replicas.gather((self._new_traj_count, list(self._new_traj_infos)))
        self._new_traj_infos.clear()
        self._new_traj_count = 0
        if self.rank != 0:
            self._opt_infos = {k: [] for k in self._opt_infos}
            return None
        self._cum_completed_trajs += sum(count for count, _ in gathered)
        self._traj_infos.extend(_interleave([infos for _, infos in gathered]))
        return super().log_diagnostics(itr, *args, **kwargs)

    def _resume(self, resume_from: Any, n_itr: int) -> int:
        """Rank 0 loads the snapshot and sends it to every rank (no shared disk needed)."""
        if self._replicas is None:
            return super()._resume(resume_from, n_itr)
        snapshot = None
        if self.rank == 0 and resume_from is not None:
            snapshot = resume_from
            if not isinstance(resume_from, Mapping):
                snapshot = logger.load_snapshot(resume_from, map_location="cpu")
            snapshot = _to_cpu(dict(snapshot))
        snapshot = self._replicas.broadcast(snapshot)
        if snapshot is None:
            return 0
        return super()._resume(snapshot, n_itr)

    def restore_snapshot(self, snapshot: Mapping) -> int:
        """Rank 0 restores everything; other ranks take the agent, optimiser and counters
        but keep their own envs and draw fresh RNG streams (rank 0's would make them copies
        of rank 0)."""
        if self._replicas is None or self.rank == 0:
            return super().restore_snapshot(snapshot)
        snapshot = dict(snapshot)
        snapshot.pop("sampler_state", None)
        snapshot.pop("agent_runtime_state", None)
        set_seed(self.seed + RANK_SEED_STRIDE * self.rank + int(snapshot["next_itr"]))
        snapshot["rng_states"] = get_rng_states()
        return super().restore_snapshot(snapshot)


class SyncRl(SyncRlMixin, MinibatchRl):
    """Synchronous data-parallel ``MinibatchRl``: one replica (sampler, agent, algorithm) per
    device, gradients all-reduced by ``DistributedDataParallel``.

    Diagnostics average the last ``log_traj_window`` training trajectories of all replicas
    together. See :class:`SyncRlMixin` for the arguments and ``docs/sync_rl.md``.
    """


class SyncRlEval(SyncRlMixin, MinibatchRlEval):
    """Synchronous data-parallel ``MinibatchRlEval``; only rank 0 evaluates (its sampler's
    eval envs), the other replicas wait for it at their next collective."""

    def evaluate_agent(self, itr: int) -> tuple[list, float]:
        """Rank 0: the base runner's evaluation, acting with the unwrapped networks; other
        ranks: nothing."""
        if self._replicas is None:
            return super().evaluate_agent(itr)
        if self.rank != 0:
            return [], 0.0
        with _without_ddp(self.agent):
            return super().evaluate_agent(itr)


def _unwrap_ddp(agent: Any) -> Any:
    """Replace the agent's ``DistributedDataParallel`` attributes by the modules they wrap;
    returns a function that puts the wrappers back."""
    wrapped = {
        name: value
        for name, value in vars(agent).items()
        if isinstance(value, torch.nn.parallel.DistributedDataParallel)
    }
    ddp_flag = vars(agent).get("_ddp")
    for name, value in wrapped.items():
        setattr(agent, name, value.module)
    if ddp_flag is not None:
        agent._ddp = False  # ``agent.module`` is ``agent.model`` while unwrapped

    def rewrap() -> None:
        for name, value in wrapped.items():
            setattr(agent, name, value)
        if ddp_flag is not None:
            agent._ddp = ddp_flag

    return rewrap


@contextlib.contextmanager
def _without_ddp(agent: Any) -> Any:
    """The agent acting with its networks unwrapped, for a while.

    A DDP forward pass may broadcast the model's buffers (e.g. observation statistics) from
    rank 0, a collective; rank 0 alone must not make one while evaluating, or it would wait for
    replicas that never join it.
    """
    rewrap = _unwrap_ddp(agent)
    try:
        yield agent
    finally:
        rewrap()
