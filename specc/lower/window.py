"""The one N-d sliding window over channels-last tensors, its tiles and scratch buffers."""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from math import prod
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

Pairs = tuple[tuple[int, int], ...]
Block = tuple[slice, slice]
T = TypeVar("T")

# Scratch buffers up to this size are kept for the next call (the default conv workspace fits).
KEEP_BYTES = 16 << 20
# A thread's share of a kernel's work below these is not worth handing over.
MIN_SHARE_BYTES = 256 << 10
MIN_SHARE_FLOPS = 2_000_000
# Tiles of the element-wise tap loops (depthwise, pooling) stay within a core's L2 cache.
TAP_TILE_BYTES = 256 << 10
_local = threading.local()
_pools: dict[int, ThreadPoolExecutor] = {}


class KernelMemory(NamedTuple):
    """What one kernel call allocates besides its output: the plan counts both.

    `scratch` is the per-thread buffer it takes from each `scratch()` slot (kept for the next
    call up to KEEP_BYTES); `temp` is what it allocates and frees within the call.
    """

    scratch: dict[str, int]
    temp: int


NO_MEMORY = KernelMemory({}, 0)
# What NumPy itself may allocate inside any call (a ufunc or reduction that casts or meets a
# strided operand, a matmul): buffers of 8192 items for up to three operands. The plan adds it
# to every step's temporaries.
NUMPY_BUFFERS = 3 * 8192 * 8


def pad(x: NDArray, pairs: Pairs, value: float = 0.0, *, reuse: bool = False) -> NDArray:
    """`x` with (before, after) cells of `value` around each spatial axis; `x` itself if none.

    With `reuse`, the result lives in this thread's scratch buffer and is valid only until the
    next padded call: a kernel's temporary, never a result.
    """
    if not any(a or b for a, b in pairs):
        return x
    spatial = x.shape[1:-1]
    shape = (
        x.shape[0],
        *(n + a + b for n, (a, b) in zip(spatial, pairs, strict=True)),
        x.shape[-1],
    )
    xp = scratch(shape, x.dtype, "padded") if reuse else np.empty(shape, x.dtype)
    for axis, (a, b) in enumerate(pairs, start=1):
        edge = [slice(None)] * xp.ndim
        for cells in (slice(0, a), slice(xp.shape[axis] - b, xp.shape[axis])):
            edge[axis] = cells
            xp[tuple(edge)] = value
    inner = (slice(None), *(slice(a, a + n) for n, (a, _) in zip(spatial, pairs, strict=True)))
    xp[inner] = x
    return xp


def out_size(size: int, window: int, stride: int, dilation: int) -> int:
    """How many windows fit along one (already padded) axis."""
    return (size - dilation * (window - 1) - 1) // stride + 1


def windows(
    xp: NDArray, window: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> NDArray:
    """A read-only view (N, *out, *window, C) of every window of a padded input.

    The trailing (*window, C) order is the Keras kernel layout, so a gathered patch row meets
    `kernel.reshape(-1, filters)` directly.
    """
    spatial = xp.shape[1:-1]
    out = tuple(map(out_size, spatial, window, stride, dilation))
    if min(out) < 1:
        raise ValueError(f"window {tuple(window)} does not fit the padded input {spatial}")
    st = xp.strides[1:-1]
    shape = (xp.shape[0], *out, *window, xp.shape[-1])
    strides = (
        xp.strides[0],
        *(a * s for a, s in zip(st, stride, strict=True)),
        *(a * d for a, d in zip(st, dilation, strict=True)),
        xp.strides[-1],
    )
    return as_strided(xp, shape, strides, writeable=False)


def taps(view: NDArray, rank: int) -> Iterator[tuple[tuple[int, ...], NDArray]]:
    """Each kernel tap of a window view with its (N, *out, C) slice."""
    window = view.shape[1 + rank : 1 + 2 * rank]
    for tap in itertools.product(*map(range, window)):
        key: tuple[Any, ...] = (Ellipsis, *tap, slice(None))
        yield tap, view[key]


def blocks(batch: int, rows: int, per_tile: int) -> Iterator[Block]:
    """Tiles of the (batch, first output axis) grid holding about `per_tile` rows each.

    A tile is several whole images, or a run of rows of one image, so each tile of a
    contiguous (N, rows, ...) array is itself contiguous. Small maps are grouped across the
    batch so that tiles stay large.
    """
    if rows == 0:
        return
    if per_tile >= rows:
        step = per_tile // rows
        for n in range(0, batch, step):
            yield slice(n, min(n + step, batch)), slice(0, rows)
        return
    chunks = -(-rows // per_tile)
    edges = [rows * i // chunks for i in range(chunks + 1)]
    for n in range(batch):
        for a, b in itertools.pairwise(edges):
            yield slice(n, n + 1), slice(a, b)


def parallel(fn: Callable[[T], object], tiles: Sequence[T], threads: int) -> None:
    """Run `fn` on every tile, dealt round-robin to `threads` threads (inline for one).

    Each thread gets one long run of tiles, not one task per tile: the GIL hand-off around
    every submission would cost about what a cache-sized tile takes.
    """
    threads = min(threads, len(tiles))
    if threads <= 1:
        for tile in tiles:
            fn(tile)
        return
    pool = _pools.get(threads) or _pools.setdefault(threads, ThreadPoolExecutor(threads))

    def run(share: Sequence[T]) -> None:
        for tile in share:
            fn(tile)

    for done in [pool.submit(run, tiles[i::threads]) for i in range(threads)]:
        done.result()


def tiles_for(
    batch: int, rows: int, per_tile: int, threads: int, min_share: int = 1
) -> list[Block]:
    """`blocks` of at most `per_tile` rows, at least one for each of `threads` threads.

    Shares under `min_share` rows are not split off: handing them over costs more than it saves.
    """
    share = -(-batch * rows // threads)
    if threads > 1 and share >= min_share:
        per_tile = min(per_tile, share)
    return list(blocks(batch, rows, max(per_tile, 1)))


def rows_worth(total: float, per_row: float) -> int:
    """How many rows of `per_row` work make `total`: the least share worth a thread."""
    return max(1, math.ceil(total / max(per_row, 1)))


def tap_blocks(view: NDArray, rank: int, threads: int) -> list[Block]:
    """Output tiles small enough for the per-tap loops (depthwise, pooling) to stay in cache."""
    batch, rows, *rest = view.shape[: 1 + rank]
    row_bytes = prod(rest) * view.shape[-1] * view.dtype.itemsize
    min_share = rows_worth(MIN_SHARE_BYTES, row_bytes)
    return tiles_for(batch, rows, TAP_TILE_BYTES // max(row_bytes, 1), threads, min_share)


def tap_tile_bytes(batch: int, out: tuple[int, ...], channels: int, itemsize: int) -> int:
    """The largest (rows, ..., C) tile of `tap_blocks` (one thread)."""
    row_bytes = prod(out[1:]) * channels * itemsize
    return min(max(1, TAP_TILE_BYTES // max(row_bytes, 1)), batch * out[0]) * row_bytes


def scratch(shape: Sequence[int], dtype: np.dtype, slot: str = "patches") -> NDArray:
    """A per-thread buffer of `shape`, reused across calls in its `slot`.

    Fresh pages fault on their first touch, reused ones do not (5-9 ms per batch-8 call).
    Buffers above KEEP_BYTES are plain temporaries, so that what stays allocated between
    calls is bounded by a few times that.
    """
    nbytes = prod(shape) * dtype.itemsize
    if nbytes > KEEP_BYTES:
        return np.empty(shape, dtype)
    buffers: dict[str, NDArray] = _local.__dict__.setdefault("buffers", {})
    raw = buffers.get(slot)
    if raw is None or raw.nbytes < nbytes:
        # Let the smaller buffer go first, so that growing never holds both (the plan counts
        # one buffer per slot).
        raw = buffers.pop(slot, None)
        del raw
        raw = buffers[slot] = np.empty(nbytes, np.uint8)
    return raw[:nbytes].view(dtype).reshape(shape)


def scratch_bytes() -> int:
    """How much this thread's reusable buffers hold between calls."""
    buffers: dict[str, NDArray] = _local.__dict__.get("buffers", {})
    return sum(raw.nbytes for raw in buffers.values())


def release_scratch() -> None:
    """Free this thread's reusable buffers."""
    _local.__dict__.pop("buffers", None)
