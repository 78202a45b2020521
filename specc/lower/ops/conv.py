"""Convolutions in NumPy: the lowerings of conv, depthwise, separable and transposed conv, their
kernels."""

from __future__ import annotations

from collections.abc import Mapping
from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.gemm import add_bias, conv, conv_memory
from specc.lower.linear import bias_of, linear
from specc.lower.padding import no_pads, padded_input, window_text
from specc.lower.steps import Consts, Value
from specc.lower.window import (
    Block,
    KernelMemory,
    Pairs,
    out_size,
    pad,
    parallel,
    scratch,
    tap_blocks,
    tap_tile_bytes,
    taps,
    windows,
)
from specc.ops.conv import ConvND, ConvTransposeND, DepthwiseConv2D, SeparableConvND
from specc.ops.window import effective


@lowers(ConvND)
def _conv(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, ConvND)
    (x,) = node.inputs
    rank = op.spatial
    k, s, d = op.kernel_size, op.strides, op.dilations
    x = padded_input(b, node, op)
    pointwise = set(k) == {1} and set(s) == {1} and op.groups == 1
    out_shape = node.out_shape
    per_group = x.shape[-1] // op.groups
    flops = 2 * prod(out_shape) * prod(k) * per_group
    zeros, groups, ws = no_pads(rank), op.groups, b.workspace
    memory = conv_memory(
        x.shape,
        (*k, per_group, op.filters),
        stride=s,
        dilation=d,
        groups=groups,
        itemsize=b.itemsize,
        workspace_bytes=ws,
    )

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return conv(
            ins[0],
            c[0],
            bias_of(c),
            stride=s,
            dilation=d,
            pads=zeros,
            groups=groups,
            out=out,
            workspace_bytes=ws,
        )

    detail = window_text(k, s, d) + (f" groups {groups}" if groups > 1 else "")
    kind = "gemm" if pointwise else "im2col+gemm"
    return linear(b, node, kind, (x,), run, flops=flops, memory=memory, detail=detail)


@lowers(DepthwiseConv2D)
def _depthwise(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, DepthwiseConv2D)
    (x,) = node.inputs
    k, s, d = op.kernel_size, op.strides, op.dilations
    x = padded_input(b, node, op)
    zeros = no_pads(op.spatial)
    channels, mult = x.shape[-1], op.multiplier

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return depthwise_conv(ins[0], c[0], bias_of(c), stride=s, dilation=d, pads=zeros, out=out)

    flops = 2 * prod(node.out_shape) * prod(k)
    memory = depthwise_memory(
        x.shape, (*k, channels, mult), stride=s, dilation=d, itemsize=b.itemsize
    )
    return linear(
        b,
        node,
        "depthwise",
        (x,),
        run,
        flops=flops,
        memory=memory,
        detail=window_text(k, s, d) + (f" x{mult}" if mult > 1 else ""),
    )


@lowers(SeparableConvND)
def _separable(b: Builder, node: Node) -> Value:
    """Two steps: the depthwise convolution into a buffer of C_in x depth_multiplier channels,
    then the pointwise GEMM with the bias (a folded batch_norm lands there) and activation."""
    op = node.op
    assert isinstance(op, SeparableConvND)
    k, s, d = op.kernel_size, op.strides, op.dilations
    x = padded_input(b, node, op)
    zeros, rank = no_pads(op.spatial), op.spatial
    channels, mult = x.shape[-1], op.depth_multiplier
    mid = b.new(f"{node.name}:depthwise", (*node.out_shape[:-1], channels * mult))
    depthwise_key = node.key("depthwise_kernel")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        return (weights[depthwise_key],)

    def run_depthwise(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return depthwise_conv(ins[0], c[0], None, stride=s, dilation=d, pads=zeros, out=out)

    scratch, temp = depthwise_memory(
        x.shape, (*k, channels, mult), stride=s, dilation=d, itemsize=b.itemsize
    )
    b.emit(
        "depthwise",
        node,
        (x,),
        mid,
        run_depthwise,
        flops=2 * mid.size * prod(k),
        scratch=scratch,
        temp=temp,
        detail=window_text(k, s, d) + (f" x{mult}" if mult > 1 else ""),
        bind=bind,
        const_bytes=prod(k) * channels * mult * b.itemsize,
    )
    ones = (1,) * rank

    def run_pointwise(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return conv(ins[0], c[0], bias_of(c), stride=ones, dilation=ones, pads=zeros, out=out)

    memory = conv_memory(
        mid.shape, (*ones, channels * mult, op.filters), stride=ones, dilation=ones, groups=1,
        itemsize=b.itemsize, workspace_bytes=b.workspace,
    )  # fmt: skip
    return linear(
        b,
        node,
        "gemm",
        (mid,),
        run_pointwise,
        flops=2 * prod(node.out_shape) * channels * mult,
        memory=memory,
        detail="pointwise",
        kernel="pointwise_kernel",
    )


@lowers(ConvTransposeND)
def _conv_transpose(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, ConvTransposeND)
    (x,) = node.inputs
    k, s, d, padding = op.kernel_size, op.strides, op.dilations, op.padding
    filters = op.filters

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return conv_transpose(
            ins[0], c[0], bias_of(c), stride=s, padding=padding, dilation=d, out=out
        )

    # The GEMM's columns (one row per input position, k... x filters wide) and the uncropped
    # buffer the taps add up in are alive together while the step runs.
    cols = x.size // x.shape[-1] * prod(k) * filters * b.itemsize
    full = x.shape[0] * prod(transpose_full(x.shape[1:-1], k, s, padding, d))
    return linear(
        b,
        node,
        "gemm+scatter",
        (x,),
        run,
        flops=2 * x.size * prod(k) * filters,
        temp=cols + full * filters * b.itemsize,
        detail=window_text(k, s, d) + f" {padding}",
    )


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

        parallel(tile, tap_blocks(view, rank, threads), threads)
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
    tile = tap_tile_bytes(x_shape[0], out, channels, itemsize)
    slots = {"product": tile, **({"acc": tile} if mult > 1 else {})}
    # Per multiplier, the kernel and the bias repeated along the last output axis; the next
    # multiplier's are made while the last ones are still referenced.
    rows = 0 if rank < 2 else 2 * (prod(w_shape[:rank]) + 1) * out[-1] * channels * itemsize
    return KernelMemory(slots, rows)


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


def conv_transpose(
    x: NDArray,
    w: NDArray,
    b: NDArray | None = None,
    *,
    stride: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...] | None = None,
    out: NDArray | None = None,
) -> NDArray:
    """Transposed convolution (Keras/TF lengths) by one GEMM, then a scatter-add per tap.

    Tap t of input i lands on output i*s + t*d. The taps add up in an uncropped buffer
    (`transpose_full`), which is then cropped into `out`.
    """
    rank = len(stride)
    dilation = dilation or (1,) * rank
    window, filters = w.shape[:rank], w.shape[rank]
    spatial = x.shape[1:-1]
    cols = x.reshape(-1, x.shape[-1]) @ w.reshape(-1, w.shape[-1]).astype(x.dtype, copy=False).T
    cols = cols.reshape(*x.shape[:-1], *window, filters)
    lengths = [
        _transpose_len(n, effective(k, dd), s, padding)
        for n, k, s, dd in zip(spatial, window, stride, dilation, strict=True)
    ]
    full = transpose_full(spatial, window, stride, padding, dilation)
    y = np.zeros((x.shape[0], *full, filters), x.dtype)
    for tap in np.ndindex(*window):
        dst = tuple(
            slice(t * dd, t * dd + (n - 1) * s + 1, s)
            for t, n, s, dd in zip(tap, spatial, stride, dilation, strict=True)
        )
        y[(slice(None), *dst)] += cols[(Ellipsis, *tap, slice(None))]
    crop = y[(slice(None), *(slice(c, c + o) for c, o in lengths))]
    if out is None:
        return add_bias(np.ascontiguousarray(crop), b)
    np.copyto(out, crop)
    return add_bias(out, b)


def transpose_full(
    spatial: tuple[int, ...],
    window: tuple[int, ...],
    stride: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...] | None = None,
) -> tuple[int, ...]:
    """The uncropped lengths a transposed convolution's taps add up in."""
    dilation = dilation or (1,) * len(stride)
    return tuple(
        max((n - 1) * s + effective(k, d), sum(_transpose_len(n, effective(k, d), s, padding)))
        for n, k, s, d in zip(spatial, window, stride, dilation, strict=True)
    )


def _transpose_len(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(crop before, output length) of one axis for a (dilated) kernel extent `k`; `same`
    crops as TF's SAME forward conv pads."""
    if padding == "same":
        return max(k - s, 0) // 2, n * s
    return 0, n * s + max(k - s, 0)
