"""The one N-d sliding window over channels-last tensors, its tiles and the small thread pool."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

Pairs = tuple[tuple[int, int], ...]
Block = tuple[slice, slice]

# Element-wise ufuncs run on one core but release the GIL: two threads keep both cores busy.
THREADS = min(2, os.cpu_count() or 1)
_executor: ThreadPoolExecutor | None = None
_local = threading.local()


def pad(x: NDArray, pairs: Pairs, value: float = 0.0) -> NDArray:
    """`x` with (before, after) cells of `value` around each spatial axis; `x` itself if none."""
    if not any(a or b for a, b in pairs):
        return x
    inner = tuple(n + a + b for n, (a, b) in zip(x.shape[1:-1], pairs, strict=True))
    xp = np.full((x.shape[0], *inner, x.shape[-1]), value, dtype=x.dtype)
    xp[
        (slice(None), *(slice(a, a + n) for n, (a, _) in zip(x.shape[1:-1], pairs, strict=True)))
    ] = x
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
        yield tap, view[(Ellipsis, *tap, slice(None))]


def blocks(batch: int, rows: int, per_tile: int) -> Iterator[Block]:
    """Tiles of the (batch, first output axis) grid holding about `per_tile` rows each.

    A tile is several whole images, or a run of rows of one image, so each tile of a
    contiguous (N, rows, ...) array is itself contiguous. Small maps are grouped across the
    batch so that tiles stay large.
    """
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


def halves(block: Block, parts: int = THREADS) -> list[Block]:
    """Split a tile into `parts` pieces, along the batch when it holds several images."""
    ns, rs = block
    if ns.stop - ns.start >= parts:
        return [(slice(a, b), rs) for a, b in _split(ns.start, ns.stop, parts)]
    return [(ns, slice(a, b)) for a, b in _split(rs.start, rs.stop, parts) if b > a]


def _split(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    edges = [start + (stop - start) * i // parts for i in range(parts + 1)]
    return list(itertools.pairwise(edges))


def parallel(fn: Callable[[Block], None], work: Iterable[Block]) -> None:
    """Run `fn` over the tiles on the thread pool (inline when only one thread or tile)."""
    items = list(work)
    if THREADS < 2 or len(items) < 2:
        for item in items:
            fn(item)
        return
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(THREADS, thread_name_prefix="specc-kernel")
    for future in [_executor.submit(fn, item) for item in items]:
        future.result()


def scratch(shape: Sequence[int], dtype: np.dtype, slot: str = "patches") -> NDArray:
    """A reusable per-thread buffer: fresh pages fault on every touch, reused ones do not."""
    nbytes = prod(shape) * dtype.itemsize
    buffers: dict[str, NDArray] = _local.__dict__.setdefault("buffers", {})
    raw = buffers.get(slot)
    if raw is None or raw.nbytes < nbytes:
        raw = buffers[slot] = np.empty(nbytes, np.uint8)
    return raw[:nbytes].view(dtype).reshape(shape)
