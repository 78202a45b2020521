"""PyTorch export of the layers that move values: flatten and reshape (of channels-last
values, as the spec means them), dropout, zero padding and nearest-neighbour upsampling."""

from __future__ import annotations

from specc.interop.pysource import call, window
from specc.interop.torch.site import FIRST, GENERATORS, LAST, Site, Value
from specc.ops.reshape import Dropout, Flatten, Reshape, Upsample2D, ZeroPad


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


@GENERATORS.register(Upsample2D)
def _upsample(site: Site) -> Value:
    """Nearest-neighbour upsampling by whole factors repeats each cell, as Keras's does."""
    op = site.op
    assert isinstance(op, Upsample2D)
    module = site.module(call("nn.Upsample", scale_factor=window(op.factors), mode='"nearest"'))
    return site.assign(f"{module}({site.input(0, FIRST)})", FIRST)
