"""ONNX import of Slice: a cropping layer when it trims spatial axes, else a slice per axis."""

from __future__ import annotations

from specc.interop.onnx.imports.common import explicit
from specc.interop.onnx.imports.site import Site, imports

# Ends at or past this mean "to the end" (exporters write INT64_MAX or INT32_MAX).
TO_END = 2**31 - 1


@imports("Slice")
def _slice(site: Site) -> None:
    x = site.val(0)
    consts = [site.const(i) for i in range(1, 5)]
    if (
        consts[0] is None
        or consts[1] is None
        or (site.has(3) and consts[2] is None)
        or (site.has(4) and consts[3] is None)
    ):
        raise site.unsupported("with bounds computed from values whose shapes are unknown")
    starts = [int(v) for v in consts[0].reshape(-1)]
    ends = [int(v) for v in consts[1].reshape(-1)]
    axes = (
        [int(v) for v in consts[2].reshape(-1)]
        if consts[2] is not None
        else list(range(len(starts)))
    )
    steps = [int(v) for v in consts[3].reshape(-1)] if consts[3] is not None else [1] * len(starts)
    try:
        spec_axes = [x.spec_axis(a) for a in axes]
    except ValueError:
        raise site.unsupported("of the batch axis") from None
    if x.flat is not None:
        raise site.unsupported("of a flattened channels-first map")
    crop = _cropping(x.shape, spec_axes, starts, ends, steps)
    if crop is not None:
        n = len(x.shape) - 1
        site.out(site.emit(f"cropping{n}d", [x], {"cropping": explicit(crop)}, nonneg=x.nonneg))
        return
    y = x
    for axis, start, end, step in zip(spec_axes, starts, ends, steps, strict=True):
        if step < 1:
            raise site.unsupported("with a negative step")
        attrs = {
            "axis": axis if axis < len(x.shape) - 1 else -1,
            "start": start or None,
            "stop": None if end >= TO_END else end,
            "step": step,
        }
        y = site.emit("slice", [y], attrs, x.perm, nonneg=x.nonneg)
    site.out(y)


def _cropping(shape, axes, starts, ends, steps):  # type: ignore[no-untyped-def]
    """(before, after) per spatial axis, when the slice only trims spatial axes."""
    n = len(shape) - 1
    if n not in (1, 2, 3) or any(s != 1 for s in steps) or (n - 1 in axes and False):
        return None
    pairs = [(0, 0)] * n
    for axis, start, end in zip(axes, starts, ends, strict=True):
        if axis >= n or start < 0:
            return None
        if end >= TO_END:
            after = 0
        elif end < 0:
            after = -end
        elif isinstance(shape[axis], int) and end <= shape[axis]:
            after = shape[axis] - end
        else:
            return None
        pairs[axis] = (start, after)
    return tuple(pairs)
