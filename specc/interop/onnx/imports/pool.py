"""ONNX import of pooling: MaxPool and AveragePool (explicit padding as zero_pad where it is
exact), and global pooling (fused by patterns from GlobalAveragePool, ReduceMean, Flatten...)."""

from __future__ import annotations

from specc.interop.onnx.imports.common import compact, ints, is_same, pairs_of
from specc.interop.onnx.imports.site import Site, imports
from specc.interop.onnx.layout import Val, first, identity


@imports("MaxPool", "AveragePool")
def _pool(site: Site) -> None:
    """Spec pools pad only as `same` (padding left out of averages). Other padding is a
    zero_pad layer before a `valid` pool: exact for averages that count the padding, and for
    maxima of values known to be >= 0 (after a relu), where a zero never wins."""
    x = site.first(0)
    kind = "max" if site.node.op_type == "MaxPool" else "avg"
    kernel = tuple(int(k) for k in site.attr("kernel_shape"))
    n = len(kernel)
    if n > 3 or set(ints(site, "dilations", n, 1)) != {1} or len(site.node.outputs) > 1:
        raise site.unsupported("with dilations or indices")
    strides = ints(site, "strides", n, 1)
    sizes = x.shape[:-1]
    auto = site.attr("auto_pad", "NOTSET")
    pairs = pairs_of(site.attr("pads"), n)
    if auto == "SAME_UPPER":
        padding, pairs = "same", ((0, 0),) * n
    elif auto == "VALID":
        padding, pairs = "valid", ((0, 0),) * n
    elif auto != "NOTSET":
        raise site.unsupported(f"with auto_pad {auto}")
    elif site.attr("ceil_mode", 0):
        padding, pairs = "valid", _ceil_pairs(site, sizes, kernel, strides, pairs)
    else:
        padding = "valid"
    include = kind == "avg" and bool(site.attr("count_include_pad", 0))
    if any(p != (0, 0) for p in pairs):
        if is_same(sizes, kernel, strides, (1,) * n, pairs) and not include:
            padding, pairs = "same", ((0, 0),) * n
        elif (kind == "max" and x.nonneg) or include:
            x = site.emit(
                f"zero_pad{n}d", [x], {"padding": _explicit(pairs)}, hint="pad", nonneg=x.nonneg
            )
        else:
            what = (
                "a max pool of values that may be negative"
                if kind == "max"
                else ("an average without the padding in its divisor")
            )
            raise site.unsupported(f"with padding {list(pairs)} other than `same` on {what}")
    attrs = {
        "pool": compact(kernel),
        "stride": None if strides == kernel else compact(strides),
        "padding": padding,
    }
    site.out(site.emit(f"{kind}_pool{n}d", [x], attrs, nonneg=x.nonneg))


def _explicit(pairs: tuple[tuple[int, int], ...]) -> object:
    from specc.interop.onnx.imports.common import explicit

    return explicit(pairs)


def _ceil_pairs(site: Site, sizes, kernel, strides, pairs):  # type: ignore[no-untyped-def]
    """ceil_mode: the pads grown after each axis by what the last, partial window needs
    (PyTorch's rule: a window must start inside the input or its left padding)."""
    out = []
    for n, k, s, (b, a) in zip(sizes, kernel, strides, pairs, strict=True):
        if not isinstance(n, int):
            raise site.unsupported("with ceil_mode on a symbolic axis")
        count = -(-(n + b + a - k) // s) + 1
        if (count - 1) * s >= n + b:
            count -= 1
        out.append((b, max(a, (count - 1) * s + k - n - b)))
    if site.node.op_type == "AveragePool" and tuple(out) != tuple(pairs):
        raise site.unsupported("with ceil_mode adding a partial window")
    return tuple(out)


@imports("specc.GlobalPool")
def _global(site: Site) -> None:
    x = site.val(0)
    axes = site.attr("axes")
    if axes is None:
        x = site.first(0)
    else:
        spatial = set(range(len(x.shape) - 1))
        try:
            reduced = {x.spec_axis(int(a)) for a in axes}
        except ValueError:
            raise site.unsupported("over the batch axis") from None
        if reduced != spatial:
            x = site.first(0)  # reduces ONNX's spatial axes of a (N, C, ...) value?
            if {int(a) % x.rank for a in axes} != set(range(2, x.rank)):
                raise site.unsupported(f"over the axes {list(axes)}, not every spatial axis")
    keep = bool(site.attr("keepdims", 1))
    kind = site.attr("kind")
    y = site.emit(f"global_{kind}_pool", [x], {"keepdims": keep}, nonneg=x.nonneg)
    if keep:
        site.out(Val(y.ref, y.shape, x.perm, nonneg=x.nonneg))
    else:
        site.out(Val(y.ref, y.shape, identity(2), nonneg=x.nonneg))


__all__ = ["first"]
