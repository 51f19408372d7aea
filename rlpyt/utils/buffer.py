"""Buffers: structures of arrays allocated from one example, in private or OS shared memory.

A *buffer* is an array, a tensor, ``None``, or a (named)tuple of buffers, usually a
namedarraytuple whose leaves share leading dimensions ``[T, B]``. Every function here walks
that structure, so no other module needs its own loop over fields.

Shared memory: ``buffer_from_example(..., share_memory=True)`` places all leaves of the buffer
in one anonymous shared-memory block (a Linux ``memfd``; an unlinked temporary file elsewhere).
The arrays are :class:`ShmArray` (a thin ``np.ndarray`` subclass). Sent to another process by
``multiprocessing`` (as a ``Process`` argument or through a queue or pipe), under ``fork``,
``forkserver`` or ``spawn``, an ``ShmArray`` arrives as a view of the *same* memory, not a copy.
Ordinary pickling (``pickle.dumps``, ``torch.save``, ``copy.deepcopy``) copies the data as for
a plain array. The block has no name in ``/dev/shm``; the kernel frees it when the last process
holding it lets go of it, so no exit path (even ``SIGKILL``) can leak it.
"""

from __future__ import annotations

import mmap
import os
import secrets
import tempfile
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.reduction import DupFd, ForkingPickler
from typing import Any

import numpy as np
import torch

from rlpyt.utils.collections import namedarraytuple_like

__all__ = [
    "ShmArray",
    "buffer_from_example",
    "buffer_func",
    "buffer_method",
    "buffer_to",
    "build_array",
    "get_leading_dims",
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
        contents = [_map_leaves(fn, b, to_namedarraytuple) for b in buffer_]
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


class _ShmSegment:
    """One anonymous shared-memory block, mapped into this process.

    Identified across processes by a random token, so a process that receives the same block
    twice maps it once. The file descriptor is kept open to hand the block to other processes
    and is closed when the segment (and so every array on it) is garbage collected.
    """

    _mapped: weakref.WeakValueDictionary[str, _ShmSegment] = weakref.WeakValueDictionary()

    def __init__(self, nbytes: int, fd: int | None = None, token: str | None = None):
        self.nbytes = max(int(nbytes), 1)  # mmap refuses empty maps
        self.fd = _open_anonymous_fd(self.nbytes) if fd is None else fd
        weakref.finalize(self, os.close, self.fd)
        self.token = token or secrets.token_hex(16)
        self.mmap = mmap.mmap(self.fd, self.nbytes)
        self._bytes = np.frombuffer(self.mmap, dtype=np.uint8)
        self.address = self._bytes.__array_interface__["data"][0]
        _ShmSegment._mapped[self.token] = self

    def array(self, shape: tuple[int, ...], dtype: Any, offset: int, strides=None) -> ShmArray:
        arr = np.ndarray.__new__(
            ShmArray, shape, dtype=dtype, buffer=self.mmap, offset=offset, strides=strides
        )
        arr._segment = self
        return arr

    def holds(self, arr: np.ndarray) -> bool:
        lo, hi = np.lib.array_utils.byte_bounds(arr)
        return self.address <= lo and hi <= self.address + self.nbytes

    def __reduce__(self):
        raise TypeError(
            "a shared-memory block can only be sent to other processes through "
            "multiprocessing (Process arguments, queues, pipes); ordinary pickling copies the "
            "arrays instead"
        )


def _reduce_segment(segment: _ShmSegment):
    # Within one pickle the segment object is memoised, so each block travels once, with one
    # descriptor, however many arrays on it are sent.
    return _rebuild_segment, (segment.token, segment.nbytes, DupFd(segment.fd))


def _rebuild_segment(token: str, nbytes: int, dup_fd: Any) -> _ShmSegment:
    fd = dup_fd.detach()
    segment = _ShmSegment._mapped.get(token)
    if segment is not None:  # already mapped here (e.g. sent back to its creator)
        os.close(fd)
        return segment
    return _ShmSegment(nbytes, fd=fd, token=token)


class ShmArray(np.ndarray):
    """A NumPy array living in a shared-memory block made by :func:`np_mp_array`.

    Behaves as a plain array. Slices and views stay ``ShmArray`` and share the block; results
    of arithmetic are plain arrays. Through ``multiprocessing`` it travels as a view of the
    same memory; through ordinary pickling it is copied like a plain array.
    """

    _segment: _ShmSegment | None

    def __array_finalize__(self, obj: Any) -> None:
        self._segment = getattr(obj, "_segment", None)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        if return_scalar:
            return arr[()]
        segment = self._segment
        if isinstance(arr, ShmArray) and segment is not None and segment.holds(arr):
            return arr  # written in place (out=...): still a view of the block
        return arr.view(np.ndarray)

    def __reduce_ex__(self, protocol):
        return self.view(np.ndarray).__reduce_ex__(protocol)

    def __reduce__(self):
        return self.view(np.ndarray).__reduce__()


def _reduce_shm_array(arr: ShmArray):
    segment = arr._segment
    if segment is None or not segment.holds(arr):  # a copy that only inherited the type
        return arr.view(np.ndarray).__reduce__()
    offset = arr.__array_interface__["data"][0] - segment.address
    return _rebuild_shm_array, (segment, offset, arr.shape, arr.strides, arr.dtype)


def _rebuild_shm_array(segment, offset, shape, strides, dtype) -> ShmArray:
    return segment.array(shape, dtype, offset, strides)


ForkingPickler.register(_ShmSegment, _reduce_segment)
ForkingPickler.register(ShmArray, _reduce_shm_array)


def _aligned(nbytes: int) -> int:
    return -(-nbytes // _ALIGN) * _ALIGN


def _shared_arrays(specs: Sequence[tuple[tuple[int, ...], np.dtype]]) -> list[ShmArray]:
    """Carve zero-filled arrays of the given (shape, dtype) out of one new shared block."""
    sizes = [
        _aligned(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize) for shape, dtype in specs
    ]
    segment = _ShmSegment(sum(sizes))
    arrays, offset = [], 0
    for (shape, dtype), size in zip(specs, sizes):
        arrays.append(segment.array(shape, dtype, offset))
        offset += size
    return arrays


def np_mp_array(shape: int | Sequence[int], dtype: Any) -> ShmArray:
    """Zero-filled array in OS shared memory, shareable with worker processes.

    Args:
        shape: array shape.
        dtype: NumPy dtype (anything ``np.dtype`` accepts).

    Returns:
        An :class:`ShmArray`; see the module docstring for how it crosses processes.
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
        return x.detach().cpu().numpy()  # a view for CPU tensors, a copy for GPU ones
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
