"""Buffers: structures of arrays allocated from one example, in private or OS shared memory.

A *buffer* is an array, a tensor, ``None``, or a (named)tuple of buffers, usually a
namedarraytuple whose leaves share leading dimensions ``[T, B]``. Every function here walks
that structure, so no other module needs its own loop over fields.

Shared memory: ``buffer_from_example(..., share_memory=True)`` places all leaves of the buffer
in one anonymous shared-memory block (a Linux ``memfd``; an unlinked temporary file elsewhere).
The arrays are plain ``np.ndarray`` objects (no subclass, so no cost in hot loops). Sent to
another process by ``multiprocessing`` (as a ``Process`` argument or through a queue or pipe),
under ``fork``, ``forkserver`` or ``spawn``, such an array or any view of it arrives as a view of
the *same* memory, not a copy. Ordinary pickling (``pickle.dumps``, ``torch.save``,
``copy.deepcopy``) copies the data as always. Arrays derived through torch
(``torch.from_numpy(a).numpy()``) or copies no longer know their block and travel as copies.
The block has no name in ``/dev/shm``; the kernel frees it when the last process holding it
lets go of it, so no exit path (even ``SIGKILL``) can leak it.
"""

from __future__ import annotations

import mmap
import os
import secrets
import tempfile
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.reduction import DupFd, ForkingPickler
from typing import Any, NamedTuple

import numpy as np
import torch

from rlpyt.utils.collections import namedarraytuple_like

__all__ = [
    "buffer_from_example",
    "buffer_func",
    "buffer_method",
    "buffer_to",
    "build_array",
    "get_leading_dims",
    "is_shared",
    "np_mp_array",
    "numpify_buffer",
    "torchify_buffer",
]

_ALIGN = 64  # bytes; each leaf starts on a cache-line boundary


# ----------------------------------------------------------------------------------------------
# Walking buffers


def _map_leaves(fn: Callable[[Any], Any], buffer_: Any, to_namedarraytuple: bool = False) -> Any:
    """Apply ``fn`` to every non-``None`` leaf of a (named)tuple structure, keeping its shape.

    ``to_namedarraytuple`` turns plain namedtuple nodes into namedarraytuples on the way.
    Leaves are visited depth first, in field order.
    """
    if buffer_ is None:
        return None
    if isinstance(buffer_, tuple):
        # Leaves are mapped here rather than by a recursive call each (hot: every sampler
        # step and replay batch converts a structure of a dozen leaves).
        contents = [
            _map_leaves(fn, b, to_namedarraytuple)
            if isinstance(b, tuple)
            else (None if b is None else fn(b))
            for b in buffer_
        ]
        cls = type(buffer_)
        if cls is tuple:
            return tuple(contents)
        if to_namedarraytuple and hasattr(cls, "_fields"):
            cls = namedarraytuple_like(cls)
        return tuple.__new__(cls, contents)
    return fn(buffer_)


def _leaves(buffer_: Any) -> list[Any]:
    found: list[Any] = []
    _map_leaves(found.append, buffer_)
    return found


# ----------------------------------------------------------------------------------------------
# Shared memory


def _open_anonymous_fd(nbytes: int) -> int:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("rlpyt-buffer", os.MFD_CLOEXEC)
    else:  # pragma: no cover - non-Linux fallback: a temporary file unlinked at once
        shm_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
        with tempfile.TemporaryFile(dir=shm_dir) as f:
            fd = os.dup(f.fileno())
    os.ftruncate(fd, nbytes)
    return fd


class _Block(NamedTuple):
    token: str  # identifies the block across processes
    nbytes: int
    fd: int  # kept open while the block is mapped here, to hand it to other processes
    address: int  # where it is mapped in this process


# Arrays on a block are plain ndarrays whose base (through views) is the block's mmap; the
# arrays keep the mmap alive, and these registries only know it by id and weak reference.
_BLOCKS: dict[int, _Block] = {}  # id(mmap) -> block, while the mmap lives
_MAPPED: dict[str, weakref.ref] = {}  # token -> mmap, so a block is mapped once per process


def _map_block(nbytes: int, fd: int | None = None, token: str | None = None) -> mmap.mmap:
    """Map a new shared block (or one received from another process, given its fd)."""
    nbytes = max(int(nbytes), 1)  # mmap refuses empty maps
    fd = _open_anonymous_fd(nbytes) if fd is None else fd
    token = token or secrets.token_hex(16)
    mm = mmap.mmap(fd, nbytes)
    address = np.frombuffer(mm, dtype=np.uint8).__array_interface__["data"][0]
    _BLOCKS[id(mm)] = _Block(token, nbytes, fd, address)
    _MAPPED[token] = weakref.ref(mm)
    weakref.finalize(mm, _forget_block, id(mm), token, fd)
    return mm


def _forget_block(mmap_id: int, token: str, fd: int) -> None:
    _BLOCKS.pop(mmap_id, None)
    _MAPPED.pop(token, None)
    os.close(fd)


def _block_of(arr: np.ndarray) -> tuple[mmap.mmap, _Block] | None:
    base = arr.base
    while isinstance(base, np.ndarray):  # a view of a view: walk to the memory's owner
        base = base.base
    if type(base) is not mmap.mmap or id(base) not in _BLOCKS:
        return None
    return base, _BLOCKS[id(base)]


def _reduce_mmap(mm: mmap.mmap):
    # Within one pickle the mmap is memoised, so each block travels once, with one file
    # descriptor, however many arrays on it are sent.
    block = _BLOCKS.get(id(mm))
    if block is None:
        raise TypeError("cannot pickle an mmap that is not an rlpyt shared-memory block")
    return _rebuild_mmap, (block.token, block.nbytes, DupFd(block.fd))


def _rebuild_mmap(token: str, nbytes: int, dup_fd: Any) -> mmap.mmap:
    fd = dup_fd.detach()
    mm_ref = _MAPPED.get(token)
    mm = mm_ref() if mm_ref is not None else None
    if mm is not None:  # already mapped here (e.g. sent back to the process that made it)
        os.close(fd)
        return mm
    return _map_block(nbytes, fd=fd, token=token)


def _reduce_ndarray(arr: np.ndarray):
    """Multiprocessing pickles arrays on a shared block as views of it, others as usual."""
    found = _block_of(arr)
    if found is None:
        return arr.__reduce__()
    mm, block = found
    offset = arr.__array_interface__["data"][0] - block.address
    return _rebuild_ndarray, (mm, offset, arr.shape, arr.strides, arr.dtype)


def _rebuild_ndarray(mm, offset, shape, strides, dtype) -> np.ndarray:
    return np.ndarray(shape, dtype=dtype, buffer=mm, offset=offset, strides=strides)


# Only multiprocessing's pickler is taught about shared blocks: pickle.dumps, torch.save and
# copy.deepcopy keep copying array data as they always do.
ForkingPickler.register(mmap.mmap, _reduce_mmap)
ForkingPickler.register(np.ndarray, _reduce_ndarray)


def is_shared(arr: np.ndarray) -> bool:
    """True if ``arr`` lives in a shared block made by this module (and so crosses processes
    by reference)."""
    return isinstance(arr, np.ndarray) and _block_of(arr) is not None


def _aligned(nbytes: int) -> int:
    return -(-nbytes // _ALIGN) * _ALIGN


def _shared_arrays(specs: Sequence[tuple[tuple[int, ...], np.dtype]]) -> list[np.ndarray]:
    """Carve zero-filled arrays of the given (shape, dtype) out of one new shared block."""
    sizes = [
        _aligned(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize) for shape, dtype in specs
    ]
    mm = _map_block(sum(sizes))
    arrays, offset = [], 0
    for (shape, dtype), size in zip(specs, sizes):
        arrays.append(np.ndarray(shape, dtype=dtype, buffer=mm, offset=offset))
        offset += size
    return arrays


def np_mp_array(shape: int | Sequence[int], dtype: Any) -> np.ndarray:
    """Zero-filled array in OS shared memory, shareable with worker processes.

    Args:
        shape: array shape.
        dtype: NumPy dtype (anything ``np.dtype`` accepts).

    Returns:
        A plain ``np.ndarray``; see the module docstring for how it crosses processes.
    """
    shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
    return _shared_arrays([(shape, _check_dtype(np.dtype(dtype)))])[0]


# ----------------------------------------------------------------------------------------------
# Allocation from an example


def _check_dtype(dtype: np.dtype, what: str = "buffer") -> np.dtype:
    if dtype.kind not in "biufc":
        raise TypeError(
            f"cannot allocate a {what} of dtype {dtype}: expected a boolean or numeric dtype "
            f"(strings, objects and other non-numeric values cannot live in a buffer)"
        )
    return dtype


def _as_dims(leading_dims: int | Sequence[int]) -> tuple[int, ...]:
    dims = (leading_dims,) if np.isscalar(leading_dims) else tuple(leading_dims)
    if any(int(d) != d or d < 0 for d in dims):
        raise ValueError(f"leading_dims must be non-negative integers, got {leading_dims!r}")
    return tuple(int(d) for d in dims)


def _spec(example: Any, leading_dims: tuple[int, ...]) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(example, torch.Tensor):
        example = example.detach().cpu().numpy()
    arr = np.asarray(example)
    return leading_dims + arr.shape, _check_dtype(arr.dtype, f"buffer for example {example!r}")


def build_array(
    example: Any, leading_dims: int | Sequence[int], share_memory: bool = False
) -> np.ndarray:
    """Zero-filled array of shape ``leading_dims + example.shape`` and the example's dtype.

    Args:
        example: one value (array, tensor or scalar) whose shape and dtype to copy.
        leading_dims: dims put in front, e.g. ``(T, B)``.
        share_memory: allocate in OS shared memory (see :func:`np_mp_array`).
    """
    shape, dtype = _spec(example, _as_dims(leading_dims))
    return _shared_arrays([(shape, dtype)])[0] if share_memory else np.zeros(shape, dtype)


def buffer_from_example(
    example: Any, leading_dims: int | Sequence[int], share_memory: bool = False
) -> Any:
    """Allocate a zero-filled buffer shaped like ``example`` with ``leading_dims`` in front.

    Namedtuples in the example become namedarraytuples in the buffer (same name and fields);
    ``None`` fields stay ``None``. With ``share_memory`` every leaf is placed in one block of
    OS shared memory, usable by worker processes under any start method.

    Args:
        example: one step of data, e.g. ``EnvStep`` or ``AgentInfo`` (arrays, tensors or
            scalars at the leaves).
        leading_dims: e.g. ``(T, B)`` for samples, ``(size, B)`` for a replay ring.
        share_memory: allocate in shared memory.

    Returns:
        A buffer of NumPy arrays: leaf ``x`` has shape ``leading_dims + x.shape``.

    Examples:
        >>> from rlpyt.utils.collections import namedarraytuple
        >>> Step = namedarraytuple("Step", ["obs", "reward"])
        >>> buf = buffer_from_example(Step(obs=np.zeros(3, np.float32), reward=0.0), (5, 2))
        >>> buf.obs.shape, buf.obs.dtype, buf.reward.shape
        ((5, 2, 3), dtype('float32'), (5, 2))
    """
    if example is None:
        return None
    dims = _as_dims(leading_dims)
    specs: list[tuple[tuple[int, ...], np.dtype]] = []
    _map_leaves(lambda x: specs.append(_spec(x, dims)), example)
    if share_memory:
        arrays = iter(_shared_arrays(specs))
    else:
        arrays = iter([np.zeros(shape, dtype) for shape, dtype in specs])
    return _map_leaves(lambda _: next(arrays), example, to_namedarraytuple=True)


# ----------------------------------------------------------------------------------------------
# Conversion and structure-wide operations


def _to_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    return torch.as_tensor(x)


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        try:  # the usual case, a CPU tensor without grad: a view, in one call
            return x.numpy()
        except (RuntimeError, TypeError):  # grad or another device: a view or a copy
            return x.detach().cpu().numpy()
    return x


def torchify_buffer(buffer_: Any) -> Any:
    """View a buffer of NumPy arrays as torch tensors, without copying.

    Tensors pass through; Python scalars become 0-d tensors.
    """
    return _map_leaves(_to_tensor, buffer_)


def numpify_buffer(buffer_: Any) -> Any:
    """View a buffer of CPU tensors as NumPy arrays, without copying.

    Tensors on another device are copied to the CPU first; arrays pass through.
    """
    return _map_leaves(_to_numpy, buffer_)


def buffer_to(buffer_: Any, device: Any = None, non_blocking: bool = False) -> Any:
    """Move every tensor of a buffer to ``device`` (``tensor.to``); arrays are torchified."""
    return _map_leaves(lambda x: _to_tensor(x).to(device, non_blocking=non_blocking), buffer_)


def buffer_method(buffer_: Any, method_name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``leaf.<method_name>(*args, **kwargs)`` on every leaf; same structure back.

    Examples:
        >>> buffer_method((torch.ones(2), None), "sum")
        (tensor(2.), None)
    """
    return _map_leaves(lambda x: getattr(x, method_name)(*args, **kwargs), buffer_)


def buffer_func(buffer_: Any, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Return ``func(leaf, *args, **kwargs)`` for every leaf; same structure back."""
    return _map_leaves(lambda x: func(x, *args, **kwargs), buffer_)


def get_leading_dims(buffer_: Any, n_dim: int = 1) -> tuple[int, ...]:
    """The first ``n_dim`` dimensions shared by every leaf of a buffer.

    Raises:
        ValueError: if leaves disagree on them (naming the shapes), or the buffer is empty.
    """
    shapes = [tuple(x.shape) for x in _leaves(buffer_)]
    if not shapes:
        raise ValueError("get_leading_dims: buffer has no array or tensor leaves")
    dims = shapes[0][:n_dim]
    if len(dims) < n_dim or any(s[:n_dim] != dims for s in shapes):
        raise ValueError(
            f"get_leading_dims: leaves do not share {n_dim} leading dims; shapes: {shapes}"
        )
    return dims
