"""Padding in a plan (resolved, a step of its own, or done by the producer), and window text."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node
from specc.lower.steps import Consts, Value
from specc.lower.window import Pairs
from specc.ops.conv import WindowOp
from specc.ops.window import same_pads


def resolve_pads(op: WindowOp, spatial: tuple[int, ...]) -> Pairs:
    """Explicit (before, after) pairs per axis; 'same' resolved for these concrete sizes."""
    padding = op.pads
    if padding == "same":
        return tuple(
            same_pads(n, k, s, d)
            for n, k, s, d in zip(spatial, op.kernel_size, op.strides, op.dilations, strict=True)
        )
    return padding


def no_pads(rank: int) -> Pairs:
    """(0, 0) on each of `rank` axes: for kernels whose input is already padded."""
    return ((0, 0),) * rank


def pad(b: Builder, node: Node, x: Value, pairs: Pairs, name: str | None = None) -> Value:
    """`x` with zeros around its spatial axes, written into a buffer of the plan (or `x` itself)."""
    if not any(a or z for a, z in pairs):
        return x
    out = b.new(name or f"{node.name}:pad", padded_shape(x.shape, pairs))
    return b.emit("pad", node, (x,), out, padder(pairs), detail=pads_text(pairs))


def padded_shape(shape: tuple[int, ...], pairs: Pairs) -> tuple[int, ...]:
    inner = (n + a + z for n, (a, z) in zip(shape[1:-1], pairs, strict=True))
    return (shape[0], *inner, shape[-1])


def pads_text(pairs: Pairs) -> str:
    return " ".join(f"({a},{z})" for a, z in pairs)


def padded_input(b: Builder, node: Node, op: WindowOp) -> Value:
    """The input of a window op, zero-padded as the op needs (at the top level the padding
    rewrite has already made it a step of its own, so this pads only inside wrappers)."""
    x = node.inputs[0]
    return pad(b, node, x, resolve_pads(op, x.shape[1:-1]))


Fill = Callable[[NDArray, NDArray], object]


def padder(
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


def window_text(k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...] = ()) -> str:
    """A window for a step's detail: "3x3", then "/2x2" and " dilation 2x2" when not 1."""
    text = "x".join(map(str, k))
    if set(s) != {1}:
        text += "/" + "x".join(map(str, s))
    if d and set(d) != {1}:
        text += " dilation " + "x".join(map(str, d))
    return text
