"""ONNX import of recurrent layers: specc's LSTM and GRU pattern (`patterns.Recurrent`) as
lstm, gru or bidirectional, with ONNX's gate order and transposed kernels undone."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from specc.interop.onnx.imports.site import Site, WeightLayout, imports
from specc.interop.onnx.layout import identity
from specc.ops.recurrent import DIRECTIONS

# ONNX's gate blocks in Keras's order (the inverse of the export's GATE_ORDER).
KERAS_ORDER = {"LSTM": (0, 2, 3, 1), "GRU": (0, 1, 2)}
ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu"}


@imports("specc.Recurrent")
def _recurrent(site: Site) -> None:
    kind = site.attr("kind")
    x = site.val(0)
    x = site.as_perm(x, identity(x.rank))
    w, r = site.const(1), site.const(2)
    if w is None or r is None:
        raise site.unsupported("with weights computed by the graph")
    b = site.const(3) if site.has(3) else None
    directions = int(w.shape[0])
    direction = site.attr("direction", "forward")
    if (direction == "bidirectional") != (directions == 2) or direction == "reverse":
        raise site.unsupported(f"with direction {direction}")
    if site.attr("clip") is not None or (kind == "LSTM" and site.has(6)):
        raise site.unsupported("with a cell clip or peepholes")
    units = int(site.attr("hidden_size", r.shape[-1]))
    reset_after = bool(site.attr("linear_before_reset", 0))
    layer: dict[str, Any] = {
        "type": kind.lower(),
        "units": units,
        **_activations(site, directions),
        "bias": b is not None,
        "return_sequences": bool(site.attr("return_sequences")),
    }
    if kind == "GRU":
        layer["reset_after"] = reset_after
    weights: dict[str, tuple[NDArray, WeightLayout]] = {}
    prefixes = [""] if directions == 1 else [f"{d}_" for d in DIRECTIONS]
    for d, prefix in enumerate(prefixes):
        order = KERAS_ORDER[kind]
        weights[f"{prefix}kernel"] = (_keras(w[d].T, order, units), "keras")
        weights[f"{prefix}recurrent_kernel"] = (_keras(r[d].T, order, units), "keras")
        if b is not None:
            halves = b[d].reshape(2, -1)
            bias = halves if kind == "GRU" and reset_after else halves.sum(0, keepdims=True)
            weights[f"{prefix}bias"] = (_keras(bias, order, units).reshape(-1), "keras")
    merge = site.attr("merge")
    if directions == 1:
        site.out(site.emit(layer.pop("type"), [x], layer, weights=weights))
        return
    attrs = {"layer": layer, "merge_mode": merge}
    site.out(site.emit("bidirectional", [x], attrs, weights=weights))


def _keras(array: NDArray, order: tuple[int, ...], units: int) -> NDArray:
    """(rows, G*u) in ONNX's gate order as Keras's."""
    rows = array.shape[0]
    return np.ascontiguousarray(array.reshape(rows, len(order), units)[:, order].reshape(rows, -1))


def _activations(site: Site, directions: int) -> dict[str, str | None]:
    """recurrent_activation and activation from ONNX's list (f, g[, h] per direction)."""
    funcs = site.attr("activations")
    if not funcs:
        return {"recurrent_activation": "sigmoid", "activation": "tanh"}
    funcs = [f.decode() if isinstance(f, bytes) else str(f) for f in funcs]
    alphas = list(site.attr("activation_alpha") or [])
    betas = list(site.attr("activation_beta") or [])
    names: list[str | None] = []
    for f in funcs:
        if f in ACTIVATIONS:
            names.append(ACTIVATIONS[f])
        elif f == "LeakyRelu" and alphas and np.isclose(alphas.pop(0), 0.3):
            names.append("leaky_relu")
        elif f == "Elu" and alphas and np.isclose(alphas.pop(0), 1.0):
            names.append("elu")
        elif f == "Affine" and alphas and betas and alphas.pop(0) == 1.0 and betas.pop(0) == 0:
            names.append(None)
        else:
            raise site.unsupported(f"with the activation {f} (or its alpha)")
    per = len(names) // directions
    if names[:per] * directions != names or per < 2 or len(set(names[1:per])) != 1:
        raise site.unsupported("with activations that differ between directions or cells")
    return {"recurrent_activation": names[0], "activation": names[1]}
