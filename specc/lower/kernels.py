"""The NumPy maths of the executor: channels-last (N, *spatial, C) kernels for every layer."""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.lower import window
from specc.lower.kernels_activation import activation, activation_memory, erf
from specc.lower.window import (
    NO_MEMORY,
    Block,
    KernelMemory,
    Pairs,
    out_size,
    pad,
    parallel,
    scratch,
    taps,
    tiles_for,
    windows,
)

__all__ = [
    "Pairs",
    "activation",
    "activation_memory",
    "batch_norm",
    "conv",
    "conv_memory",
    "conv_transpose",
    "dense",
    "depthwise_conv",
    "depthwise_memory",
    "erf",
    "global_pool",
    "global_pool_memory",
    "pool",
    "pool_memory",
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
    threads: int = 1,
) -> NDArray:
    """Convolution of (N, *S, C) with a Keras kernel (*k, C/groups, F) by im2col + GEMM.

    A 1x1 stride-1 unpadded conv is one GEMM on a reshaped view; one with few filters computes
    several neighbouring output columns per GEMM row (`_unrolled`); otherwise the patches are
    gathered in tiles of at most `workspace_bytes` in all. With `threads` > 1 the tiles (each a
    gather and a GEMM) are shared among that many threads: meant for a single-threaded BLAS.
    """
    rank = len(stride)
    window = w.shape[:rank]
    if groups == 1 and _pointwise(window, stride, pads):
        y = _gemm(x.reshape(-1, x.shape[-1]), w.reshape(w.shape[-2:]), out, threads)
        y = y.reshape(*x.shape[:-1], w.shape[-1])
    elif (
        groups == 1
        and (unroll := _unroll_factor(w.shape[rank - 1], stride[-1], dilation[-1], *w.shape[-2:]))
        > 1
    ):
        y = _unrolled(x, w, unroll, stride, dilation, pads, out, workspace_bytes, threads)
    else:
        view = windows(pad(x, pads, reuse=True), window, stride, dilation)
        wmat = w.reshape(-1, w.shape[-1])
        y = _im2col_gemm(view, wmat, rank, groups, out, workspace_bytes, threads)
    return _add_bias(y, b)


def _unroll_factor(k: int, s: int, d: int, channels: int, filters: int) -> int:
    """How many neighbouring outputs of the last axis one GEMM row computes (1: plain im2col).

    GEMMs with few filters run far below the GEMM rate, and few channels make the patch rows
    short gathers; computing J neighbours at once gives J*F columns from a window only
    (J-1)*s wider. J aims at 64 columns (128 when a kernel row holds under 64 values), with
    the multiply-adds on the band's zeros capped at 75% extra.
    """
    target = 128 if k * channels < 64 else 64
    j = max(1, min(target // filters, 16))
    while j > 1 and (j - 1) * s + (k - 1) * d + 1 > 1.75 * k:
        j -= 1
    return j


def conv_memory(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    *,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    itemsize: int,
    workspace_bytes: int = WORKSPACE,
) -> KernelMemory:
    """What `conv` allocates for an already padded input (`pads` all zero), path by path."""
    rank = len(stride)
    window_shape = w_shape[:rank]
    channels, filters = w_shape[-2:]
    batch = x_shape[0]
    if groups == 1 and _pointwise(window_shape, stride, ((0, 0),) * rank):
        return NO_MEMORY
    out = tuple(map(out_size, x_shape[1:-1], window_shape, stride, dilation))
    j = _unroll_factor(window_shape[-1], stride[-1], dilation[-1], channels, filters)
    if groups > 1 or j == 1:
        row_items = prod(window_shape) * channels
        return KernelMemory(
            {"patches": patch_tile_bytes(batch, out, row_items, itemsize, workspace_bytes)}, 0
        )
    k, s, d = window_shape[-1], stride[-1], dilation[-1]
    width = (j - 1) * s + (k - 1) * d + 1
    padded = x_shape[-2]
    wide_cols = -(-out[-1] // j)
    extra = max(0, (wide_cols * j - 1) * s + (k - 1) * d + 1 - padded)
    wide_out = (*out[:-1], wide_cols)
    row_items = prod(window_shape[:-1]) * width * channels
    slots = {"patches": patch_tile_bytes(batch, wide_out, row_items, itemsize, workspace_bytes)}
    if extra:  # the input, padded on the right to a whole number of wide columns
        slots["padded"] = batch * prod(x_shape[1:-2]) * (padded + extra) * channels * itemsize
    band = row_items * j * filters * itemsize  # the banded kernel, built per call
    # Without a whole number of wide columns, the GEMM writes a wider result, then copies.
    uneven = 0 if wide_cols * j == out[-1] else batch * prod(wide_out) * j * filters * itemsize
    return KernelMemory(slots, band + uneven)


def patch_tile_bytes(
    batch: int, out: tuple[int, ...], row_items: int, itemsize: int, workspace_bytes: int
) -> int:
    """The largest patch tile `_im2col_gemm` gathers: whole output rows up to the workspace."""
    row_bytes = prod(out[1:]) * row_items * itemsize
    per_tile = max(1, workspace_bytes // max(row_bytes, 1))
    return min(per_tile, batch * out[0]) * row_bytes


def _unrolled(
    x: NDArray,
    w: NDArray,
    j: int,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pairs,
    out: NDArray | None,
    workspace: int,
    threads: int,
) -> NDArray:
    """The conv as one with J*F filters, stride J*s and a banded (Toeplitz) kernel on the last axis.

    Filter t*F + f of the wide kernel is filter f shifted by t*s columns, so wide output block
    i holds the outputs i*J ... i*J + J-1 of the last axis, already in the channels-last order.
    """
    rank = len(stride)
    k, s, d = w.shape[rank - 1], stride[-1], dilation[-1]
    channels, filters = w.shape[-2:]
    width = (j - 1) * s + (k - 1) * d + 1
    wide = np.zeros((*w.shape[: rank - 1], width, channels, j, filters), w.dtype)
    for t in range(j):
        wide[..., t * s : t * s + (k - 1) * d + 1 : d, :, t, :] = w
    padded = x.shape[-2] + sum(pads[-1])
    cols = (padded - (k - 1) * d - 1) // s + 1
    wide_cols = -(-cols // j)
    extra = max(0, (wide_cols * j - 1) * s + (k - 1) * d + 1 - padded)
    pads = (*pads[:-1], (pads[-1][0], pads[-1][1] + extra))
    view = windows(
        pad(x, pads, reuse=True), wide.shape[:rank], (*stride[:-1], j * s), (*dilation[:-1], 1)
    )
    exact = wide_cols * j == cols
    into = (
        None if out is None or not exact else out.reshape(*out.shape[:-2], wide_cols, j * filters)
    )
    y = _im2col_gemm(view, wide.reshape(-1, j * filters), rank, 1, into, workspace, threads)
    y = y.reshape(*y.shape[:-2], wide_cols * j, filters)[..., :cols, :]
    if out is not None:
        if not exact:
            out[...] = y
        return out
    return y if exact else np.ascontiguousarray(y)


def _pointwise(window: tuple[int, ...], stride: tuple[int, ...], pads: Pairs) -> bool:
    return set(window) == {1} and set(stride) == {1} and not any(a or b for a, b in pads)


def _gemm(a: NDArray, w: NDArray, out: NDArray | None, threads: int = 1) -> NDArray:
    """a @ w, into `out` if given; with `threads`, row blocks of `a` run side by side."""
    w = w.astype(a.dtype, copy=False)
    y = np.empty((a.shape[0], w.shape[-1]), a.dtype) if out is None else _rows(out, w.shape[-1])
    min_share = window.rows_worth(window.MIN_SHARE_FLOPS, 2 * a.shape[1] * w.shape[1])
    parts = [rs for _, rs in tiles_for(1, a.shape[0], a.shape[0], threads, min_share)]
    parallel(lambda rows: np.matmul(a[rows], w, out=y[rows]), parts, threads)
    return y if out is None else out


def _rows(a: NDArray, cols: int) -> NDArray:
    """`a` as a (rows, cols) matrix, refusing to copy (a copy would lose the writes)."""
    return a.reshape(-1, cols, copy=False)


def _im2col_gemm(
    view: NDArray,
    wmat: NDArray,
    rank: int,
    groups: int,
    out: NDArray | None,
    workspace: int,
    threads: int = 1,
) -> NDArray:
    """GEMM over patch matrices gathered tile by tile (batch and first output axis jointly)."""
    batch, rows, *rest = view.shape[: 1 + rank]
    filters = wmat.shape[-1]
    cg, fg = view.shape[-1] // groups, filters // groups
    row_items = prod(rest) * prod(view.shape[1 + rank : -1]) * cg
    y = np.empty((batch, rows, *rest, filters), view.dtype) if out is None else out
    wmat = wmat.astype(view.dtype, copy=False)

    def tile(block: Block) -> None:
        ns, rs = block
        dst = _rows(y[ns, rs], filters)
        for g in range(groups):
            src = view[ns, rs, ..., g * cg : (g + 1) * cg]
            patches = scratch(src.shape, view.dtype)
            np.copyto(patches, src)
            cols = slice(g * fg, (g + 1) * fg)
            np.matmul(_rows(patches, wmat.shape[0]), wmat[:, cols], out=dst[:, cols])

    per_tile = max(1, workspace // threads // (row_items * view.dtype.itemsize))
    min_share = window.rows_worth(window.MIN_SHARE_FLOPS, 2 * row_items * filters)
    parallel(tile, tiles_for(batch, rows, per_tile, threads, min_share), threads)
    return y


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
    threads: int = 1,
) -> NDArray:
    """Per-channel convolution; output channel c*M + m comes from channel c and w[..., c, m]."""
    rank = len(stride)
    view = windows(pad(x, pads, reuse=True), w.shape[:rank], stride, dilation)
    channels, mult = w.shape[-2:]
    y = np.empty((*view.shape[: 1 + rank], channels * mult), x.dtype) if out is None else out
    ym = y.reshape(*y.shape[:-1], channels, mult)
    bias = None if b is None else b.reshape(channels, mult)
    for m in range(mult):
        taps_w = _along_rows(w[..., m], view, rank)
        bias_m = None if bias is None else _along_rows(bias[:, m], view, rank)

        def tile(
            block: Block, m: int = m, taps_w: NDArray = taps_w, bias_m: NDArray | None = bias_m
        ) -> None:
            acc = y[block] if mult == 1 else scratch(ym[block][..., m].shape, x.dtype, "acc")
            _weighted_sum(view[block], taps_w, rank, acc)
            if bias_m is not None:
                acc += bias_m
            if mult > 1:
                ym[block][..., m] = acc

        parallel(tile, _tap_blocks(view, rank, threads), threads)
    return y


def depthwise_memory(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    *,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    itemsize: int,
) -> KernelMemory:
    """What `depthwise_conv` allocates for an already padded input."""
    rank = len(stride)
    channels, mult = w_shape[-2:]
    out = tuple(map(out_size, x_shape[1:-1], w_shape[:rank], stride, dilation))
    tile = _tap_tile_bytes(x_shape[0], out, channels, itemsize)
    slots = {"product": tile, **({"acc": tile} if mult > 1 else {})}
    # Per multiplier, the kernel and the bias repeated along the last output axis; the next
    # multiplier's are made while the last ones are still referenced.
    rows = 0 if rank < 2 else 2 * (prod(w_shape[:rank]) + 1) * out[-1] * channels * itemsize
    return KernelMemory(slots, rows)


def _tap_tile_bytes(batch: int, out: tuple[int, ...], channels: int, itemsize: int) -> int:
    """The largest (rows, ..., C) tile of `_tap_blocks` (one thread)."""
    row_bytes = prod(out[1:]) * channels * itemsize
    return min(max(1, TAP_TILE_BYTES // max(row_bytes, 1)), batch * out[0]) * row_bytes


def _along_rows(a: NDArray, view: NDArray, rank: int) -> NDArray:
    """Per-channel values (..., C) repeated along the last output axis, in the view's dtype.

    A stride-1 tap slice is contiguous over (last axis, C); meeting it with an equally
    contiguous operand lets each ufunc call run one long inner loop instead of one per pixel.
    """
    a = a.astype(view.dtype, copy=False)
    if rank < 2:
        return a
    last = view.shape[rank]
    return np.ascontiguousarray(
        np.broadcast_to(a[..., None, :], (*a.shape[:-1], last, a.shape[-1]))
    )


def _weighted_sum(view: NDArray, w: NDArray, rank: int, acc: NDArray) -> None:
    """acc = the sum over taps t of view[t] * w[t], with one scratch product per tap."""
    tmp = scratch(acc.shape, acc.dtype, "product")
    for i, (tap, src) in enumerate(taps(view, rank)):
        np.multiply(src, w[tap], out=acc if i == 0 else tmp)
        if i:
            acc += tmp


def _tap_blocks(view: NDArray, rank: int, threads: int) -> list[Block]:
    """Output tiles small enough for the per-tap loops (depthwise, pooling) to stay in cache."""
    batch, rows, *rest = view.shape[: 1 + rank]
    row_bytes = prod(rest) * view.shape[-1] * view.dtype.itemsize
    min_share = window.rows_worth(window.MIN_SHARE_BYTES, row_bytes)
    return tiles_for(batch, rows, TAP_TILE_BYTES // max(row_bytes, 1), threads, min_share)


def conv_transpose(
    x: NDArray,
    w: NDArray,
    b: NDArray | None = None,
    *,
    stride: tuple[int, ...],
    padding: str,
    out: NDArray | None = None,
) -> NDArray:
    """Transposed convolution (Keras/TF lengths) by one GEMM, then a scatter-add per tap.

    The taps add up in an uncropped buffer (`transpose_full`), which is then cropped into `out`.
    """
    rank = len(stride)
    window, filters = w.shape[:rank], w.shape[rank]
    spatial = x.shape[1:-1]
    cols = x.reshape(-1, x.shape[-1]) @ w.reshape(-1, w.shape[-1]).astype(x.dtype, copy=False).T
    cols = cols.reshape(*x.shape[:-1], *window, filters)
    lengths = [
        _transpose_len(n, k, s, padding) for n, k, s in zip(spatial, window, stride, strict=True)
    ]
    full = transpose_full(spatial, window, stride, padding)
    y = np.zeros((x.shape[0], *full, filters), x.dtype)
    for tap in np.ndindex(*window):
        dst = tuple(
            slice(t, t + (n - 1) * s + 1, s) for t, n, s in zip(tap, spatial, stride, strict=True)
        )
        y[(slice(None), *dst)] += cols[(Ellipsis, *tap, slice(None))]
    crop = y[(slice(None), *(slice(c, c + o) for c, o in lengths))]
    if out is None:
        return _add_bias(np.ascontiguousarray(crop), b)
    np.copyto(out, crop)
    return _add_bias(out, b)


def transpose_full(
    spatial: tuple[int, ...], window: tuple[int, ...], stride: tuple[int, ...], padding: str
) -> tuple[int, ...]:
    """The uncropped lengths a transposed convolution's taps add up in."""
    return tuple(
        max((n - 1) * s + k, sum(_transpose_len(n, k, s, padding)))
        for n, k, s in zip(spatial, window, stride, strict=True)
    )


def _transpose_len(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(crop before, output length) of one axis; `same` crops as TF's SAME forward conv pads."""
    if padding == "same":
        return max(k - s, 0) // 2, n * s
    return 0, n * s + max(k - s, 0)


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

    parallel(tile, _tap_blocks(view, rank, threads), threads)
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
    out: NDArray | None = None,
) -> NDArray:
    """Inference-mode batch normalisation per channel (last axis) with moving statistics."""
    scale = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    y = np.multiply(x, scale.astype(x.dtype), out=out)
    y += shift.astype(x.dtype)
    return y


def zero_pad(x: NDArray, pairs: Pairs) -> NDArray:
    """Zeros (before, after) around each spatial axis."""
    y = pad(x, pairs)
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
