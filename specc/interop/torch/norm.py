"""PyTorch export of batch_norm: nn.BatchNorm1d/2d/3d with Keras's epsilon and momentum."""

from __future__ import annotations

from specc.interop.pysource import call
from specc.interop.torch.site import FIRST, GENERATORS, Site, Value
from specc.ops.norm import BatchNorm

# Keras updates moving = momentum * moving + (1 - momentum) * batch with momentum 0.99;
# PyTorch's momentum weighs the batch: 1 - 0.99.
MOMENTUM = 0.01


@GENERATORS.register(BatchNorm)
def _batch_norm(site: Site) -> Value:
    """With only one of gamma and beta, the module is not affine and the one there is becomes
    a parameter of its own, so that the parameter count is the spec's."""
    op = site.op
    assert isinstance(op, BatchNorm)
    x = site.inputs[0]
    c, rank = site.channels(), x.rank
    if rank > 4:
        raise site.fail(f"has no module for {rank} axes per sample")
    affine = op.scale and op.center
    kwargs: dict[str, object] = {"eps": float(op.epsilon), "momentum": MOMENTUM}
    if not affine:
        kwargs["affine"] = "False"
    bn = site.module(call(f"nn.BatchNorm{max(rank - 1, 1)}d", c, **kwargs))
    y = f"{bn}({site.input(0, FIRST)})"
    if affine:
        site.load("gamma", f"{bn}.weight")
        site.load("beta", f"{bn}.bias")
    site.load("moving_mean", f"{bn}.running_mean")
    site.load("moving_variance", f"{bn}.running_var")
    out = site.assign(y, FIRST)
    view = f".view(-1{', 1' * (rank - 1)})" if rank > 1 else ""
    for param, op_text, init in (("gamma", "*", "ones"), ("beta", "+", "zeros")):
        if not affine and param in site.params:
            vector = site.module(f"nn.Parameter(torch.{init}({c}))", suffix=param)
            site.load(param, vector)
            out = site.assign(f"{out.code} {op_text} {vector}{view}", FIRST)  # a line each
    return out
