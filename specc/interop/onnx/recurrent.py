"""ONNX export of lstm, gru and bidirectional: the standard LSTM and GRU operators (layout 0,
(T, N, in)), with Keras's gate order converted and its kernels transposed; a bidirectional
layer is one operator with direction "bidirectional", its two outputs then merged."""

from __future__ import annotations

import numpy as np

from specc.interop.onnx.graph import LAST, Tensor
from specc.interop.onnx.site import EXPORTS, ExportError, Site
from specc.ir import weight_key
from specc.ops.recurrent import DIRECTIONS, GRU, LSTM, Bidirectional, Recurrent

# Keras gate blocks in ONNX's order: LSTM i, f, c, o -> i, o, f, c; GRU z, r, h is the same.
GATE_ORDER = {"lstm": (0, 3, 1, 2), "gru": (0, 1, 2)}
# The spec's activations that ONNX's recurrent operators take (with their alpha, and beta),
# in Keras's meaning: leaky_relu's slope is specc's 0.3, elu's alpha 1, None the identity.
ONNX_ACTIVATIONS: dict[str | None, tuple[str, tuple[float, ...]]] = {
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "relu": ("Relu", ()),
    "leaky_relu": ("LeakyRelu", (0.3,)),
    "elu": ("Elu", (1.0,)),
    None: ("Affine", (1.0, 0.0)),
}


@EXPORTS.register(LSTM, GRU)
def _recurrent(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Recurrent)
    return _emit(site, op, ("",), "forward")


@EXPORTS.register(Bidirectional)
def _bidirectional(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Bidirectional)
    return _emit(site, op.layer, tuple(f"{d}_" for d in DIRECTIONS), "bidirectional", op.merge_mode)


def _emit(
    site: Site, op: Recurrent, prefixes: tuple[str, ...], direction: str, merge: str = "concat"
) -> Tensor:
    g, name, u = site.graph, site.name, op.units
    x = g.node("Transpose", [site.value(0, LAST)], name, perm=[1, 0, 2])  # (T, N, in)
    w, r, b = (_stacked(site, [_param(site, op, p, kind) for p in prefixes]) for kind in "WRB")
    funcs, alphas, betas = _activations(site, op, len(prefixes))
    g.node(
        "LSTM" if isinstance(op, LSTM) else "GRU",
        [x, w, r, *([b] if b else [])],
        name,
        outputs=2,
        hidden_size=u,
        direction=direction,
        layout=0,
        activations=funcs,
        activation_alpha=alphas,
        activation_beta=betas,
        linear_before_reset=1 if isinstance(op, GRU) and op.reset_after else None,
    )
    y, y_h = g.nodes[-1].output  # Y (all steps) and Y_h (the last state)
    if op.return_sequences:  # Y (T, D, N, u) -> (N, T, D, u)
        y = g.node("Transpose", [y], name, perm=[2, 0, 1, 3])
        axis = 2
    else:  # Y_h (D, N, u) -> (N, D, u)
        y = g.node("Transpose", [y_h], name, perm=[1, 0, 2])
        axis = 1
    if merge == "concat":  # the directions side by side on the last axis, forward first
        keep = g.ints([0] * axis + [-1], f"{name}/shape")
        return site.out(g.node("Reshape", [y, keep], name), LAST)
    reduce = {"sum": "ReduceSum", "mul": "ReduceProd", "ave": "ReduceMean"}[merge]
    axes = g.ints([axis], f"{name}/axes")
    if reduce == "ReduceSum":
        merged = g.node(reduce, [y, axes], name, keepdims=0)
    else:  # ReduceProd and ReduceMean take their axes as an attribute until opset 18
        merged = (
            g.node(reduce, [y, axes], name, keepdims=0)
            if g.opset >= 18
            else g.node(reduce, [y], name, axes=[axis], keepdims=0)
        )
    return site.out(merged, LAST)


def _param(site: Site, op: Recurrent, prefix: str, kind: str) -> str:
    """One direction's W (1, G*u, in), R (1, G*u, u) or B (1, 2*G*u) in ONNX's gate order,
    from an initializer named after the spec parameter it holds; "" for a missing bias."""
    g, u, order = site.graph, op.units, GATE_ORDER[op.type]
    param = {"W": "kernel", "R": "recurrent_kernel", "B": "bias"}[kind]
    key = weight_key(site.name, prefix + param)
    if key not in site.weights:
        return ""
    array = np.asarray(site.weights[key], site.dtype)
    n = 1 if array.ndim == 1 else array.shape[0]
    array = array.reshape(n, len(order), u)[:, order].reshape(n, -1)
    if kind != "B":
        return g.const(np.ascontiguousarray(array.T[None]), key)
    bias = g.const(array.reshape(1, -1), key)
    if n == 2:  # GRU reset_after: the input and the recurrent bias, as ONNX's B has them
        return bias
    zeros = g.const(np.zeros_like(array.reshape(1, -1)), f"{key}/recurrent")
    return g.node("Concat", [bias, zeros], site.name, axis=1)


def _stacked(site: Site, names: list[str]) -> str:
    """The directions' inputs as one (num_directions, ...) input; "" when there is no bias."""
    if not names[0]:
        return ""
    return names[0] if len(names) == 1 else site.graph.node("Concat", names, site.name, axis=0)


def _activations(
    site: Site, op: Recurrent, directions: int
) -> tuple[list[str] | None, list[float] | None, list[float] | None]:
    """ONNX's activations list (f, g[, h] per direction) and its alpha and beta values, or
    Nones when they are ONNX's defaults (sigmoid, then tanh)."""
    wanted = [op.recurrent_activation, op.activation]
    if isinstance(op, LSTM):
        wanted.append(op.activation)
    if wanted[0] == "sigmoid" and all(a == "tanh" for a in wanted[1:]):
        return None, None, None
    missing = sorted({str(a) for a in wanted if a not in ONNX_ACTIVATIONS})
    if missing:
        raise ExportError(
            f"{site.name}: ONNX's {op.type.upper()} operator has no activation "
            f"{' or '.join(missing)} (it takes {', '.join(str(k) for k in ONNX_ACTIVATIONS)})"
        )
    funcs: list[str] = []
    alphas: list[float] = []
    betas: list[float] = []
    for a in wanted * directions:
        func, values = ONNX_ACTIVATIONS[a]
        funcs.append(func)
        alphas += values[:1]
        betas += values[1:]
    return funcs, alphas or None, betas or None
