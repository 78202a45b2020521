"""PyTorch export of pooling: nn.MaxPool/AvgPool (padding left out of averages, as Keras
does), and global pooling as a reduction over the spatial dims."""

from __future__ import annotations

from specc.interop.pysource import call, window
from specc.interop.torch.conv import window_padding
from specc.interop.torch.site import FIRST, GENERATORS, Site, Value
from specc.ops.pool import GlobalPool, Pool


@GENERATORS.register(Pool)
def _pool(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Pool)
    n, kind = op.spatial, op.kind
    padded = window_padding(site, op, same=False, fill='float("-inf")' if kind == "max" else "")
    kwargs: dict[str, object] = {}
    if op.strides != op.kernel_size:
        kwargs["stride"] = window(op.strides)
    if padded.argument is not None:
        kwargs["padding"] = padded.argument
        if kind == "avg":
            kwargs["count_include_pad"] = "False"
    name = "MaxPool" if kind == "max" else "AvgPool"
    pool = site.module(call(f"nn.{name}{n}d", window(op.kernel_size), **kwargs))
    x = site.input(0, FIRST)
    if kind == "max" or padded.pads is None:
        return site.assign(f"{pool}({padded.apply(x)})", FIRST)
    # Padding on one side only: divide the zero-padded sums by the count of real cells.
    ones = padded.apply(f"torch.ones_like({x}[:, :1])")
    return site.assign(f"{pool}({padded.apply(x)}) / {pool}({ones})", FIRST)


@GENERATORS.register(GlobalPool)
def _global_pool(site: Site) -> Value:
    op = site.op
    assert isinstance(op, GlobalPool)
    x = site.inputs[0]
    dims = tuple(range(2, x.rank + 1))
    reduce = "mean" if op.kind == "avg" else "amax"
    keep = ", keepdim=True" if op.keepdims else ""
    return site.assign(f"{site.input(0, FIRST)}.{reduce}(dim={dims!r}{keep})", FIRST)
