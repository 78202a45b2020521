"""Layers with a kernel and a bias, then their activation, with the two fusions lowering does.

A batch_norm that solely reads such a layer is folded into its kernel and bias
(`_foldable_bn`, `_affine`), and an activation whose one reader pads its input writes straight
into that padded buffer (`activate`, `_reader_pads`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod

from numpy.typing import NDArray

from specc.ir import Layer
from specc.lower.builder import Builder, Node
from specc.lower.padding import padded_shape, padder, pads_text, resolve_pads
from specc.lower.steps import Binder, Consts, Mode, Value
from specc.lower.weights import bn_affine, fold
from specc.lower.window import NO_MEMORY, KernelMemory, Pairs
from specc.ops.conv import ConvND, DepthwiseConv2D
from specc.ops.norm import BatchNorm


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
    # Imported here: the activation family's lowering is itself a call of this function.
    from specc.lower.ops.activation import activation, activation_memory

    memory = activation_memory(name, x.shape, b.itemsize)
    pairs = _reader_pads(b, node, x)
    if pairs is not None:
        # The reader pads its input: write the activation straight into that buffer, saving
        # a pass over the (often largest) tensor.
        def fill(interior: NDArray, src: NDArray) -> None:
            activation(src, name, alpha=alpha, out=interior)

        out = b.new(label or node.name, padded_shape(x.shape, pairs))
        b.padded[out.id] = (pairs, x.shape)
        fn = padder(pairs, fill)
        return b.emit(
            f"{name}+pad",
            node,
            (x,),
            out,
            fn,
            flops=x.size,
            scratch=memory.scratch,
            temp=memory.temp,
            detail=pads_text(pairs),
        )

    def run(ins: list[NDArray], out: NDArray | None, consts: Consts) -> NDArray:
        return activation(ins[0], name, alpha=alpha, out=out)

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


def bias_of(consts: Consts) -> NDArray | None:
    return consts[1] if len(consts) > 1 else None


def linear(
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
