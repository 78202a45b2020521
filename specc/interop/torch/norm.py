"""PyTorch export of normalisation: nn.BatchNorm1d/2d/3d with Keras's epsilon and momentum,
nn.LayerNorm over the spec's axes, nn.GroupNorm, and scale as a per-channel parameter."""

from __future__ import annotations

from specc.interop.pysource import call, literal
from specc.interop.torch.site import FIRST, GENERATORS, LAST, Site, Value
from specc.ops.norm import BatchNorm, GroupNorm, LayerNorm, Scale

# Keras updates moving = momentum * moving + (1 - momentum) * batch with momentum 0.99;
# PyTorch's momentum weighs the batch: 1 - 0.99.
MOMENTUM = 0.01


@GENERATORS.register(BatchNorm)
def _batch_norm(site: Site) -> Value:
    """With only one of gamma and beta, the module is not affine and the one there is becomes
    a parameter of its own, so that the parameter count is the spec's. Statistics are per
    channel: beyond three spatial axes, they are flattened into one for nn.BatchNorm1d."""
    op = site.op
    assert isinstance(op, BatchNorm)
    c, rank = site.channels(), site.inputs[0].rank
    affine = op.scale and op.center
    kwargs: dict[str, object] = {"eps": float(op.epsilon), "momentum": MOMENTUM}
    if not affine:
        kwargs["affine"] = "False"
    x = site.input(0, FIRST)
    if rank <= 4:
        bn = site.module(call(f"nn.BatchNorm{max(rank - 1, 1)}d", c, **kwargs))
        y = f"{bn}({x})"
    else:  # more spatial axes than nn.BatchNorm3d takes: as one
        bn = site.module(call("nn.BatchNorm1d", c, **kwargs))
        y = f"{bn}({x}.flatten(2)).view_as({x})"
    if affine:
        site.load("gamma", f"{bn}.weight")
        site.load("beta", f"{bn}.bias")
    site.load("moving_mean", f"{bn}.running_mean")
    site.load("moving_variance", f"{bn}.running_var")
    out = site.assign(y, FIRST)
    return out if affine else _own_vectors(site, out)


def channelwise(vector: str, x: Value) -> str:
    """A per-channel vector shaped to broadcast over `x`: (C, 1, 1) against a channels-first
    (N, C, H, W), as it is against a channels-last value."""
    if x.layout == FIRST and x.rank > 1:
        return f"{vector}[:, {', '.join(['None'] * (x.rank - 1))}]"
    return vector


def _own_vectors(site: Site, out: Value) -> Value:
    """gamma and beta (those the spec has) as parameters of their own, applied to `out` per
    channel: for a module that takes both or neither."""
    c = site.channels()
    for param, operator, init in (("gamma", "*", "ones"), ("beta", "+", "zeros")):
        if param in site.params:
            vector = site.module(f"nn.Parameter(torch.{init}({c}))", suffix=param)
            site.load(param, vector)
            out = site.assign(f"{out.code} {operator} {channelwise(vector, out)}", out.layout)
    return out


@GENERATORS.register(GroupNorm)
def _group_norm(site: Site) -> Value:
    """nn.GroupNorm's groups are runs of C / groups channels, as Keras's; the epsilon is
    added to the variance in both."""
    op = site.op
    assert isinstance(op, GroupNorm)
    affine = op.scale and op.center
    kwargs: dict[str, object] = {"eps": float(op.epsilon)}
    if not affine:
        kwargs["affine"] = "False"
    norm = site.module(call("nn.GroupNorm", op.groups, site.channels(), **kwargs))
    if affine:
        site.load("gamma", f"{norm}.weight")
        site.load("beta", f"{norm}.bias")
    out = site.assign(f"{norm}({site.input(0, FIRST)})", FIRST)
    return out if affine else _own_vectors(site, out)


@GENERATORS.register(LayerNorm)
def _layer_norm(site: Site) -> Value:
    """nn.LayerNorm normalises the last axes: on the channels-last value, with the spec's axes
    moved last first (and back after) where they are not. gamma and beta have those axes'
    shape, in their order; epsilon is added to the variance, as Keras does."""
    op = site.op
    assert isinstance(op, LayerNorm)
    x = site.inputs[0]
    axes = op.axes(x.rank)
    shape = tuple(x.shape[a] for a in axes)
    if not all(isinstance(d, int) for d in shape):
        raise site.fail(f"needs the normalised axes' sizes as numbers, not {shape}")
    kwargs: dict[str, object] = {"eps": float(op.epsilon)}
    if not op.scale:
        kwargs["elementwise_affine"] = "False"
    elif not op.center:
        kwargs["bias"] = "False"
    size = literal(shape) if len(shape) > 1 else shape[0]
    norm = site.module(call("nn.LayerNorm", size, **kwargs))
    if op.scale:
        site.load("gamma", f"{norm}.weight")
    if op.scale and op.center:
        site.load("beta", f"{norm}.bias")
    last = tuple(range(x.rank - len(axes), x.rank))
    source, moved = tuple(a + 1 for a in axes), tuple(a + 1 for a in last)
    value = site.input(0, LAST)
    if source != moved:
        value = f"{value}.movedim({literal(source)}, {literal(moved)})"
    y = f"{norm}({value})"
    if op.center and not op.scale:
        beta = site.module(f"nn.Parameter(torch.zeros({size}))", suffix="beta")
        site.load("beta", beta)
        y = f"{y} + {beta}"
    if source != moved:
        y = f"({y}).movedim({literal(moved)}, {literal(source)})"
    return site.assign(y, LAST)


@GENERATORS.register(Scale)
def _scale(site: Site) -> Value:
    """ConvNeXt's layer scale: the input times a learnt gamma per channel."""
    op = site.op
    assert isinstance(op, Scale)
    x = site.inputs[0]
    gamma = site.module(f"nn.Parameter(torch.full(({site.channels()},), {float(op.init_value)!r}))")
    site.load("gamma", gamma)
    return site.assign(f"{x.code} * {channelwise(gamma, x)}", x.layout)
