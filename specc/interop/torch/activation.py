"""PyTorch export of the activations, as layers and as the `activation:` of conv and dense."""

from __future__ import annotations

from collections.abc import Callable

from specc.interop.pysource import call, literal
from specc.interop.torch.site import FIRST, GENERATORS, Site, Value, define
from specc.ops import activation as act

define(
    "softmax",
    '''
def softmax(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """Softmax over several axes jointly: the values of each sample sum to 1 over `dims`."""
    e = (x - x.amax(dim=dims, keepdim=True)).exp()
    return e / e.sum(dim=dims, keepdim=True)
''',
)

# The one table of this family: the module for each activation name the spec accepts, given
# alpha (None: the spec's default) and the channel dim of the value it applies to.
Module = Callable[["float | None", int], str]
ACTIVATIONS: dict[str, Module] = {
    "relu": lambda alpha, dim: "nn.ReLU()",
    "relu6": lambda alpha, dim: "nn.ReLU6()",
    "leaky_relu": lambda alpha, dim: call(
        "nn.LeakyReLU", negative_slope=float(0.3 if alpha is None else alpha)
    ),
    "elu": lambda alpha, dim: call("nn.ELU", alpha=float(1.0 if alpha is None else alpha)),
    "sigmoid": lambda alpha, dim: "nn.Sigmoid()",
    "tanh": lambda alpha, dim: "nn.Tanh()",
    "softmax": lambda alpha, dim: call("nn.Softmax", dim=dim),  # over the channels
    "gelu": lambda alpha, dim: "nn.GELU()",  # exact (erf), as the spec's
    "silu": lambda alpha, dim: "nn.SiLU()",
    "hard_sigmoid": lambda alpha, dim: "nn.Hardsigmoid()",  # relu6(x + 3) / 6, as Keras 3's
    "hard_swish": lambda alpha, dim: "nn.Hardswish()",
    "hard_silu": lambda alpha, dim: "nn.Hardswish()",
    "mish": lambda alpha, dim: "nn.Mish()",
    "softplus": lambda alpha, dim: "nn.Softplus()",
}


def activate(site: Site, x: Value, name: str | None, alpha: float | None = None) -> Value:
    """`x` through the activation `name` (unchanged for None): a second module of the layer,
    named after the activation."""
    if name is None:
        return x
    module = site.module(ACTIVATIONS[name](alpha, _channel_dim(x)), suffix=name)
    return site.assign(f"{module}({x.code})", x.layout)


def _channel_dim(x: Value) -> int:
    return 1 if x.layout == FIRST else -1


@GENERATORS.register(act.Activation)
def _activation(site: Site) -> Value:
    x, op = site.inputs[0], site.op
    module = site.module(ACTIVATIONS[op.type](getattr(op, "alpha", None), _channel_dim(x)))
    return site.assign(f"{module}({x.code})", x.layout)


@GENERATORS.register(act.Softmax)
def _softmax(site: Site) -> Value:
    """Over one axis nn.Softmax; over several, all at once, the file's `softmax`."""
    op = site.op
    assert isinstance(op, act.Softmax)
    x = site.inputs[0]
    dims = tuple(x.axis(a) for a in op.axes(x.rank))
    if len(dims) == 1:
        module = site.module(call("nn.Softmax", dim=dims[0]))
        return site.assign(f"{module}({x.code})", x.layout)
    return site.assign(f"{site.helper('softmax')}({x.code}, {literal(dims)})", x.layout)
