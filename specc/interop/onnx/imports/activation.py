"""ONNX import of activations, as layers or as the `activation:` of the layer before."""

from __future__ import annotations

from typing import Any

import numpy as np

from specc.interop.onnx.imports.site import Site, imports
from specc.interop.onnx.layout import Val
from specc.interop.onnx.patterns import named
from specc.ops.base import REGISTRY

NONNEG = frozenset({"relu", "relu6", "sigmoid", "softmax", "hard_sigmoid"})
DEFAULT_ALPHA = {"leaky_relu": 0.3, "elu": 1.0}


def activate(site: Site, type_: str, attrs: dict[str, Any] | None = None) -> None:
    """The activation `type_` of input 0: fused into the layer before when it has an
    `activation:` and nothing else reads its output, else a layer of its own."""
    attrs = attrs or {}
    x = site.val(0)
    if _fuse(site, x, type_, attrs):
        return
    site.out(site.emit(type_, [x], attrs, nonneg=type_ in NONNEG))


def _fuse(site: Site, x: Val, type_: str, attrs: dict[str, Any]) -> bool:
    b, value = site.b, site.node.inputs[0]
    last = b.layers[-1] if b.layers else None
    if last is None or last.name != x.ref or x.flat is not None:
        return False
    if "activation" not in REGISTRY[last.type]._attrs or last.attrs.get("activation"):
        return False
    if len(b.users.get(value, [])) != 1 or named(value) or value in b.graph.outputs:
        return False
    alpha = attrs.get("alpha")
    if alpha is not None and not np.isclose(alpha, DEFAULT_ALPHA[type_], rtol=1e-6):
        return False  # a fused activation takes the default alpha
    last.attrs["activation"] = type_
    last_val = Val(b.layers[-1].name, x.shape, x.perm, nonneg=type_ in NONNEG)
    site.out(last_val)
    return True


def _simple(op_type: str, type_: str) -> None:
    imports(op_type)(lambda site: activate(site, type_))


for _op, _type in (
    ("Relu", "relu"),
    ("Sigmoid", "sigmoid"),
    ("Tanh", "tanh"),
    ("specc.Silu", "silu"),
    ("specc.Gelu", "gelu"),
    ("HardSwish", "hard_swish"),
    ("Mish", "mish"),
    ("specc.Mish", "mish"),
    ("Softplus", "softplus"),
):
    _simple(_op, _type)


@imports("HardSigmoid")
def _hard_sigmoid(site: Site) -> None:
    """Only max(0, min(1, x / 6 + 1 / 2)) (PyTorch's and Keras 3's) is the layer."""
    alpha, beta = float(site.attr("alpha", 0.2)), float(site.attr("beta", 0.5))
    if not (np.isclose(alpha, 1 / 6, rtol=1e-6) and np.isclose(beta, 0.5, rtol=1e-6)):
        raise site.unsupported(f"with alpha {alpha} and beta {beta} (the layer's are 1/6, 1/2)")
    activate(site, "hard_sigmoid")


@imports("Gelu")
def _gelu(site: Site) -> None:
    if site.attr("approximate", "none") != "none":
        raise site.unsupported("with the tanh approximation")
    activate(site, "gelu")


@imports("LeakyRelu")
def _leaky(site: Site) -> None:
    activate(site, "leaky_relu", {"alpha": round(float(site.attr("alpha", 0.01)), 7)})


@imports("Elu")
def _elu(site: Site) -> None:
    activate(site, "elu", {"alpha": round(float(site.attr("alpha", 1.0)), 7)})


@imports("Clip")
def _clip(site: Site) -> None:
    lo, hi = site.const(1), site.const(2)
    lo_v = float(lo.reshape(-1)[0]) if lo is not None and lo.size else site.attr("min")
    hi_v = float(hi.reshape(-1)[0]) if hi is not None and hi.size else site.attr("max")
    if lo_v == 0.0 and hi_v == 6.0:
        activate(site, "relu6")
    elif lo_v == 0.0 and (hi_v is None or hi_v == float("inf")):
        activate(site, "relu")
    else:
        raise site.unsupported(f"to [{lo_v}, {hi_v}] (only [0, 6] and [0, inf) are layers)")


@imports("Softmax")
def _softmax(site: Site) -> None:
    x = site.val(0)
    default = -1 if site.b.graph.opset >= 13 else 1
    axis = int(site.attr("axis", default)) % x.rank
    if site.b.graph.opset < 13 and axis != x.rank - 1:
        raise site.unsupported("over several axes (opset < 13)")
    try:
        spec_axis = x.spec_axis(axis)
    except ValueError:
        raise site.unsupported("over the batch axis") from None
    if spec_axis == len(x.shape) - 1:
        activate(site, "softmax")
    else:
        site.out(site.emit("softmax", [x], {"axis": spec_axis}, nonneg=True))


@imports("Identity", "Dropout")
def _identity(site: Site) -> None:
    """Dropout is the identity at inference; neither becomes a layer, unless the source
    names the copy of a graph input as an output."""
    v = site.b.values[site.node.inputs[0]]
    out = site.node.outputs[0]
    b = site.b
    if isinstance(v, Val) and out in b.graph.outputs and named(out) and v.ref not in b.auto_named:
        v = site.emit("identity", [v], {})
    site.b.values[out] = v
