"""ONNX import of the operators that move values: Transpose (a change of layout, no layer),
Flatten, Reshape, Unsqueeze, Squeeze, Pad and Resize."""

from __future__ import annotations

import numpy as np

from specc.dims import Dim, product
from specc.interop.onnx.imports.common import explicit
from specc.interop.onnx.imports.site import Site, imports
from specc.interop.onnx.layout import Val, compose, first, identity
from specc.interop.onnx.patterns import named

MERGES = frozenset({"Add", "Sub", "Mul"})


@imports("Transpose")
def _transpose(site: Site) -> None:
    """Only the layout changes; a value the source named as a layer becomes a permute."""
    x = site.val(0)
    perm = site.attr("perm") or list(reversed(range(x.rank)))
    if perm[0] != 0:
        raise site.unsupported("that moves the batch axis")
    y = Val(x.ref, x.shape, compose(x.perm, tuple(perm)), nonneg=x.nonneg)
    if named(site.node.outputs[0]) and x.flat is None:
        y = site.as_perm(y, identity(x.rank), hint=None)
        if y.ref == x.ref and x.ref not in site.b.auto_named:  # a permute that keeps the order
            dims = tuple(range(1, x.rank))
            y = site.emit("permute", [y], {"dims": dims}, identity(x.rank), nonneg=x.nonneg)
    site.out(y)


def _flat_order(x: Val) -> tuple[int, ...] | None:
    """ONNX's flattening order of a permuted map, as positions of the spec's flattening."""
    sizes = [d for d in x.shape if isinstance(d, int)]
    if len(sizes) != len(x.shape):
        return None
    index = np.arange(int(np.prod(sizes))).reshape(sizes)
    order = index.transpose([p - 1 for p in x.perm[1:]]).reshape(-1)
    if np.array_equal(order, np.arange(order.size)):
        return ()
    return tuple(int(i) for i in order)


def flatten(site: Site, x: Val) -> None:
    """Flatten to (N, -1): in the spec's order when dense layers alone read the result (their
    kernel rows follow ONNX's order), else in ONNX's order after a permute."""
    if x.rank == 2 and x.flat is None and not named(site.node.outputs[0]):
        site.out(x)
        return
    order = _flat_order(x) if x.flat is None else None
    readers = site.b.users.get(site.node.outputs[0], [])
    dense_only = (
        readers
        and all(
            r.domain == "specc" and r.op_type == "Dense" and r.inputs[0] == site.node.outputs[0]
            for r in readers
        )
        and site.node.outputs[0] not in site.b.graph.outputs
    )
    if order == ():
        y = site.emit("flatten", [x], {}, identity(2), nonneg=x.nonneg)
    elif order is not None and dense_only:
        y = site.emit("flatten", [x], {}, identity(2), nonneg=x.nonneg)
        y = Val(y.ref, y.shape, y.perm, order, x.nonneg)
    else:
        plain = site.as_perm(x, identity(x.rank))
        y = site.emit("flatten", [plain], {}, identity(2), nonneg=x.nonneg)
    site.out(y)


@imports("Flatten")
def _flatten(site: Site) -> None:
    if int(site.attr("axis", 1)) != 1:
        raise site.unsupported("at an axis other than 1")
    flatten(site, site.val(0))


@imports("Reshape")
def _reshape(site: Site) -> None:
    x = site.val(0)
    target = site.const(1)
    if target is None:
        raise site.unsupported("to a shape computed from values whose shapes are unknown")
    from specc.interop.onnx.importer import BATCH

    shape = [int(d) for d in target.reshape(-1)]
    onnx_shape = x.onnx_shape
    if not site.attr("allowzero", 0):
        shape = [onnx_shape[i] if d == 0 else d for i, d in enumerate(shape)]  # type: ignore[misc]
    if not shape or not (shape[0] in ("N", BATCH, -1) or (shape[0] == 1 and site.b.static_batch)):
        raise site.unsupported(f"to {shape}, which changes the batch axis")
    rest = [-1 if d == BATCH else d for d in shape[1:]]
    if named(site.node.outputs[0]):
        pass  # the source's reshape layer: kept as one
    elif len(rest) == 1 and (rest[0] == -1 or rest[0] == product(x.shape)):
        flatten(site, x)
        return
    elif x.rank == 2 and len(rest) > 1 and all(d == 1 for d in rest[1:]):
        _unsqueeze_channels(site, x, len(rest))  # (N, C) -> (N, C, 1, 1)
        return
    plain = site.as_perm(x, identity(x.rank))
    dims: tuple[int | str, ...] = tuple(d if isinstance(d, int) else -1 for d in rest)
    site.out(
        site.emit("reshape", [plain], {"shape": dims}, identity(len(rest) + 1), nonneg=x.nonneg)
    )


def _unsqueeze_channels(site: Site, x: Val, rank: int) -> None:
    """(N, C) as (N, C, 1, ...): the spec's (1, ..., C), seen channels first."""
    c = x.shape[0]
    ones: tuple[int | str, ...] = (*(1,) * (rank - 1), c if isinstance(c, int) else -1)
    if all(u.op_type in MERGES for u in site.b.users.get(site.node.outputs[0], [])):
        # Merges broadcast from the last axis: the (C,) value serves as it is.
        site.out(Val(x.ref, (*(1,) * (rank - 1), x.shape[0]), first(rank + 1), nonneg=x.nonneg))
        return
    y = site.emit("reshape", [x], {"shape": ones}, first(rank + 1), nonneg=x.nonneg)
    site.out(y)


@imports("Unsqueeze")
def _unsqueeze(site: Site) -> None:
    x = site.val(0)
    axes = site.const(1)
    axes_list = [int(a) for a in (axes.reshape(-1) if axes is not None else site.attr("axes"))]
    rank = x.rank + len(axes_list)
    axes_list = sorted(a % rank for a in axes_list)
    if 0 in axes_list:
        raise site.unsupported("before the batch axis")
    if x.rank == 2 and axes_list == list(range(2, rank)):
        _unsqueeze_channels(site, x, rank - 1)
        return
    merges_only = all(u.op_type in MERGES for u in site.b.users.get(site.node.outputs[0], []))
    if (
        x.perm == identity(x.rank)
        and axes_list == list(range(1, len(axes_list) + 1))
        and merges_only
    ):
        # Leading axes of 1: what the spec's broadcasting gives a lower-rank input anyway.
        site.out(Val(x.ref, (*(1,) * len(axes_list), *x.shape), identity(rank), nonneg=x.nonneg))
        return
    plain = site.as_perm(x, identity(x.rank))
    shape: list[Dim] = list(plain.shape)
    for a in axes_list:
        shape.insert(a - 1, 1)
    dims = tuple(d if isinstance(d, int) else -1 for d in shape)
    site.out(site.emit("reshape", [plain], {"shape": dims}, identity(rank), nonneg=x.nonneg))


@imports("Squeeze")
def _squeeze(site: Site) -> None:
    x = site.val(0)
    axes = site.const(1)
    raw = axes.reshape(-1) if axes is not None else site.attr("axes")
    if raw is None:
        raise site.unsupported("without axes (it would depend on the batch size)")
    drop = {int(a) % x.rank for a in raw}
    if 0 in drop:
        raise site.unsupported("of the batch axis")
    plain = site.as_perm(x, identity(x.rank))
    shape = [d for i, d in enumerate(plain.shape, start=1) if i not in drop]
    if len(shape) == 1 and x.rank > 2 and x.perm == first(x.rank):
        flatten(site, x)  # (N, C, 1, 1) -> (N, C)
        return
    dims = tuple(d if isinstance(d, int) else -1 for d in shape)
    site.out(
        site.emit("reshape", [plain], {"shape": dims}, identity(len(shape) + 1), nonneg=x.nonneg)
    )


@imports("Pad")
def _pad(site: Site) -> None:
    """Zeros around spatial axes (as the spec sees them) are a zero_pad layer."""
    x = site.val(0)
    if site.attr("mode", "constant") != "constant" or site.has(3):
        raise site.unsupported("other than constant padding of every axis")
    value = site.const(2)
    if value is not None and value.size and float(value.reshape(-1)[0]) != 0.0:
        raise site.unsupported("with a value other than zero")
    pads = site.const(1)
    raw = [int(p) for p in (pads.reshape(-1) if pads is not None else site.attr("pads"))]
    r = x.rank
    pairs = [(0, 0)] * len(x.shape)
    for axis in range(r):
        if raw[axis] or raw[axis + r]:
            if axis == 0 or x.perm[axis] == 0 or x.perm[axis] == r - 1:
                raise site.unsupported("of the batch or channel axis")
            pairs[x.perm[axis] - 1] = (raw[axis], raw[axis + r])
    n = len(x.shape) - 1
    if n not in (1, 2, 3) or any(p < 0 for pair in pairs for p in pair):
        raise site.unsupported("that crops, or of other than 1 to 3 spatial axes")
    attrs = {"padding": explicit(tuple(pairs[:n]))}
    site.out(site.emit(f"zero_pad{n}d", [x], attrs, nonneg=x.nonneg))


@imports("Resize", "Upsample")
def _resize(site: Site) -> None:
    """Integer scales of the spatial axes: nearest (when it picks floor(i / f), as PyTorch's
    and Keras's nearest do) or bilinear at half-pixel centres (2-D)."""
    x = site.first(0)
    n = len(x.shape) - 1
    factors = _factors(site, x)
    mode = site.attr("mode", "nearest")
    coords = site.attr("coordinate_transformation_mode", "half_pixel")
    if site.node.op_type == "Upsample":
        coords = "asymmetric"
    attrs: dict[str, object] = {"size": factors[0] if len(set(factors)) == 1 else tuple(factors)}
    if mode == "nearest":
        if not all(
            _nearest_is_floor(site, coords, d, f) for d, f in zip(x.shape, factors, strict=False)
        ):
            raise site.unsupported(f"nearest with {coords} coordinates, which is not repetition")
    elif mode == "linear" and n == 2 and coords in ("half_pixel", "pytorch_half_pixel"):
        attrs["interpolation"] = "bilinear"
    else:
        raise site.unsupported(f"in mode {mode} with {coords} coordinates")
    site.out(site.emit(f"upsample{n}d", [x], attrs, nonneg=x.nonneg))


def _factors(site: Site, x: Val) -> list[int]:
    """The integer scale of each spatial axis, from `scales` or from `sizes`."""
    k = 1 if site.node.op_type == "Upsample" else 2
    scales = site.const(k)
    if scales is not None and scales.size:
        onnx_scales = [float(s) for s in scales.reshape(-1)]
    else:
        sizes = site.const(3)
        if sizes is None:
            raise site.unsupported("without constant scales or sizes")
        shape = x.onnx_shape
        if not all(isinstance(d, int) for d in shape[2:]):
            raise site.unsupported("to sizes on a symbolic axis")
        known = [d for d in shape[2:] if isinstance(d, int)]
        onnx_scales = [1.0, 1.0] + [
            int(s) / d for s, d in zip(sizes.reshape(-1)[2:], known, strict=True)
        ]
    if onnx_scales[:2] != [1.0, 1.0] or not all(s == int(s) and s >= 1 for s in onnx_scales[2:]):
        raise site.unsupported(f"by {onnx_scales}: only integer factors of the spatial axes")
    return [int(s) for s in onnx_scales[2:]]


def _nearest_is_floor(site: Site, coords: str, size: Dim, f: int) -> bool:
    """Whether this nearest resize picks input floor(i / f) for every output i."""
    if coords == "asymmetric" and site.attr("nearest_mode", "round_prefer_floor") == "floor":
        return True
    if f == 1:
        return True
    if not isinstance(size, int):
        return False
    out = np.arange(size * f, dtype=np.float64)
    if coords in ("half_pixel", "pytorch_half_pixel"):
        src = (out + 0.5) / f - 0.5
    elif coords == "asymmetric":
        src = out / f
    elif coords == "align_corners":
        src = out * (size - 1) / max(size * f - 1, 1)
    elif coords == "tf_half_pixel_for_nn":
        src = (out + 0.5) / f
    else:
        return False
    how = site.attr("nearest_mode", "round_prefer_floor")
    picked = {
        "floor": np.floor(src),
        "ceil": np.ceil(src),
        "round_prefer_floor": np.ceil(src - 0.5),
        "round_prefer_ceil": np.floor(src + 0.5),
    }.get(how)
    if picked is None:
        return False
    return bool(np.array_equal(np.clip(picked, 0, size - 1), out // f))
