"""Pooling in NumPy: windowed max and average pooling and global pooling, with their memory."""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.padding import resolve_pads, window_text
from specc.lower.steps import Consts, Value
from specc.lower.window import (
    NO_MEMORY,
    Block,
    KernelMemory,
    Pairs,
    out_size,
    pad,
    parallel,
    tap_blocks,
    taps,
    windows,
)
from specc.ops.pool import GlobalPool, Pool


@lowers(Pool)
def _pool(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Pool)
    (x,) = node.inputs
    window, stride, kind = op.kernel_size, op.strides, op.kind
    pairs = resolve_pads(op, x.shape[1:-1])

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return pool(ins[0], kind=kind, window=window, stride=stride, pads=pairs, out=out)

    memory = pool_memory(
        x.shape, kind=kind, window=window, stride=stride, pads=pairs, itemsize=b.itemsize
    )
    out = b.new(node.name, node.out_shape)
    return b.emit(
        f"{kind}_pool",
        node,
        (x,),
        out,
        run,
        flops=prod(node.out_shape) * prod(window),
        scratch=memory.scratch,
        temp=memory.temp,
        detail=window_text(window, stride),
    )


@lowers(GlobalPool)
def _global_pool(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, GlobalPool)
    (x,) = node.inputs
    kind = op.kind
    rows = (x.shape[0], x.shape[-1])

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        # keepdims only adds axes of 1: the (N, C) result written through a view of the output
        flat = None if out is None else out.reshape(rows)
        return global_pool(ins[0], kind, out=flat).reshape(node.out_shape)

    out = b.new(node.name, node.out_shape)
    temp = global_pool_memory(x.shape, kind).temp
    return b.emit(f"global_{kind}_pool", node, (x,), out, run, flops=x.size, temp=temp)


def pool(
    x: NDArray,
    *,
    kind: str,
    window: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pairs,
    threads: int = 1,
    out: NDArray | None = None,
) -> NDArray:
    """Max or average pooling; padding never wins a max and is left out of an average."""
    rank = len(window)
    if kind not in ("max", "avg"):
        raise ValueError(f"unknown pooling kind {kind!r}")
    fill = -np.inf if kind == "max" else 0.0
    view = windows(pad(x, pads, fill, reuse=True), window, stride, (1,) * rank)
    shape = (*view.shape[: 1 + rank], x.shape[-1])
    y = np.empty(shape, x.dtype) if out is None else out
    reduce = np.maximum if kind == "max" else np.add

    def tile(block: Block) -> None:
        acc = y[block]
        for i, (_, src) in enumerate(taps(view[block], rank)):
            if i == 0:
                np.copyto(acc, src)
            else:
                reduce(acc, src, out=acc)

    parallel(tile, tap_blocks(view, rank, threads), threads)
    if kind == "avg":
        y /= _counts(x.shape[1:-1], window, stride, pads).astype(x.dtype)[..., None]
    return y


def pool_memory(
    x_shape: tuple[int, ...],
    *,
    kind: str,
    window: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pairs,
    itemsize: int,
) -> KernelMemory:
    """What `pool` allocates: the padded input, and an average's window counts."""
    spatial = tuple(n + a + b for n, (a, b) in zip(x_shape[1:-1], pads, strict=True))
    slots = {}
    if any(a or b for a, b in pads):
        slots["padded"] = x_shape[0] * prod(spatial) * x_shape[-1] * itemsize
    out = tuple(map(out_size, spatial, window, stride, (1,) * len(window)))
    counts = 0 if kind == "max" else prod(out) * (2 * 8 + itemsize)  # int64 products, cast
    return KernelMemory(slots, counts)


def _counts(
    spatial: tuple[int, ...], window: tuple[int, ...], stride: tuple[int, ...], pads: Pairs
) -> NDArray:
    """How many real (unpadded) cells each window covers: a product of per-axis counts."""
    total: NDArray = np.ones((), np.int64)
    for n, k, s, (a, b) in zip(spatial, window, stride, pads, strict=True):
        start = np.arange(0, n + a + b - k + 1, s) - a
        per_axis = np.minimum(start + k, n) - np.maximum(start, 0)
        total = np.multiply.outer(total, per_axis)
    return total


def global_pool_memory(x_shape: tuple[int, ...], kind: str) -> KernelMemory:
    """What `global_pool` allocates: an average's float64 sums."""
    if kind == "max":
        return NO_MEMORY
    return KernelMemory({}, x_shape[0] * x_shape[-1] * 8)


def global_pool(x: NDArray, kind: str, out: NDArray | None = None) -> NDArray:
    """(N, C): the mean or maximum over every spatial axis."""
    axes = tuple(range(1, x.ndim - 1))
    if kind == "max":
        return np.max(x, axis=axes, out=out)
    if kind == "avg":
        # Accumulating a large map in float32 would lose digits; only the (N, C) result is cast.
        mean = x.mean(axis=axes, dtype=np.float64)
        if out is None:
            return mean.astype(x.dtype)
        np.copyto(out, mean, casting="same_kind")
        return out
    raise ValueError(f"unknown pooling kind {kind!r}")
