"""Layers with a kernel and a bias, then their activation (into a padded buffer when the
padding rewrite asks for it: `Builder.pad_output`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod

from numpy.typing import NDArray

from specc.lower.builder import Builder, Node
from specc.lower.padding import padded_shape, padder, pads_text
from specc.lower.steps import Binder, Consts, Mode, Value
from specc.lower.window import NO_MEMORY, KernelMemory


def activate(
    b: Builder,
    node: Node,
    x: Value,
    name: str | None,
    alpha: float | None = None,
    label: str | None = None,
    axis: tuple[int, ...] | None = None,
) -> Value:
    """`x` through the activation `name` (nothing for None), in place when `x` is dead after;
    `axis` are softmax's axes of the array (batch axis 0), the last by default."""
    if name is None:
        return x
    # Imported here: the activation family's lowering is itself a call of this function.
    from specc.lower.ops.activation import activation, activation_memory

    memory = activation_memory(name, x.shape, b.itemsize, axis)
    pairs, b.pad_output = b.pad_output, None
    if pairs is not None:
        # The reader pads its input: write the activation straight into that buffer, saving
        # a pass over the (often largest) tensor.
        def fill(interior: NDArray, src: NDArray) -> None:
            activation(src, name, alpha=alpha, axis=axis, out=interior)

        out = b.new(label or node.name, padded_shape(x.shape, pairs))
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
        return activation(ins[0], name, alpha=alpha, axis=axis, out=out)

    return b.elementwise(name, node, x, run, flops=x.size, memory=memory, name=label)


def _affine(
    node: Node, kernel_shape: tuple[int, ...] | None = None, kernel: str = "kernel"
) -> Binder:
    """The binder of a kernel (the parameter `kernel`) and optional bias."""
    kernel_key, bias_key = node.key(kernel), node.key("bias")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        kernel, bias = weights[kernel_key], weights.get(bias_key)
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
    kernel_shape: tuple[int, ...] | None = None,
    mode: Mode = "out",
    flops: int,
    memory: KernelMemory = NO_MEMORY,
    temp: int = 0,
    detail: str = "",
    kernel: str = "kernel",
) -> Value:
    """A layer with a kernel (the parameter `kernel`) and optional bias, then its activation."""
    out_shape = node.out_shape
    params = dict(node.params)
    const_bytes = (prod(params[kernel]) + (out_shape[-1] if "bias" in params else 0)) * b.itemsize
    out = b.new(node.name, out_shape, kind="arena")
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
        detail=detail + (" +bias" if "bias" in params else ""),
        bind=_affine(node, kernel_shape, kernel),
        const_bytes=const_bytes,
    )
    return activate(b, node, out, node.op.output_activation())
