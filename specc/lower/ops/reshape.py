"""Moving values around in NumPy: views, transposes, zero padding, and nearest-neighbour and
bilinear upsampling."""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.lower import window
from specc.lower.builder import Builder, Node, lowers
from specc.lower.padding import pad
from specc.lower.steps import Consts, Value
from specc.lower.window import NO_MEMORY, KernelMemory, Pairs
from specc.ops.reshape import Dropout, Flatten, Identity, Permute, Reshape, Upsample, ZeroPad


@lowers(Flatten, Reshape, Dropout, Identity)
def _view(b: Builder, node: Node) -> Value:
    return b.view(node, node.inputs[0], node.out_shape)


@lowers(ZeroPad)
def _zero_pad(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, ZeroPad)
    x = node.inputs[0]
    if not any(a or z for a, z in op.pairs):
        return b.view(node, x, x.shape)
    return pad(b, node, x, op.pairs, name=node.name)


@lowers(Permute)
def _permute(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Permute)
    x = node.inputs[0]
    axes = (0, *(a + 1 for a in op.perm))
    # Moving only axes of 1 leaves the order of the elements as it is: a reshape.
    moved = [a for a in axes if x.shape[a] != 1]
    if moved == sorted(moved):
        return b.view(node, x, node.out_shape)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        moved = ins[0].transpose(axes)
        if out is None:
            return np.ascontiguousarray(moved)
        np.copyto(out, moved)
        return out

    out = b.new(node.name, node.out_shape)
    return b.emit("transpose", node, (x,), out, run, detail=" ".join(map(str, axes)))


@lowers(Upsample)
def _upsample(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Upsample)
    factors, mode = op.factors, op.mode()
    x = node.inputs[0]

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        if mode == "bilinear":
            return upsample_bilinear(ins[0], factors, out=out)
        return upsample_nearest(ins[0], factors, out=out)

    memory = NO_MEMORY
    if mode == "bilinear":
        memory = bilinear_memory(x.shape, factors, b.itemsize)
    out = b.new(node.name, node.out_shape)
    detail = "x".join(map(str, factors)) + ("" if mode == "nearest" else f" {mode}")
    return b.emit(
        "upsample",
        node,
        node.inputs,
        out,
        run,
        flops=3 * prod(node.out_shape) * len(factors) if mode == "bilinear" else 0,
        scratch=memory.scratch,
        temp=memory.temp,
        detail=detail,
    )


def zero_pad(x: NDArray, pairs: Pairs) -> NDArray:
    """Zeros (before, after) around each spatial axis."""
    y = window.pad(x, pairs)
    return x.copy() if y is x else y


def upsample_nearest(x: NDArray, factors: tuple[int, ...], out: NDArray | None = None) -> NDArray:
    """Repeat every spatial cell `factors[i]` times along axis i."""
    n, *spatial, c = x.shape
    shape = (n, *(s * f for s, f in zip(spatial, factors, strict=True)), c)
    y = np.empty(shape, x.dtype) if out is None else out
    # Seen as (N, H, fh, W, fw, C), the output is the input broadcast over the factor axes: one
    # pass of writes, no intermediate copy per axis.
    split = (n, *(d for s, f in zip(spatial, factors, strict=True) for d in (s, f)), c)
    spread = (slice(None), *(i for _ in spatial for i in (slice(None), None)), slice(None))
    if y.flags.c_contiguous:
        y.reshape(split)[...] = x[spread]
    else:  # reshaping a strided array would copy; write through a contiguous one
        y[...] = np.broadcast_to(x[spread], split).reshape(shape)
    return y


def half_pixel(n: int, factor: int) -> tuple[NDArray, NDArray, NDArray]:
    """For each of the n * factor outputs along an axis: its two nearest inputs and the
    weight of the second. An output's centre o + 1/2 sits at input coordinate
    (o + 1/2) / factor - 1/2; coordinates past the ends take the end cell."""
    coord = (np.arange(n * factor) + 0.5) / factor - 0.5
    low = np.floor(coord)
    frac = coord - low
    first = np.clip(low, 0, n - 1).astype(np.intp)
    second = np.clip(low + 1, 0, n - 1).astype(np.intp)
    return first, second, frac


def upsample_bilinear(x: NDArray, factors: tuple[int, ...], out: NDArray | None = None) -> NDArray:
    """Linear interpolation along each spatial axis in turn (separable: bilinear in 2-D)."""
    src = x
    rank = len(factors)
    for i, f in enumerate(factors):
        axis = i + 1
        shape = list(src.shape)
        shape[axis] *= f
        last = i == rank - 1
        dst = out if last and out is not None else np.empty(shape, x.dtype)
        first, second, frac = half_pixel(src.shape[axis], f)
        along = (-1, *(1,) * (x.ndim - 1 - axis))  # broadcast weights along `axis`
        np.take(src, first, axis=axis, out=dst, mode="clip")
        dst *= (1 - frac).astype(x.dtype).reshape(along)
        more = np.take(src, second, axis=axis, mode="clip")
        more *= frac.astype(x.dtype).reshape(along)
        dst += more
        del more
        src = dst
    return src


def bilinear_memory(
    x_shape: tuple[int, ...], factors: tuple[int, ...], itemsize: int
) -> KernelMemory:
    """What `upsample_bilinear` allocates: per axis, its result (unless it is the output) and
    the second cells' values of its size, beside the previous axis's result; and the tables."""
    shape = list(x_shape)
    previous, peak = 0, 0
    for i, f in enumerate(factors):
        n = shape[i + 1]
        shape[i + 1] *= f
        size = prod(shape) * itemsize
        tables = n * f * (3 * 8 + 2 * 8 + 2 * itemsize)  # coord, floor, frac; indices; weights
        own = size if i < len(factors) - 1 else 0
        peak = max(peak, previous + own + size + tables)
        previous = own
    return KernelMemory({}, peak)
