"""The im2col + GEMM convolution that conv and dense layers lower to, and its memory formula."""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.lower import window
from specc.lower.window import (
    NO_MEMORY,
    Block,
    KernelMemory,
    Pairs,
    out_size,
    pad,
    parallel,
    scratch,
    tiles_for,
    windows,
)

WORKSPACE = 8 << 20


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
    return add_bias(y, b)


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


def add_bias(y: NDArray, b: NDArray | None) -> NDArray:
    if b is not None:
        np.add(y, b.astype(y.dtype, copy=False), out=y)
    return y
