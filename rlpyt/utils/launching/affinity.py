"""Affinity codes: the CPU cores, GPUs and thread counts of every run slot of a machine.

A launch script describes the machine and how to share it with :func:`encode_affinity`, a short
string such as ``"8cpu_2gpu_2cxg"`` (see ``docs/launcher.md`` for the format). The experiment
launcher prepends a run slot (``"1slt_8cpu_2gpu_2cxg"``) and passes that string to each train
script, which turns it into the affinity dict its runner and sampler consume with
:func:`affinity_from_code`. Slots of one code never share a physical core or a GPU context.

Affinity layouts returned by :func:`affinity_from_code` (all CPU lists are tuples of logical CPU
indices, a physical core followed by its hyperthreads where a hyperthread offset is set):

- one run on CPU or one GPU (the runners ``MinibatchRl``/``MinibatchRlEval``)::

      dict(all_cpus, master_cpus, workers_cpus, master_torch_threads, worker_torch_threads,
           cuda_idx, alternating, set_affinity)

  ``workers_cpus`` holds one CPU tuple per sampler worker; ``cuda_idx`` is ``None`` on CPU.
- a run over several GPUs (``gpu_per_run > 1``, for ``SyncRl``): a list of such dicts, one per
  GPU (rank).
- asynchronous sampling (``async_sample=True``, for ``AsyncRl``)::

      AttrDict(all_cpus, set_affinity,
               optimizer=[dict(cpus, cuda_idx, torch_threads, set_affinity), ...],
               sampler=dict(...)  # the run layout above; a list of them for several sampler GPUs
      )
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from rlpyt.utils.collections import AttrDict

# Three-letter abbreviations of the code; the format is ``"<int><abbrev>"`` items joined by "_".
N_CPU_CORE = "cpu"
N_GPU = "gpu"
CONTEXTS_PER_GPU = "cxg"
GPU_PER_RUN = "gpr"
CPU_PER_RUN = "cpr"
CPU_PER_WORKER = "cpw"
CPU_RESERVED = "res"
HYPERTHREAD_OFFSET = "hto"
N_SOCKET = "skt"
ASYNC_SAMPLE = "ass"
SAMPLE_GPU_PER_RUN = "sgr"
OPTIM_SAMPLE_SHARE_GPU = "oss"
ALTERNATING = "alt"
SET_AFFINITY = "saf"
RUN_SLOT = "slt"

# ``encode_affinity`` argument -> abbreviation (every item a code may hold but the run slot).
CODE_KEYS: dict[str, str] = dict(
    n_cpu_core=N_CPU_CORE,
    n_gpu=N_GPU,
    contexts_per_gpu=CONTEXTS_PER_GPU,
    gpu_per_run=GPU_PER_RUN,
    cpu_per_run=CPU_PER_RUN,
    cpu_per_worker=CPU_PER_WORKER,
    cpu_reserved=CPU_RESERVED,
    hyperthread_offset=HYPERTHREAD_OFFSET,
    n_socket=N_SOCKET,
    async_sample=ASYNC_SAMPLE,
    sample_gpu_per_run=SAMPLE_GPU_PER_RUN,
    optim_sample_share_gpu=OPTIM_SAMPLE_SHARE_GPU,
    alternating=ALTERNATING,
    set_affinity=SET_AFFINITY,
)
_ITEM = re.compile(r"^(\d+)([a-z]{3})$")
_SYSFS_CPU = "/sys/devices/system/cpu"  # Linux CPU topology


# -- the code string ------------------------------------------------------------------------


def encode_affinity(
    n_cpu_core: int = 1,
    n_gpu: int = 0,
    contexts_per_gpu: int = 1,
    gpu_per_run: int = 1,
    cpu_per_run: int = 1,
    cpu_per_worker: int = 1,
    cpu_reserved: int = 0,
    hyperthread_offset: int | None = None,
    n_socket: int | None = None,
    run_slot: int | None = None,
    async_sample: bool = False,
    sample_gpu_per_run: int = 0,
    optim_sample_share_gpu: bool = False,
    alternating: bool = False,
    set_affinity: bool = True,
) -> str:
    """Describe a machine's resources and how runs share them, as an affinity code string.

    Args:
        n_cpu_core: physical cores to use (not counting hyperthreads).
        n_gpu: GPUs to use; 0 for CPU-only runs.
        contexts_per_gpu: runs stacked on each GPU.
        gpu_per_run: GPUs of one run (multi-GPU ``SyncRl``, or the optimizer GPUs of an async
            run).
        cpu_per_run: cores of one run; CPU-only codes only (with GPUs the cores are divided
            evenly among the run slots).
        cpu_per_worker: cores of one sampler worker (1 unless the env is multi-threaded).
        cpu_reserved: cores of a run kept for the master/optimizer, not given to workers (per
            optimizer GPU in async runs, where at least 1 is reserved).
        hyperthread_offset: logical CPU ``c + offset`` is the hyperthread of core ``c``; 0 when
            there are none. ``None`` detects it (:func:`get_hyperthread_offset`).
        n_socket: CPU sockets (runs are kept within one where they fit); ``None`` detects it.
        run_slot: prepend this run slot (``"<slot>slt_..."``); launch scripts leave it ``None``.
        async_sample: sampling and optimisation in separate processes (``AsyncRl``).
        sample_gpu_per_run: async only: GPUs of the sampler's action server (0: CPU sampler).
        optim_sample_share_gpu: async only: the sampler uses the optimizer's GPUs.
        alternating: two worker groups for the alternating samplers.
        set_affinity: pin processes to their CPUs (0 keeps the layout but does not pin).

    Returns:
        The code, e.g. ``"2cpu_0gpu_1cpr_0hto"``.

    Raises:
        ValueError: if the resources cannot be divided as asked.
    """
    if hyperthread_offset is None:
        hyperthread_offset = get_hyperthread_offset()
    if n_socket is None:
        n_socket = get_n_socket()
    # Items equal to their decoding default are left out, so codes stay short and stable.
    items = [(n_cpu_core, N_CPU_CORE), (n_gpu, N_GPU)]
    optional = [
        (contexts_per_gpu != 1, contexts_per_gpu, CONTEXTS_PER_GPU),
        (gpu_per_run != 1, gpu_per_run, GPU_PER_RUN),
        (n_gpu == 0, cpu_per_run, CPU_PER_RUN),
        (cpu_per_worker != 1, cpu_per_worker, CPU_PER_WORKER),
        (hyperthread_offset != n_cpu_core, hyperthread_offset, HYPERTHREAD_OFFSET),
        (n_socket != 1, n_socket, N_SOCKET),
        (cpu_reserved != 0, cpu_reserved, CPU_RESERVED),
        (bool(async_sample), 1, ASYNC_SAMPLE),
        (sample_gpu_per_run != 0, sample_gpu_per_run, SAMPLE_GPU_PER_RUN),
        (bool(optim_sample_share_gpu), 1, OPTIM_SAMPLE_SHARE_GPU),
        (bool(alternating), 1, ALTERNATING),
        (not set_affinity, 0, SET_AFFINITY),
    ]
    items += [(value, abbrev) for include, value, abbrev in optional if include]
    for value, abbrev in items:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"encode_affinity: {abbrev}={value!r} must be an int >= 0")
    code = "_".join(f"{value}{abbrev}" for value, abbrev in items)
    n_slots = get_n_run_slots(code)  # validates the whole layout
    if run_slot is not None:
        _check_slot(run_slot, n_slots, code)
        code = prepend_run_slot(run_slot, code)
    return code


def decode_affinity(affinity_code: str) -> dict[str, int]:
    """Parse a code into ``{abbreviation: int}``, e.g. ``{"cpu": 2, "gpu": 0, "cpr": 1}``.

    Only the items present in the code are returned (``"slt"`` too where the code has a run
    slot); :data:`CODE_KEYS` maps ``encode_affinity`` arguments to abbreviations.
    """
    params: dict[str, int] = {}
    known = set(CODE_KEYS.values()) | {RUN_SLOT}
    for i, item in enumerate(affinity_code.split("_")):
        match = _ITEM.match(item)
        if match is None or match.group(2) not in known or (match.group(2) == RUN_SLOT and i):
            raise ValueError(f"bad item {item!r} in affinity code {affinity_code!r}")
        if match.group(2) in params:
            raise ValueError(f"item {match.group(2)!r} twice in affinity code {affinity_code!r}")
        params[match.group(2)] = int(match.group(1))
    if N_CPU_CORE not in params:
        raise ValueError(f"affinity code {affinity_code!r} has no {N_CPU_CORE!r} item")
    return params


def prepend_run_slot(run_slot: int, affinity_code: str) -> str:
    """Return ``"<run_slot>slt_<affinity_code>"`` (replacing any run slot already there)."""
    if isinstance(run_slot, bool) or not isinstance(run_slot, int) or run_slot < 0:
        raise ValueError(f"run_slot must be an int >= 0, got {run_slot!r}")
    if _split_slot(affinity_code)[0] is not None:
        affinity_code = _split_slot(affinity_code)[1]
    return f"{run_slot}{RUN_SLOT}_{affinity_code}"


def remove_run_slot(run_slot_affinity_code: str) -> tuple[int, str]:
    """Split ``"<slot>slt_<code>"`` into ``(slot, code)``; raises ValueError without a slot."""
    run_slot, code = _split_slot(run_slot_affinity_code)
    if run_slot is None:
        raise ValueError(
            f"affinity code {run_slot_affinity_code!r} has no run slot; add one with "
            f"prepend_run_slot(run_slot, code) (run_experiments does)"
        )
    return run_slot, code


def _split_slot(code: str) -> tuple[int | None, str]:
    head, _, rest = code.partition("_")
    match = _ITEM.match(head)
    if match is not None and match.group(2) == RUN_SLOT:
        return int(match.group(1)), rest
    return None, code


def _check_slot(run_slot: int, n_slots: int, code: str) -> None:
    if not 0 <= run_slot < n_slots:
        raise ValueError(f"run slot {run_slot} out of range: code {code!r} has {n_slots} slots")


# -- the resolved parameters ----------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """Every parameter of a code, with the decoding defaults filled in."""

    cpu: int
    gpu: int
    cxg: int
    gpr: int
    cpr: int
    cpw: int
    res: int
    hto: int
    skt: int
    ass: bool
    sgr: int
    oss: bool
    alt: bool
    saf: bool

    @property
    def per_socket(self) -> int:
        """Physical cores per socket; with a hyperthread offset that is the machine's count."""
        return max(self.cpu, self.hto) // self.skt

    @property
    def async_gpus(self) -> int:
        """GPUs of one async run: optimizer GPUs plus sampler GPUs (unless shared)."""
        return self.gpr + (0 if self.oss else self.sgr)


def _spec(affinity_code: str) -> _Spec:
    p = decode_affinity(affinity_code)
    cpu = p[N_CPU_CORE]
    ass = bool(p.get(ASYNC_SAMPLE, 0))
    oss = bool(p.get(OPTIM_SAMPLE_SHARE_GPU, 0))
    gpr = p.get(GPU_PER_RUN, 1)
    spec = _Spec(
        cpu=cpu,
        gpu=p.get(N_GPU, 0),
        cxg=p.get(CONTEXTS_PER_GPU, 1),
        gpr=gpr,
        cpr=p.get(CPU_PER_RUN, 1),
        cpw=p.get(CPU_PER_WORKER, 1),
        # An async optimizer needs a core of its own.
        res=max(1, p.get(CPU_RESERVED, 0)) if ass else p.get(CPU_RESERVED, 0),
        hto=p.get(HYPERTHREAD_OFFSET, cpu),
        skt=p.get(N_SOCKET, 1),
        ass=ass,
        sgr=gpr if oss else p.get(SAMPLE_GPU_PER_RUN, 0),
        oss=oss,
        alt=bool(p.get(ALTERNATING, 0)),
        saf=bool(p.get(SET_AFFINITY, 1)),
    )
    _validate(spec, affinity_code)
    return spec


def _validate(s: _Spec, code: str) -> None:
    def need(ok: bool, why: str) -> None:
        if not ok:
            raise ValueError(f"affinity code {code!r}: {why}")

    need(s.cpu >= 1 and s.skt >= 1, "needs at least one core and one socket")
    need(min(s.cxg, s.gpr, s.cpr, s.cpw) >= 1, "cxg, gpr, cpr and cpw must be >= 1")
    need(s.hto == 0 or s.hto >= s.cpu, "the hyperthread offset must be 0 or >= n_cpu_core")
    if s.gpu == 0:
        need(s.cxg == 1 and s.gpr == 1, "contexts_per_gpu/gpu_per_run need n_gpu > 0")
        need(s.sgr == 0 and not s.oss, "sample GPUs need n_gpu > 0")
        need(s.cpu % s.cpr == 0, f"{s.cpu} cores do not divide into runs of {s.cpr}")
        need(s.cpr - s.res >= s.cpw, "no core left for a sampler worker after cpu_reserved")
    elif s.ass:
        need(s.cxg == 1, "contexts_per_gpu > 1 is not supported with async_sample")
        need(s.gpu >= s.async_gpus, f"an async run needs {s.async_gpus} GPUs, code has {s.gpu}")
    else:
        need(s.sgr == 0 and not s.oss, "sample GPUs need async_sample")
        need(s.gpr == 1 or s.cxg == 1, "gpu_per_run > 1 needs contexts_per_gpu == 1")
        need(s.gpu % s.gpr == 0, f"{s.gpu} GPUs do not divide into runs of {s.gpr}")
        n_ctx = s.gpu * s.cxg
        need(s.cpu % n_ctx == 0, f"{s.cpu} cores do not divide among {n_ctx} GPU contexts")
        need(s.cpu // n_ctx - s.res >= s.cpw, "no core left for a sampler worker")
    # Building every slot checks the socket placement and the async core budget.
    for slot in range(_n_slots(s)):
        _build(s, slot, code)


def _n_slots(s: _Spec) -> int:
    if s.ass and s.gpu > 0:
        return s.gpu // s.async_gpus
    if s.gpu > 0:
        return s.gpu * s.cxg // s.gpr
    return s.cpu // s.cpr


def get_n_run_slots(affinity_code: str) -> int:
    """Number of runs the code fits on the machine at once (a run slot in it is ignored)."""
    return _n_slots(_spec(_split_slot(affinity_code)[1]))


# -- building affinity dicts ----------------------------------------------------------------


def affinity_from_code(run_slot_affinity_code: str) -> dict[str, Any] | list[dict[str, Any]]:
    """The affinity of one run slot, in the layout its runner reads (see the module docstring).

    Args:
        run_slot_affinity_code: a code with its run slot, ``"<slot>slt_<code>"``.

    Returns:
        A dict for a CPU or single-GPU run; a list of dicts, one per GPU, for
        ``gpu_per_run > 1``; an ``AttrDict`` with ``optimizer`` and ``sampler`` for async.
    """
    run_slot, code = remove_run_slot(run_slot_affinity_code)
    spec = _spec(code)
    _check_slot(run_slot, _n_slots(spec), code)
    return _build(spec, run_slot, code)


def make_affinity(run_slot: int = 0, **kwargs: Any) -> dict[str, Any] | list[dict[str, Any]]:
    """``affinity_from_code(encode_affinity(run_slot=run_slot, **kwargs))``: one run's affinity."""
    return affinity_from_code(encode_affinity(run_slot=run_slot, **kwargs))


def _build(s: _Spec, slot: int, code: str) -> Any:
    if s.ass:
        return _async_affinity(s, slot, code)
    if s.gpu == 0:
        cores = _slot_cores(s, slot, _n_slots(s), s.cpr, code)
        return _run_affinity(s, cores, None, s.res)
    if s.gpr > 1:
        return [_gpu_affinity(s, g, code) for g in range(slot * s.gpr, (slot + 1) * s.gpr)]
    return _gpu_affinity(s, slot, code)


def _gpu_affinity(s: _Spec, slot: int, code: str) -> dict[str, Any]:
    n_ctx = s.gpu * s.cxg
    # Consecutive slots go to different GPUs first; context k of GPU g is block g * cxg + k,
    # so the cores of one GPU's contexts are contiguous (one socket, where they fit).
    block = (slot % s.gpu) * s.cxg + slot // s.gpu
    cores = _slot_cores(s, block, n_ctx, s.cpu // n_ctx, code)
    return _run_affinity(s, cores, block // s.cxg, s.res)


def _run_affinity(
    s: _Spec, cores: tuple[int, ...], cuda_idx: int | None, reserved: int
) -> dict[str, Any]:
    """A sampling run's (or async sampler's) dict; its first ``reserved`` cores get no worker."""
    master_cpus = _with_hyperthreads(cores, s.hto)
    return dict(
        all_cpus=master_cpus,
        master_cpus=master_cpus,
        workers_cpus=_workers_cpus(cores[reserved:], s),
        master_torch_threads=len(cores),
        worker_torch_threads=s.cpw,
        cuda_idx=cuda_idx,
        alternating=s.alt,
        set_affinity=s.saf,
    )


def _slot_cores(s: _Spec, block: int, n_blocks: int, size: int, code: str) -> tuple[int, ...]:
    """The physical cores of block ``block`` of ``n_blocks`` equal blocks of ``size`` cores.

    Blocks fill the sockets in order and stay within one socket; a block larger than a socket's
    share takes an equal part of several sockets.
    """
    if n_blocks >= s.skt:
        if n_blocks % s.skt or n_blocks // s.skt * size > s.per_socket:
            raise ValueError(
                f"affinity code {code!r}: {n_blocks} runs of {size} cores do not fit evenly "
                f"on {s.skt} sockets of {s.per_socket} cores (try n_socket=1)"
            )
        socket, index = divmod(block, n_blocks // s.skt)
        first = socket * s.per_socket + index * size
        return tuple(range(first, first + size))
    sockets = s.skt // n_blocks
    if s.skt % n_blocks or size % sockets or size // sockets > s.per_socket:
        raise ValueError(
            f"affinity code {code!r}: runs of {size} cores do not split evenly over "
            f"{sockets} sockets (try n_socket=1)"
        )
    share = size // sockets
    return tuple(
        c
        for socket in range(block * sockets, (block + 1) * sockets)
        for c in range(socket * s.per_socket, socket * s.per_socket + share)
    )


def _with_hyperthreads(cores: tuple[int, ...], hto: int) -> tuple[int, ...]:
    return tuple(cores) + (tuple(c + hto for c in cores) if hto > 0 else ())


def _workers_cpus(cores: tuple[int, ...], s: _Spec) -> tuple[tuple[int, ...], ...]:
    """One CPU tuple per sampler worker: ``cpw`` cores each (plus their hyperthreads).

    Alternating samplers get two worker groups: with hyperthreads, the second group runs on the
    hyperthreads of the first; without, both groups share the cores.
    """
    n_workers = len(cores) // s.cpw
    groups = [tuple(cores[i * s.cpw : (i + 1) * s.cpw]) for i in range(n_workers)]
    if s.hto > 0:
        threads = [tuple(c + s.hto for c in g) for g in groups]
        groups = groups + threads if s.alt else [g + t for g, t in zip(groups, threads)]
    elif s.alt:
        groups = groups + groups
    return tuple(groups)


def _async_affinity(s: _Spec, slot: int, code: str) -> AttrDict:
    """Optimizer(s) and sampler of an async run.

    The run's cores are split per socket it spans: each part first gives ``res`` cores to each
    optimizer GPU there, the rest go to the sampler (shared evenly among its GPUs).
    """
    n_slots = _n_slots(s)
    cpr = s.cpu // n_slots if s.gpu > 0 else s.cpr
    cores = _slot_cores(s, slot, n_slots, cpr, code)
    if s.gpu == 0:
        parts = [(cores, [None], [])]
    else:
        parts = _async_gpu_parts(s, slot, n_slots, cores, code)
    optimizer, samplers, cpu_sampler_cores = [], [], ()
    for part_cores, opt_gpus, smp_gpus in parts:
        for i, cuda_idx in enumerate(opt_gpus):
            opt_cores = part_cores[i * s.res : (i + 1) * s.res]
            optimizer.append(
                dict(
                    cpus=_with_hyperthreads(opt_cores, s.hto),
                    cuda_idx=cuda_idx,
                    torch_threads=len(opt_cores),
                    set_affinity=s.saf,
                )
            )
        rest = part_cores[len(opt_gpus) * s.res :]
        if not smp_gpus:
            cpu_sampler_cores += rest
            continue
        size = len(rest) // len(smp_gpus)
        if size < s.cpw:
            raise ValueError(f"affinity code {code!r}: too few cores for the sampler GPUs")
        for i, cuda_idx in enumerate(smp_gpus):
            samplers.append(_run_affinity(s, rest[i * size : (i + 1) * size], cuda_idx, 0))
    if not samplers:
        if len(cpu_sampler_cores) < s.cpw:
            raise ValueError(f"affinity code {code!r}: no core left for the sampler")
        samplers.append(_run_affinity(s, cpu_sampler_cores, None, 0))
    all_cpus = tuple(c for o in optimizer for c in o["cpus"])
    all_cpus += tuple(c for smp in samplers for c in smp["all_cpus"])
    return AttrDict(
        all_cpus=all_cpus,
        optimizer=optimizer,
        sampler=samplers[0] if len(samplers) == 1 else samplers,
        set_affinity=s.saf,
    )


def _async_gpu_parts(
    s: _Spec, slot: int, n_slots: int, cores: tuple[int, ...], code: str
) -> list[tuple[tuple[int, ...], list[int], list[int]]]:
    """``(cores, optimizer GPUs, sampler GPUs)`` per socket an async GPU run spans."""
    gpu_per_socket = s.gpu // s.skt
    n_smp = 0 if s.oss else s.sgr
    if n_slots >= s.skt:  # the run lives in one socket
        if s.gpu % s.skt or n_slots % s.skt:
            raise ValueError(f"affinity code {code!r}: GPUs do not divide among sockets")
        socket, index = divmod(slot, n_slots // s.skt)
        first = socket * gpu_per_socket + index * s.async_gpus
        spans = [(cores, first, s.gpr, n_smp)]
    else:
        sockets = s.skt // n_slots
        if s.gpu % s.skt or s.gpr % sockets or n_smp % sockets:
            raise ValueError(
                f"affinity code {code!r}: a run's GPUs do not split evenly over its "
                f"{sockets} sockets (try n_socket=1)"
            )
        share = len(cores) // sockets
        spans = [
            (cores[k * share : (k + 1) * share], (slot * sockets + k) * gpu_per_socket,
             s.gpr // sockets, n_smp // sockets)
            for k in range(sockets)
        ]  # fmt: skip
    parts = []
    for part_cores, first, n_opt, n_sample in spans:
        opt = list(range(first, first + n_opt))
        smp = opt if s.oss else list(range(first + n_opt, first + n_opt + n_sample))
        if len(part_cores) < n_opt * s.res:
            raise ValueError(f"affinity code {code!r}: too few cores for the optimizer GPUs")
        parts.append((part_cores, opt, smp))
    return parts


# -- the local machine ----------------------------------------------------------------------


def _available_cpus() -> list[int]:
    """Logical CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _read_cpu_list(path: str) -> set[int] | None:
    """Parse a sysfs CPU list such as ``"0,8"`` or ``"0-3"``; ``None`` if unreadable."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    cpus: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def get_hyperthread_offset() -> int:
    """Offset from a core to its hyperthread in logical CPU numbering; 0 if there are none.

    Read from Linux sysfs (each CPU's ``thread_siblings_list``) when this process may use every
    CPU; siblings numbered ``c`` and ``c + offset`` for all cores give ``offset``, any other
    pattern (no SMT, adjacent numbering, a restricted cpuset) gives 0, so runs treat each
    logical CPU as a core. Elsewhere, psutil's logical and physical counts are compared.
    """
    n = os.cpu_count() or 1
    if _available_cpus() != list(range(n)):
        return 0
    topology = os.path.join(_SYSFS_CPU, "cpu{}", "topology", "thread_siblings_list")
    siblings = [_read_cpu_list(topology.format(c)) for c in range(n)]
    if all(sib is not None for sib in siblings):
        offset = n // 2
        if n % 2 == 0 and all(siblings[c] == {c % offset, c % offset + offset} for c in range(n)):
            return offset
        return 0
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or n
    except ImportError:
        return 0
    return physical if n == 2 * physical else 0


def get_n_socket() -> int:
    """Number of CPU sockets (packages) among the CPUs this process may use; 1 if unknown."""
    packages = set()
    for c in _available_cpus():
        path = os.path.join(_SYSFS_CPU, f"cpu{c}", "topology", "physical_package_id")
        try:
            with open(path) as f:
                packages.add(int(f.read().strip()))
        except (OSError, ValueError):
            return 1
    return max(1, len(packages))


def get_n_cpu_core() -> int:
    """Physical cores this process may use (logical CPUs where hyperthreads are not detected)."""
    hto = get_hyperthread_offset()
    return hto if hto > 0 else len(_available_cpus())


def quick_affinity_code(
    n_parallel: int | None = None, use_gpu: bool = True, contexts_per_gpu: int = 1
) -> str:
    """An affinity code for this machine: one run per GPU context, or ``n_parallel`` CPU runs.

    Args:
        n_parallel: with GPUs, the most GPUs to use; without, the number of runs at once
            (required), each getting an equal share of the cores.
        use_gpu: use the GPUs ``torch.cuda.device_count()`` reports, if any.
        contexts_per_gpu: runs stacked on each GPU.

    Returns:
        A code without run slot, for ``run_experiments``.
    """
    n_core = get_n_cpu_core()
    hto = get_hyperthread_offset()
    n_gpu = 0
    if use_gpu:
        import torch

        n_gpu = torch.cuda.device_count()
    if n_gpu > 0:
        if n_parallel:
            n_gpu = min(n_parallel, n_gpu)
        n_ctx = n_gpu * contexts_per_gpu
        if n_core < n_ctx:
            raise ValueError(f"{n_core} cores are too few for {n_ctx} GPU contexts")
        n_cpu_core = n_core // n_ctx * n_ctx
        kwargs = dict(n_cpu_core=n_cpu_core, n_gpu=n_gpu, contexts_per_gpu=contexts_per_gpu)
    else:
        if not n_parallel:
            raise ValueError("quick_affinity_code: without GPUs, give n_parallel (runs at once)")
        if n_parallel > n_core:
            raise ValueError(f"n_parallel={n_parallel} runs exceed the {n_core} cores")
        cpu_per_run = n_core // n_parallel
        kwargs = dict(n_cpu_core=cpu_per_run * n_parallel, n_gpu=0, cpu_per_run=cpu_per_run)
    try:
        return encode_affinity(**kwargs, hyperthread_offset=hto, n_socket=get_n_socket())
    except ValueError:  # runs that do not fit the sockets evenly: ignore the sockets
        return encode_affinity(**kwargs, hyperthread_offset=hto, n_socket=1)
