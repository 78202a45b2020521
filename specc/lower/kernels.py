"""The NumPy maths of the executor: channels-last (N, *spatial, C) kernels for every layer."""

from __future__ import annotations

import functools
import math
from math import prod
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from specc.lower.window import Block, Pairs, blocks, halves, pad, parallel, scratch, taps, windows

__all__ = [
    "Pairs",
    "activation",
    "batch_norm",
    "conv",
    "conv_transpose",
    "dense",
    "depthwise_conv",
    "global_pool",
    "pool",
    "upsample_nearest",
    "zero_pad",
]

WORKSPACE = 8 << 20
# Tiles of the element-wise tap loops (depthwise, pooling) stay within a core's L2 cache.
TAP_TILE_BYTES = 256 << 10


def conv(
    x: NDArray,
    w: NDArray,
    b: NDArray | None = None,
    *,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pairs,
    groups: int = 1,
    out: NDArray | None = None,
    workspace_bytes: int = WORKSPACE,
) -> NDArray:
    """Convolution of (N, *S, C) with a Keras kernel (*k, C/groups, F) by im2col + GEMM."""
    rank = len(stride)
    window = w.shape[:rank]
    if groups == 1 and _pointwise(window, stride, pads):
        y = _gemm(x.reshape(-1, x.shape[-1]), w.reshape(w.shape[-2:]), out)
        y = y.reshape(*x.shape[:-1], w.shape[-1])
    else:
        view = windows(pad(x, pads), window, stride, dilation)
        y = _im2col_gemm(view, w.reshape(-1, w.shape[-1]), rank, groups, out, workspace_bytes)
    return _add_bias(y, b)


def _pointwise(window: tuple[int, ...], stride: tuple[int, ...], pads: Pairs) -> bool:
    return set(window) == {1} and set(stride) == {1} and not any(a or b for a, b in pads)


def _gemm(a: NDArray, w: NDArray, out: NDArray | None) -> NDArray:
    w = w.astype(a.dtype, copy=False)
    if out is None:
        return a @ w
    np.matmul(a, w, out=_rows(out, w.shape[-1]))
    return out


def _rows(a: NDArray, cols: int) -> NDArray:
    """`a` as a (rows, cols) matrix, refusing to copy (a copy would lose the writes)."""
    return a.reshape(-1, cols, copy=False)


def _im2col_gemm(
    view: NDArray, wmat: NDArray, rank: int, groups: int, out: NDArray | None, workspace: int
) -> NDArray:
    """GEMM over patch matrices gathered tile by tile (batch and first output axis jointly)."""
    batch, rows, *rest = view.shape[: 1 + rank]
    filters = wmat.shape[-1]
    cg, fg = view.shape[-1] // groups, filters // groups
    patch = view.shape[1 + rank : -1]
    row_items = prod(rest) * prod(patch) * cg
    y = np.empty((batch, rows, *rest, filters), view.dtype) if out is None else out
    wmat = wmat.astype(view.dtype, copy=False)
    per_tile = max(1, workspace // (row_items * view.dtype.itemsize))
    for block in blocks(batch, rows, per_tile):
        ns, rs = block
        count = (ns.stop - ns.start) * (rs.stop - rs.start)
        buf = scratch((count * row_items,), view.dtype)
        dst = _rows(y[ns, rs], filters)
        for g in range(groups):
            src = view[ns, rs, ..., g * cg : (g + 1) * cg]
            patches = buf.reshape(src.shape)
            _gather(patches, src, block)
            cols = slice(g * fg, (g + 1) * fg)
            np.matmul(_rows(patches, wmat.shape[0]), wmat[:, cols], out=dst[:, cols])
    return y


def _gather(dst: NDArray, src: NDArray, block: Block) -> None:
    """Copy a tile of windows into its patch matrix, half of it on each thread."""
    n0, r0 = block[0].start, block[1].start

    def part(piece: Block) -> None:
        ns, rs = piece
        sel = (slice(ns.start - n0, ns.stop - n0), slice(rs.start - r0, rs.stop - r0))
        np.copyto(dst[sel], src[sel])

    parallel(part, halves(block))


def _add_bias(y: NDArray, b: NDArray | None) -> NDArray:
    if b is not None:
        np.add(y, b.astype(y.dtype, copy=False), out=y)
    return y


def depthwise_conv(
    x: NDArray,
    w: NDArray,
    b: NDArray | None = None,
    *,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pairs,
    out: NDArray | None = None,
) -> NDArray:
    """Per-channel convolution; output channel c*M + m comes from channel c and w[..., c, m]."""
    rank = len(stride)
    view = windows(pad(x, pads), w.shape[:rank], stride, dilation)
    batch, *spatial = view.shape[: 1 + rank]
    channels, mult = w.shape[-2:]
    w = w.astype(x.dtype, copy=False)
    y = np.empty((batch, *spatial, channels * mult), x.dtype) if out is None else out
    bias = None if b is None else b.astype(x.dtype, copy=False).reshape(channels, mult)
    ym = y.reshape(*y.shape[:-1], channels, mult)

    def tile(block: Block) -> None:
        tile_view = view[block]
        for m in range(mult):
            acc = scratch(ym[block][..., m].shape, y.dtype, "acc") if mult > 1 else y[block]
            _weighted_sum(tile_view, w[..., m], rank, acc)
            if bias is not None:
                acc += bias[:, m]
            if mult > 1:
                ym[block][..., m] = acc

    _tap_tiles(tile, view, rank, channels * max(mult, 2))
    return y


def _weighted_sum(view: NDArray, w: NDArray, rank: int, acc: NDArray) -> None:
    """acc = sum over taps t of view[t] * w[t], with one scratch product per tap."""
    tmp = scratch(acc.shape, acc.dtype, "product")
    for i, (tap, src) in enumerate(taps(view, rank)):
        np.multiply(src, w[tap], out=acc if i == 0 else tmp)
        if i:
            acc += tmp


def _tap_tiles(fn: object, view: NDArray, rank: int, row_channels: int) -> None:
    """Run a per-tile tap loop over cache-sized tiles of the output, spread over the threads."""
    batch, rows, *rest = view.shape[: 1 + rank]
    row_bytes = prod(rest) * row_channels * view.dtype.itemsize
    per_tile = max(1, TAP_TILE_BYTES // row_bytes)
    parallel(fn, blocks(batch, rows, per_tile))  # type: ignore[arg-type]


def conv_transpose(
    x: NDArray,
    w: NDArray,
    b: NDArray | None = None,
    *,
    stride: tuple[int, ...],
    padding: Literal["valid", "same"] | str,
) -> NDArray:
    """Transposed convolution (Keras/TF lengths) by one GEMM, then a scatter-add per tap."""
    rank = len(stride)
    window, filters = w.shape[:rank], w.shape[rank]
    spatial = x.shape[1:-1]
    cols = x.reshape(-1, x.shape[-1]) @ w.reshape(-1, w.shape[-1]).astype(x.dtype, copy=False).T
    cols = cols.reshape(*x.shape[:-1], *window, filters)
    lengths = [
        _transpose_len(n, k, s, padding) for n, k, s in zip(spatial, window, stride, strict=True)
    ]
    full = [
        max((n - 1) * s + k, c + o)
        for n, k, s, (c, o) in zip(spatial, window, stride, lengths, strict=True)
    ]
    y = np.zeros((x.shape[0], *full, filters), x.dtype)
    for tap in np.ndindex(*window):
        dst = tuple(
            slice(t, t + (n - 1) * s + 1, s) for t, n, s in zip(tap, spatial, stride, strict=True)
        )
        y[(slice(None), *dst)] += cols[(Ellipsis, *tap, slice(None))]
    crop = tuple(slice(c, c + o) for c, o in lengths)
    return _add_bias(np.ascontiguousarray(y[(slice(None), *crop)]), b)


def _transpose_len(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(crop before, output length) of one axis; `same` crops as TF's SAME forward conv pads."""
    if padding == "same":
        return max(k - s, 0) // 2, n * s
    return 0, n * s + max(k - s, 0)


def pool(
    x: NDArray,
    *,
    kind: Literal["max", "avg"] | str,
    window: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pairs,
) -> NDArray:
    """Max or average pooling; padding never wins a max and is left out of an average."""
    rank = len(window)
    fill = -np.inf if kind == "max" else 0.0
    view = windows(pad(x, pads, fill), window, stride, (1,) * rank)
    y = np.empty((*view.shape[: 1 + rank], x.shape[-1]), x.dtype)
    reduce = np.maximum if kind == "max" else np.add

    def tile(block: Block) -> None:
        acc = y[block]
        for i, (_, src) in enumerate(taps(view[block], rank)):
            if i == 0:
                np.copyto(acc, src)
            else:
                reduce(acc, src, out=acc)

    _tap_tiles(tile, view, rank, x.shape[-1])
    if kind == "avg":
        y /= _counts(x.shape[1:-1], window, stride, pads).astype(x.dtype)[..., None]
    elif kind != "max":
        raise ValueError(f"unknown pooling kind {kind!r}")
    return y


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


def global_pool(x: NDArray, kind: Literal["max", "avg"] | str) -> NDArray:
    """(N, C): the mean or maximum over every spatial axis."""
    axes = tuple(range(1, x.ndim - 1))
    if kind == "max":
        return x.max(axis=axes)
    if kind == "avg":
        return x.mean(axis=axes, dtype=x.dtype)
    raise ValueError(f"unknown pooling kind {kind!r}")


def dense(x: NDArray, w: NDArray, b: NDArray | None = None) -> NDArray:
    """x @ w + b over the last axis; the other axes are kept."""
    y = x @ w.astype(x.dtype, copy=False)
    return _add_bias(y, b)


def batch_norm(
    x: NDArray,
    gamma: NDArray | None,
    beta: NDArray | None,
    mean: NDArray,
    var: NDArray,
    eps: float,
) -> NDArray:
    """Inference-mode batch normalisation per channel (last axis) with moving statistics."""
    scale = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    y = x * scale.astype(x.dtype)
    y += shift.astype(x.dtype)
    return y


def activation(
    x: NDArray, name: str, *, alpha: float | None = None, out: NDArray | None = None
) -> NDArray:
    """An element-wise activation (softmax over the last axis); in place when `out` is `x`."""
    y = np.empty_like(x) if out is None else out
    fn = _ACTIVATIONS.get(name)
    if fn is None:
        raise ValueError(f"unknown activation {name!r}")
    fn(x, y, alpha)
    return y


def _relu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.maximum(x, 0, out=y)


def _relu6(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.clip(x, 0, 6, out=y)


def _leaky_relu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    a = x.dtype.type(0.3 if alpha is None else alpha)
    np.multiply(x, np.where(x > 0, x.dtype.type(1), a), out=y)


def _elu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    a = x.dtype.type(1.0 if alpha is None else alpha)
    neg = np.expm1(np.minimum(x, 0)) * a
    np.maximum(x, 0, out=y)
    y += neg


def _sigmoid(x: NDArray, y: NDArray, alpha: float | None) -> None:
    # 0.5 * (1 + tanh(x / 2)) never overflows, unlike 1 / (1 + exp(-x)).
    np.multiply(x, x.dtype.type(0.5), out=y)
    np.tanh(y, out=y)
    y += 1
    y *= x.dtype.type(0.5)


def _tanh(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.tanh(x, out=y)


def _softmax(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.subtract(x, x.max(axis=-1, keepdims=True), out=y)
    np.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)


def _gelu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    phi = erf(x * x.dtype.type(1 / math.sqrt(2)))
    phi += 1
    phi *= x.dtype.type(0.5)
    np.multiply(x, phi, out=y)


def _silu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    s = np.empty_like(x)
    _sigmoid(x, s, None)
    np.multiply(x, s, out=y)


_ACTIVATIONS = {
    "relu": _relu,
    "relu6": _relu6,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "softmax": _softmax,
    "gelu": _gelu,
    "silu": _silu,
}

# erf on [0, 6) as 12 pieces of degree-12 polynomials (Chebyshev interpolants of math.erf, within
# 2e-15 of it); beyond 6, erf is 1 to double precision.
_ERF_WIDTH, _ERF_PIECES, _ERF_DEGREE = 0.5, 12, 12


@functools.cache
def _erf_table() -> NDArray:
    """Monomial coefficients (piece, power) in t = the position within the piece, in [-1, 1]."""
    from numpy.polynomial import chebyshev

    def piece(lo: float) -> NDArray:
        def f(t: NDArray) -> NDArray:
            return np.array([math.erf(lo + (u + 1) * _ERF_WIDTH / 2) for u in t])

        return chebyshev.cheb2poly(chebyshev.chebinterpolate(f, _ERF_DEGREE))

    return np.array([piece(i * _ERF_WIDTH) for i in range(_ERF_PIECES)])


def erf(x: NDArray) -> NDArray:
    """The error function element-wise, in the dtype of `x`."""
    table = _erf_table().astype(x.dtype)
    a = np.minimum(np.abs(x), x.dtype.type(_ERF_WIDTH * _ERF_PIECES))
    idx = np.minimum((a * x.dtype.type(1 / _ERF_WIDTH)).astype(np.intp), _ERF_PIECES - 1)
    t = a * x.dtype.type(2 / _ERF_WIDTH)
    t -= (2 * idx + 1).astype(x.dtype)
    y = table[:, -1].take(idx)
    for power in range(_ERF_DEGREE - 1, -1, -1):
        y *= t
        y += table[:, power].take(idx)
    return np.copysign(y, x, out=y)


def zero_pad(x: NDArray, pairs: Pairs) -> NDArray:
    """Zeros (before, after) around each spatial axis."""
    return pad(x, pairs).copy() if not any(a or b for a, b in pairs) else pad(x, pairs)


def upsample_nearest(x: NDArray, factors: tuple[int, ...]) -> NDArray:
    """Repeat every spatial cell `factors[i]` times along axis i."""
    y = x
    for axis, f in enumerate(factors, start=1):
        if f != 1:
            y = np.repeat(y, f, axis=axis)
    return y
