"""Helpers the family importers share: compact attribute values and window padding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from specc.dims import Dim
from specc.interop.onnx.imports.site import Site
from specc.interop.onnx.layout import Val, first
from specc.ops.window import same_pads


def compact(values: Sequence[int]) -> int | tuple[int, ...]:
    """One int when every axis has the same value (how a spec is usually written)."""
    values = tuple(int(v) for v in values)
    return values[0] if len(set(values)) == 1 else values


def pairs_of(pads: Sequence[int] | None, n: int) -> tuple[tuple[int, int], ...]:
    """ONNX's [b1, b2, ..., e1, e2, ...] as (before, after) per axis."""
    p = [int(v) for v in pads] if pads else [0] * (2 * n)
    return tuple((p[i], p[i + n]) for i in range(n))


def explicit(pairs: tuple[tuple[int, int], ...]) -> Any:
    """Explicit padding written compactly: 3, [1, 2], or [[0, 1], [0, 1]]."""
    if all(a == b for a, b in pairs):
        return compact([a for a, _ in pairs])
    return tuple((a, b) for a, b in pairs)


def is_same(
    sizes: Sequence[Dim],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    pairs: tuple[tuple[int, int], ...],
) -> bool:
    """Whether the pads are TensorFlow's `same` for these sizes (a symbolic size only at
    stride 1, where `same` pads the dilated extent - 1 whatever the size)."""
    if not all(isinstance(n, int) or s == 1 for n, s in zip(sizes, strides, strict=True)):
        return False
    return all(
        same_pads(n if isinstance(n, int) else 1, k, s, d) == p
        for n, k, s, d, p in zip(sizes, kernel, strides, dilations, pairs, strict=True)
    )


def window_padding(
    site: Site,
    sizes: Sequence[Dim],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> Any:
    """The spec padding of a Conv or Pool node: 'valid', 'same', or explicit pairs."""
    n = len(kernel)
    auto = site.attr("auto_pad", "NOTSET")
    if auto == "VALID":
        return "valid"
    if auto == "SAME_UPPER":
        return "same"
    if auto == "SAME_LOWER":
        if not all(isinstance(s, int) for s in sizes):
            raise site.unsupported("with auto_pad SAME_LOWER on a symbolic axis")
        pairs = tuple(
            tuple(reversed(same_pads(s, k, st, d)))  # type: ignore[arg-type]
            for s, k, st, d in zip(sizes, kernel, strides, dilations, strict=True)
        )
    else:
        pairs = pairs_of(site.attr("pads"), n)
    if all(p == (0, 0) for p in pairs):
        return "valid"
    if is_same(sizes, kernel, strides, dilations, pairs):  # type: ignore[arg-type]
        return "same"
    return explicit(pairs)  # type: ignore[arg-type]


def ints(site: Site, key: str, n: int, default: int) -> tuple[int, ...]:
    value = site.attr(key)
    return tuple(int(v) for v in value) if value else (default,) * n


def per_channel(site: Site, x: Val, *arrays: NDArray) -> tuple[Val, list[NDArray]] | None:
    """`x` and each constant as one value per spec channel; when they vary along ONNX's axis 1
    instead (channels first), `x` is first seen channels first (a permute where needed)."""
    found = [channel_vector(x, a) for a in arrays]
    if all(v is not None for v in found):
        return x, found  # type: ignore[return-value]
    if x.rank > 2 and x.perm != first(x.rank):
        shape = list(x.onnx_shape)
        on_axis1 = all(
            a.ndim == x.rank and a.shape[1] == shape[1] and a.size == a.shape[1] for a in arrays
        )
        if on_axis1:
            y = site.as_perm(x, first(x.rank))
            found = [channel_vector(y, a) for a in arrays]
            if all(v is not None for v in found):
                return y, found  # type: ignore[return-value]
    return None


def channel_vector(x: Val, c: NDArray) -> NDArray | None:
    """A constant that broadcasts over `x` as one value per spec channel, as a (C,) vector
    (None when it varies along another axis or does not have C values)."""
    rank, channels = x.rank, x.shape[-1] if x.shape else None
    if c.ndim > rank or not isinstance(channels, int):
        return None
    full = (1,) * (rank - c.ndim) + tuple(c.shape)
    axis = x.perm.index(rank - 1)
    if full[axis] != channels or any(n != 1 for i, n in enumerate(full) if i != axis):
        return None
    return np.asarray(c).reshape(-1)
