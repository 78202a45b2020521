"""A Keras graph as a spec: one walk over the layers in order, each mapped by its family's
table (`<family>.py`) to spec layers whose shapes are inferred as they are added; then the
weights, read from `model.weights.h5` in Keras's order and checked against the spec's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from specc.dims import Dim, symbol
from specc.interop.keras.imports import load_families
from specc.interop.keras.imports.reader import KerasGraph, Node, Ref
from specc.interop.keras.imports.site import MAPPINGS, KerasLayer, Mapped, Unsupported, map_layer
from specc.interop.onnx.importer import Imported
from specc.interop.onnx.imports.site import Emitted
from specc.interop.onnx.reader import ImportFailed
from specc.ir import Input, Layer, Model, TensorType
from specc.ops.base import REGISTRY, Problem

if TYPE_CHECKING:
    from specc.interop.keras.imports.weights import WeightsFile

# Names for the axes Keras leaves open (None), by the input's per-sample rank.
AXIS_NAMES = {1: ("T",), 2: ("T", "F"), 3: ("H", "W", "C"), 4: ("D", "H", "W", "C")}


@dataclass
class _Built:
    """The spec so far: names taken, layers, every Keras output's spec value and shape."""

    names: set[str] = field(default_factory=set)
    layers: list[Emitted] = field(default_factory=list)
    values: dict[Ref, tuple[str, tuple[Dim, ...]]] = field(default_factory=dict)
    weighted: list[tuple[str, str, Mapped]] = field(default_factory=list)

    def claim(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", base).strip("_-") or "layer"
        if not re.match(r"[A-Za-z_]", base):
            base = f"l{base}"
        name, i = base, 1
        while name in self.names:
            i += 1
            name = f"{base}_{i}"
        self.names.add(name)
        return name


def import_keras(graph: KerasGraph, name: str, weights: WeightsFile | None) -> Imported:
    """The spec of a Keras graph; ImportFailed (listing every unsupported class) otherwise."""
    load_families()
    refuse_unsupported(graph)
    b = _Built()
    inputs = _declare_inputs(b, graph)
    for node in graph.nodes:
        _add(b, node)
    outputs = tuple(dict.fromkeys(_value(b, r, "the model's outputs")[0] for r in graph.outputs))
    model = Model(
        name,
        "",
        tuple(Input(n, TensorType(s)) for n, s in inputs.items()),
        tuple(Layer(e.name, _op(e.type, e.attrs), e.inputs, i) for i, e in enumerate(b.layers)),
        outputs,
    )
    arrays = _weights(b, model, weights) if weights is not None else {}
    return Imported(model, tuple(b.layers), inputs, outputs, arrays, ())


def refuse_unsupported(graph: KerasGraph) -> None:
    found: dict[str, list[str]] = {}
    for node in graph.nodes:
        if node.cls not in MAPPINGS:
            found.setdefault(node.cls, []).append(node.name)
    if found:
        listed = "; ".join(f"{c} ({len(n)}, first: {n[0]})" for c, n in sorted(found.items()))
        raise ImportFailed(f"the spec cannot express the Keras layers {listed}")


def _declare_inputs(b: _Built, graph: KerasGraph) -> dict[str, tuple[Dim, ...]]:
    out: dict[str, tuple[Dim, ...]] = {}
    used: set[str] = set()
    for keras_name, batch_shape in graph.inputs.items():
        if len(batch_shape) < 2:
            raise ImportFailed(
                f"the input {keras_name} has shape {list(batch_shape)}; specc needs a batch "
                "axis and at least one more"
            )
        dims = batch_shape[1:]
        names = AXIS_NAMES.get(len(dims), tuple(f"L{i + 1}" for i in range(len(dims))))
        shape: list[Dim] = []
        for d, axis in zip(dims, names, strict=True):
            if isinstance(d, int) and d > 0:
                shape.append(d)
                continue
            s, i = axis, 1
            while s in used:
                i += 1
                s = f"{axis}{i}"
            used.add(s)
            shape.append(symbol(s))
        name = b.claim(keras_name)
        out[name] = tuple(shape)
        b.values[(keras_name, 0)] = (name, tuple(shape))
    return out


def _value(b: _Built, ref: Ref, where: str) -> tuple[str, tuple[Dim, ...]]:
    if ref not in b.values:
        if (ref[0], 0) in b.values:
            raise ImportFailed(f"{where} read output {ref[1]} of {ref[0]}; specc's layers have one")
        raise ImportFailed(f"{where} read {ref[0]}, which the model does not define")
    return b.values[ref]


def _add(b: _Built, node: Node) -> None:
    ins = [_value(b, r, f"the layer {node.name}") for r in node.inputs]
    if not ins:
        raise ImportFailed(f"the {node.cls} layer {node.name} reads no tensor")
    layer = KerasLayer(node.cls, node.name, node.config, tuple(s for _, s in ins))
    mapped = map_layer(layer)
    if not mapped:  # computes nothing: its output is its input
        b.values[(node.name, 0)] = ins[0]
        return
    current = ins
    for m in mapped:
        op = _op(m.type, m.attrs)
        try:
            out = op.infer([TensorType(s) for _, s in current])
        except Problem as problem:
            raise layer.unsupported(
                f"gives a {m.type} layer specc rejects: {problem.message}"
            ) from None
        spec_name = b.claim(node.name + m.suffix)
        b.layers.append(Emitted(spec_name, m.type, m.attrs, tuple(n for n, _ in current)))
        if m.weights or m.constants:
            b.weighted.append((spec_name, node.key, m))
        current = [(spec_name, out.shape)]
    b.values[(node.name, 0)] = current[0]


def _op(type_: str, attrs: dict[str, Any]) -> Any:
    return REGISTRY[type_].from_mapping({"type": type_, **attrs})


def _weights(b: _Built, model: Model, file: WeightsFile) -> dict[str, Any]:
    """Every weight, in the spec's (Keras's) layout, checked against the inferred shapes."""
    import numpy as np

    from specc.passes.shapes import infer

    shapes = infer(model)
    out: dict[str, Any] = {}
    for spec_name, key, m in b.weighted:
        if spec_name not in shapes.layers:  # a bug: the check below says what
            raise ImportFailed(f"the imported spec does not infer at {spec_name}")
        params = {p.name: p for p in shapes.layers[spec_name].params}
        arrays = dict(zip(m.weights, file.arrays(key, m.groups, len(m.weights)), strict=True))
        for pname, value in m.constants.items():
            size = _sizes(params[pname].shape, spec_name)
            arrays[pname] = np.broadcast_to(np.asarray(value, np.float32).reshape(-1), size)
        for pname, array in arrays.items():
            want = _sizes(params[pname].shape, spec_name)
            if tuple(array.shape) != want:
                raise ImportFailed(
                    f"the weight {pname} of {spec_name} has shape {list(array.shape)} in the "
                    f"file; the spec's {m.type} layer needs {list(want)}"
                )
            out[f"{spec_name}.{pname}"] = np.array(array, np.float32)  # 0-d stays 0-d
    return out


def _sizes(shape: tuple[Dim, ...], layer: str) -> tuple[int, ...]:
    if not all(isinstance(d, int) for d in shape):
        raise ImportFailed(f"the layer {layer} has weights of symbolic size {list(shape)}")
    return tuple(int(d) for d in shape)  # type: ignore[arg-type]


__all__ = ["Unsupported", "import_keras", "refuse_unsupported"]
