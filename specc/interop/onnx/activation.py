"""ONNX export of the activations, as layers and as the `activation:` of conv and dense."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from specc.interop.onnx.graph import ANY, FIRST, Graph, Tensor
from specc.interop.onnx.merge import onnx_axis
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops import activation as act

Emit = Callable[[Graph, Tensor, str, "float | None", np.dtype], str]


def _unary(op_type: str) -> Emit:
    return lambda g, x, hint, alpha, dtype: g.node(op_type, [x.name], hint)


def _relu6(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    lo, hi = g.floats(0.0, dtype, f"{hint}/zero"), g.floats(6.0, dtype, f"{hint}/six")
    return g.node("Clip", [x.name, lo, hi], hint)


def _leaky(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    return g.node("LeakyRelu", [x.name], hint, alpha=float(0.3 if alpha is None else alpha))


def _elu(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    return g.node("Elu", [x.name], hint, alpha=float(1.0 if alpha is None else alpha))


def _softmax(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    axis = 1 if (x.layout == FIRST and x.rank > 2) else -1  # the channel axis
    return g.node("Softmax", [x.name], hint, axis=axis)


def _gelu(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    """x * (1 + erf(x / sqrt(2))) / 2: the exact form, as opset 17 has no Gelu."""
    if g.opset >= 20:
        return g.node("Gelu", [x.name], hint)
    root = g.floats(np.sqrt(2.0), dtype, f"{hint}/sqrt2")
    half, one = g.floats(0.5, dtype, f"{hint}/half"), g.floats(1.0, dtype, f"{hint}/one")
    erf = g.node("Erf", [g.node("Div", [x.name, root], hint)], hint)
    return g.node(
        "Mul", [g.node("Mul", [x.name, half], hint), g.node("Add", [erf, one], hint)], hint
    )


def _silu(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    return g.node("Mul", [x.name, g.node("Sigmoid", [x.name], hint)], hint)


def _hard_sigmoid(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    """max(0, min(1, x / 6 + 1 / 2)) is relu6(x + 3) / 6."""
    return g.node("HardSigmoid", [x.name], hint, alpha=1 / 6, beta=0.5)


def _mish(g: Graph, x: Tensor, hint: str, alpha: float | None, dtype: np.dtype) -> str:
    """x * tanh(softplus(x)); Mish itself is an opset-18 operator."""
    if g.opset >= 18:
        return g.node("Mish", [x.name], hint)
    softplus = g.node("Softplus", [x.name], hint)
    return g.node("Mul", [x.name, g.node("Tanh", [softplus], hint)], hint)


# The one table of this family: ONNX for each activation name the spec accepts.
ACTIVATIONS: dict[str, Emit] = {
    "relu": _unary("Relu"),
    "relu6": _relu6,
    "leaky_relu": _leaky,
    "elu": _elu,
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "softmax": _softmax,
    "gelu": _gelu,
    "silu": _silu,
    "hard_sigmoid": _hard_sigmoid,
    "hard_swish": _unary("HardSwish"),
    "hard_silu": _unary("HardSwish"),
    "mish": _mish,
    "softplus": _unary("Softplus"),
}


def activate(site: Site, x: Tensor, name: str | None, alpha: float | None = None) -> Tensor:
    """`x` through the activation `name` (unchanged for None), in the layout it has."""
    if name is None:
        return x
    out = ACTIVATIONS[name](site.graph, x, site.name, alpha, site.dtype)
    return Tensor(out, x.layout, x.shape)


@EXPORTS.register(act.Activation)
def _activation(site: Site) -> Tensor:
    x = site.inputs[0]
    site.graph.value(x, ANY)
    return activate(site, x, site.op.type, getattr(site.op, "alpha", None))


@EXPORTS.register(act.Softmax)
def _softmax_layer(site: Site) -> Tensor:
    """Softmax over one axis mapped to the value's layout; over several, exp(x - max) / sum
    with the reductions written out."""
    op = site.op
    assert isinstance(op, act.Softmax)
    g, x = site.graph, site.inputs[0]
    rank = len(x.shape)
    axes = [onnx_axis(a, rank, x.layout) for a in op.axes(rank)]
    if len(axes) == 1:
        return site.out(g.node("Softmax", [x.name], site.name, axis=axes[0]), x.layout)
    if g.opset >= 18:  # the axes of ReduceMax became an input
        top = g.node("ReduceMax", [x.name, g.ints(axes, f"{site.name}/axes")], site.name)
    else:
        top = g.node("ReduceMax", [x.name], site.name, axes=axes, keepdims=1)
    e = g.node("Exp", [g.node("Sub", [x.name, top], site.name)], site.name)
    total = g.node("ReduceSum", [e, g.ints(axes, f"{site.name}/axes")], site.name, keepdims=1)
    return site.out(g.node("Div", [e, total], site.name), x.layout)
