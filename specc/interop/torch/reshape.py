"""PyTorch export of the layers that move values: flatten and reshape (of channels-last
values, as the spec means them), permute, identity, dropout, zero padding and upsampling."""

from __future__ import annotations

from specc.interop.pysource import call, window
from specc.interop.torch.site import FIRST, GENERATORS, LAST, Site, Value
from specc.ops.reshape import Dropout, Flatten, Identity, Permute, Reshape, Upsample, ZeroPad


@GENERATORS.register(Flatten)
def _flatten(site: Site) -> Value:
    return site.assign(f"torch.flatten({site.input(0, LAST)}, 1)", LAST)


@GENERATORS.register(Reshape)
def _reshape(site: Site) -> Value:
    """The batch, then the spec's shape; its one symbolic dim (if any) is left to PyTorch."""
    dims = site.output.shape
    symbolic = [d for d in dims if not isinstance(d, int)]
    if len(symbolic) > 1:
        raise site.fail(f"to a shape with {len(symbolic)} symbolic dims is not supported")
    sizes = ", ".join(str(d) if isinstance(d, int) else "-1" for d in dims)
    x = site.inputs[0]
    return site.assign(f"{site.input(0, LAST)}.reshape(len({x.code}), {sizes})", LAST)


@GENERATORS.register(Dropout)
def _dropout(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Dropout)
    x = site.inputs[0]
    module = site.module(call("nn.Dropout", p=float(op.rate)))
    return site.assign(f"{module}({x.code})", x.layout)


@GENERATORS.register(ZeroPad)
def _zero_pad(site: Site) -> Value:
    op = site.op
    assert isinstance(op, ZeroPad)
    pads = tuple(p for pair in reversed(op.pairs) for p in pair)  # the last axis first
    module = site.module(call(f"nn.ZeroPad{op.spatial}d", pads))
    return site.assign(f"{module}({site.input(0, FIRST)})", FIRST)


@GENERATORS.register(Upsample)
def _upsample(site: Site) -> Value:
    """Nearest-neighbour upsampling by whole factors repeats each cell, as Keras's does;
    PyTorch's bilinear without aligned corners samples at half-pixel centres, as Keras's."""
    op = site.op
    assert isinstance(op, Upsample)
    mode = op.mode()
    kwargs: dict[str, object] = {"scale_factor": window(op.factors), "mode": f'"{mode}"'}
    if mode != "nearest":
        kwargs["align_corners"] = "False"
    module = site.module(call("nn.Upsample", **kwargs))
    return site.assign(f"{module}({site.input(0, FIRST)})", FIRST)


@GENERATORS.register(Permute)
def _permute(site: Site) -> Value:
    """The spec's axes are reordered where the input's layout keeps them, and the result is
    in the input's layout: output axis i is input axis dims[i] - 1, with the batch first (and
    in a channels-first result, the new last axis second)."""
    op = site.op
    assert isinstance(op, Permute)
    x = site.inputs[0]
    order = [x.axis(a) for a in op.perm]
    if x.layout == FIRST and x.rank > 1:
        order = [order[-1], *order[:-1]]
    if order == sorted(order):
        return site.assign(x.code, x.layout)
    return site.assign(f"{x.code}.permute(0, {', '.join(map(str, order))})", x.layout)


@GENERATORS.register(Identity)
def _identity(site: Site) -> Value:
    x = site.inputs[0]
    return site.assign(x.code, x.layout)
