"""How each op type becomes steps: one registered lowering per op family."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.ir import Layer
from specc.lower import kernels
from specc.lower.builder import Builder, Node, lowering_for, lowers
from specc.lower.steps import Binder, Consts, Mode, Value
from specc.lower.weights import bn_affine, fold
from specc.lower.window import NO_MEMORY, KernelMemory
from specc.ops import activation as act
from specc.ops.conv import Conv2DTranspose, ConvND, DepthwiseConv2D, WindowOp
from specc.ops.dense import Dense
from specc.ops.merge import Add, Concat, Multiply
from specc.ops.norm import BatchNorm
from specc.ops.pool import GlobalPool, Pool
from specc.ops.reshape import Dropout, Flatten, Reshape, Upsample2D, ZeroPad
from specc.ops.window import same_pads
from specc.ops.wrapper import TimeDistributed

Pairs = tuple[tuple[int, int], ...]


def lower(b: Builder, node: Node) -> Value:
    """The value `node` computes, after emitting its steps."""
    found = lowering_for(type(node.op))
    if found is None:
        raise NotImplementedError(f"no lowering for layer type {node.op.type!r}")
    return found.fn(b, node)


# -- shared pieces ----------------------------------------------------------------------------


def resolve_pads(op: WindowOp, spatial: tuple[int, ...]) -> Pairs:
    """Explicit (before, after) pairs per axis; 'same' resolved for these concrete sizes."""
    padding = op.pads
    if padding == "same":
        return tuple(
            same_pads(n, k, s, d)
            for n, k, s, d in zip(spatial, op.kernel_size, op.strides, op.dilations, strict=True)
        )
    return padding


def _zeros(rank: int) -> Pairs:
    return ((0, 0),) * rank


def pad(b: Builder, node: Node, x: Value, pairs: Pairs, name: str | None = None) -> Value:
    """`x` with zeros around its spatial axes, written into a buffer of the plan (or `x` itself)."""
    if not any(a or z for a, z in pairs):
        return x
    out = b.new(name or f"{node.name}:pad", _padded_shape(x.shape, pairs))
    return b.emit("pad", node, (x,), out, _padder(pairs), detail=_pads_text(pairs))


def _padded_shape(shape: tuple[int, ...], pairs: Pairs) -> tuple[int, ...]:
    inner = (n + a + z for n, (a, z) in zip(shape[1:-1], pairs, strict=True))
    return (shape[0], *inner, shape[-1])


def _pads_text(pairs: Pairs) -> str:
    return " ".join(f"({a},{z})" for a, z in pairs)


def padded_input(b: Builder, node: Node, op: WindowOp) -> Value:
    """The input of a window op, zero-padded as the op needs (maybe already, by its producer)."""
    x = node.inputs[0]
    known = b.padded.get(x.id)
    pairs = resolve_pads(op, (known[1] if known else x.shape)[1:-1])
    if known is not None:
        assert known[0] == pairs, (node.name, known, pairs)
        return x
    return pad(b, node, x, pairs)


Fill = Callable[[NDArray, NDArray], object]


def _padder(
    pairs: Pairs, fill: Fill = np.copyto
) -> Callable[[list[NDArray], NDArray | None, Consts], NDArray]:
    """Zeros around the buffer's border, and `fill(interior, x)` (a copy by default) inside."""

    def run(ins: list[NDArray], out: NDArray | None, consts: Consts) -> NDArray:
        x = ins[0]
        assert out is not None
        inner = [slice(None)]
        for axis, (a, z) in enumerate(pairs, start=1):
            # Only the border is zeroed: the buffer is reused, the interior is overwritten.
            n = out.shape[axis]
            lead = (slice(None),) * axis
            if a:
                out[(*lead, slice(0, a))] = 0
            if z:
                out[(*lead, slice(n - z, n))] = 0
            inner.append(slice(a, n - z))
        fill(out[tuple(inner)], x)
        return out

    return run


def activate(
    b: Builder,
    node: Node,
    x: Value,
    name: str | None,
    alpha: float | None = None,
    label: str | None = None,
) -> Value:
    """`x` through the activation `name` (nothing for None), in place when `x` is dead after."""
    if name is None:
        return x
    memory = kernels.activation_memory(name, x.shape, b.itemsize)
    pairs = _reader_pads(b, node, x)
    if pairs is not None:
        # The reader pads its input: write the activation straight into that buffer, saving
        # a pass over the (often largest) tensor.
        def fill(interior: NDArray, src: NDArray) -> None:
            kernels.activation(src, name, alpha=alpha, out=interior)

        out = b.new(label or node.name, _padded_shape(x.shape, pairs))
        b.padded[out.id] = (pairs, x.shape)
        fn = _padder(pairs, fill)
        return b.emit(
            f"{name}+pad",
            node,
            (x,),
            out,
            fn,
            flops=x.size,
            scratch=memory.scratch,
            temp=memory.temp,
            detail=_pads_text(pairs),
        )

    def run(ins: list[NDArray], out: NDArray | None, consts: Consts) -> NDArray:
        return kernels.activation(ins[0], name, alpha=alpha, out=out)

    return b.elementwise(name, node, x, run, flops=x.size, memory=memory, name=label)


def _reader_pads(b: Builder, node: Node, x: Value) -> Pairs | None:
    """The padding the one reader of this layer's output applies first, if it pads at all."""
    reader = b.sole_reader(node.name) if node.top else None
    if reader is None or not isinstance(reader.op, ConvND | DepthwiseConv2D):
        return None
    pairs = resolve_pads(reader.op, x.shape[1:-1])
    return pairs if any(a or z for a, z in pairs) else None


def _foldable_bn(b: Builder, node: Node) -> Layer | None:
    """The batch_norm that directly and solely reads this layer's (activation-free) output."""
    if not (b.fold and node.top) or getattr(node.op, "activation", None) is not None:
        return None
    reader = b.sole_reader(node.name)
    if reader is None or not isinstance(reader.op, BatchNorm):
        return None
    return reader


def _affine(
    node: Node,
    bn: Layer | None,
    expand: Callable[[NDArray], NDArray],
    kernel_shape: tuple[int, ...] | None = None,
) -> Binder:
    """The binder of a kernel and optional bias, with a following batch_norm folded in."""
    kernel_key, bias_key = node.key("kernel"), node.key("bias")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        kernel, bias = weights[kernel_key], weights.get(bias_key)
        if bn is not None:
            assert isinstance(bn.op, BatchNorm)
            scale, shift = bn_affine(weights, bn.name, bn.op.epsilon)
            kernel, bias = fold(kernel, bias, scale, shift, expand)
        if kernel_shape is not None:
            kernel = kernel.reshape(kernel_shape)
        return (kernel,) if bias is None else (kernel, bias)

    return bind


def _bias(consts: Consts) -> NDArray | None:
    return consts[1] if len(consts) > 1 else None


def _linear(
    b: Builder,
    node: Node,
    kind: str,
    inputs: tuple[Value, ...],
    fn: Callable[[list[NDArray], NDArray | None, Consts], NDArray],
    *,
    expand: Callable[[NDArray], NDArray] = lambda s: s,
    kernel_shape: tuple[int, ...] | None = None,
    mode: Mode = "out",
    flops: int,
    memory: KernelMemory = NO_MEMORY,
    temp: int = 0,
    detail: str = "",
) -> Value:
    """A layer with a kernel and optional bias (a batch_norm folded in), then its activation."""
    bn = _foldable_bn(b, node)
    out_shape = node.out_shape
    params = dict(node.params)
    const_bytes = (
        prod(params["kernel"]) + (out_shape[-1] if ("bias" in params or bn) else 0)
    ) * b.itemsize
    out = b.new(node.name, out_shape, kind="arena")
    layers = (node.name, bn.name) if bn else (node.name,)
    b.emit(
        kind,
        node,
        inputs,
        out,
        fn,
        mode=mode,
        flops=flops,
        scratch=memory.scratch,
        temp=temp + memory.temp,
        detail=detail
        + (" +bias" if ("bias" in params or bn) else "")
        + (f", {bn.name} folded" if bn else ""),
        bind=_affine(node, bn, expand, kernel_shape),
        const_bytes=const_bytes,
        layers=layers,
    )
    if bn is not None:
        b.absorbed.add(bn.name)
        b.bind_name(node.name, out)
        b.bind_name(bn.name, out)
    return activate(b, node, out, getattr(node.op, "activation", None))


def _window_text(k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...] = ()) -> str:
    text = "x".join(map(str, k))
    if set(s) != {1}:
        text += "/" + "x".join(map(str, s))
    if d and set(d) != {1}:
        text += " dilation " + "x".join(map(str, d))
    return text


# -- convolutions and dense -------------------------------------------------------------------


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
    zeros, groups, ws = _zeros(rank), op.groups, b.workspace
    memory = kernels.conv_memory(
        x.shape,
        (*k, per_group, op.filters),
        stride=s,
        dilation=d,
        groups=groups,
        itemsize=b.itemsize,
        workspace_bytes=ws,
    )

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.conv(
            ins[0],
            c[0],
            _bias(c),
            stride=s,
            dilation=d,
            pads=zeros,
            groups=groups,
            out=out,
            workspace_bytes=ws,
        )

    detail = _window_text(k, s, d) + (f" groups {groups}" if groups > 1 else "")
    kind = "gemm" if pointwise else "im2col+gemm"
    return _linear(b, node, kind, (x,), run, flops=flops, memory=memory, detail=detail)


@lowers(DepthwiseConv2D)
def _depthwise(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, DepthwiseConv2D)
    (x,) = node.inputs
    k, s, d = op.kernel_size, op.strides, op.dilations
    x = padded_input(b, node, op)
    zeros = _zeros(op.spatial)
    channels, mult = x.shape[-1], op.multiplier

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.depthwise_conv(
            ins[0], c[0], _bias(c), stride=s, dilation=d, pads=zeros, out=out
        )

    flops = 2 * prod(node.out_shape) * prod(k)
    memory = kernels.depthwise_memory(
        x.shape, (*k, channels, mult), stride=s, dilation=d, itemsize=b.itemsize
    )
    return _linear(
        b,
        node,
        "depthwise",
        (x,),
        run,
        expand=lambda scale: scale.reshape(channels, mult),
        flops=flops,
        memory=memory,
        detail=_window_text(k, s, d) + (f" x{mult}" if mult > 1 else ""),
    )


@lowers(Conv2DTranspose)
def _conv_transpose(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Conv2DTranspose)
    (x,) = node.inputs
    k, s, padding = op.kernel_size, op.strides, op.padding
    filters = op.filters

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.conv_transpose(ins[0], c[0], _bias(c), stride=s, padding=padding, out=out)

    # The GEMM's columns (one row per input position, k... x filters wide) and the uncropped
    # buffer the taps add up in are alive together while the step runs.
    cols = x.size // x.shape[-1] * prod(k) * filters * b.itemsize
    full = x.shape[0] * prod(kernels.transpose_full(x.shape[1:-1], k, s, padding))
    return _linear(
        b,
        node,
        "gemm+scatter",
        (x,),
        run,
        expand=lambda scale: scale[:, None],
        flops=2 * x.size * prod(k) * filters,
        temp=cols + full * filters * b.itemsize,
        detail=_window_text(k, s) + f" {padding}",
    )


@lowers(Dense)
def _dense(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Dense)
    (x,) = node.inputs
    units, channels = op.units, x.shape[-1]
    # A dense layer is a 1-wide convolution over the rows: one GEMM straight into its buffer.
    rows = x.size // channels // x.shape[0]
    zeros = _zeros(1)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        a = ins[0].reshape(ins[0].shape[0], rows, channels)
        y = None if out is None else out.reshape(out.shape[0], rows, units)
        kernels.conv(a, c[0], _bias(c), stride=(1,), dilation=(1,), pads=zeros, out=y)
        assert out is not None
        return out

    flops = 2 * x.size * units
    return _linear(
        b,
        node,
        "gemm",
        (x,),
        run,
        kernel_shape=(1, channels, units),
        flops=flops,
        detail=f"{channels}->{units}",
    )


# -- normalisation and activations ------------------------------------------------------------


@lowers(BatchNorm)
def _batch_norm(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, BatchNorm)
    (x,) = node.inputs
    name, eps = node.name, op.epsilon
    channels = x.shape[-1]

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        ones = np.ones(channels, weights[f"{name}.moving_mean"].dtype)
        gamma = weights.get(f"{name}.gamma", ones)
        beta = weights.get(f"{name}.beta", ones * 0)
        return gamma, beta, weights[f"{name}.moving_mean"], weights[f"{name}.moving_variance"]

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.batch_norm(ins[0], c[0], c[1], c[2], c[3], eps, out=out)

    out = b.new(name, x.shape)
    return b.emit(
        "batch_norm",
        node,
        (x,),
        out,
        run,
        flops=2 * x.size,
        bind=bind,
        const_bytes=4 * channels * b.itemsize,
    )


@lowers(act.Activation)
def _activation(b: Builder, node: Node) -> Value:
    (x,) = node.inputs
    alpha = getattr(node.op, "alpha", None)
    return activate(b, node, x, node.op.type, alpha, label=node.name)


# -- pooling ----------------------------------------------------------------------------------


@lowers(Pool)
def _pool(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Pool)
    (x,) = node.inputs
    window, stride, kind = op.kernel_size, op.strides, op.kind
    pairs = resolve_pads(op, x.shape[1:-1])

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.pool(ins[0], kind=kind, window=window, stride=stride, pads=pairs, out=out)

    memory = kernels.pool_memory(
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
        detail=_window_text(window, stride),
    )


@lowers(GlobalPool)
def _global_pool(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, GlobalPool)
    (x,) = node.inputs
    kind = op.kind

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.global_pool(ins[0], kind, out=out)

    out = b.new(node.name, node.out_shape)
    temp = kernels.global_pool_memory(x.shape, kind).temp
    return b.emit(f"global_{kind}_pool", node, (x,), out, run, flops=x.size, temp=temp)


# -- merging ----------------------------------------------------------------------------------


def _alone(ins: tuple[Value, ...], i: int) -> bool:
    """Whether no other input shares the storage of input i (so writing it changes no other)."""
    return all(v.storage is not ins[i].storage for j, v in enumerate(ins) if j != i)


def _elementwise_merge(ufunc: np.ufunc) -> Callable[[Builder, Node], Value]:
    def lower_merge(b: Builder, node: Node) -> Value:
        ins = node.inputs
        # Overwrite a dead one of the first two inputs (a later one would be read after writing).
        target = next((i for i in (0, 1) if b.can_overwrite(ins[i]) and _alone(ins, i)), None)

        def run(arrays: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
            y = ufunc(arrays[0], arrays[1], out=out)
            for a in arrays[2:]:
                ufunc(y, a, out=y)
            return y

        flops = (len(ins) - 1) * ins[0].size
        if target is None:
            return b.emit(
                ufunc.__name__, node, ins, b.new(node.name, node.out_shape), run, flops=flops
            )
        out = b.alias(node.name, node.out_shape, ins[target])
        return b.emit(
            ufunc.__name__,
            node,
            ins,
            out,
            run,
            mode="in_place",
            target=target,
            flops=flops,
        )

    return lower_merge


lowers(Add)(_elementwise_merge(np.add))
lowers(Multiply)(_elementwise_merge(np.multiply))


@lowers(Concat)
def _concat(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Concat)
    axis = op.axis % (len(node.out_shape) - 1) + 1  # past the batch axis

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return np.concatenate(ins, axis=axis, out=out)

    return b.emit(
        "concat", node, node.inputs, b.new(node.name, node.out_shape), run, detail=f"axis {axis}"
    )


# -- moving values around ---------------------------------------------------------------------


@lowers(Flatten, Reshape, Dropout)
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


@lowers(Upsample2D)
def _upsample(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Upsample2D)
    factors = op.factors

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return kernels.upsample_nearest(ins[0], factors, out=out)

    out = b.new(node.name, node.out_shape)
    return b.emit("upsample", node, node.inputs, out, run, detail="x".join(map(str, factors)))


@lowers(TimeDistributed)
def _time_distributed(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, TimeDistributed)
    (x,) = node.inputs
    n, t = x.shape[:2]
    flat = b.view(node, x, (n * t, *x.shape[2:]), name=f"{node.name}:slices")
    inner = lower(b, node.inner(op.layer, (flat,), (n * t, *node.out_shape[2:])))
    return b.view(node, inner, node.out_shape)
