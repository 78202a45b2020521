"""A checked spec and its weights as an ONNX model: one walk over the layers, in spec order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from specc.interop.onnx.graph import FIRST, LAST, Graph, Layout, Tensor, onnx_shape
from specc.interop.onnx.site import EXPORTS, ExportError, Site, export_site
from specc.ops.base import Op
from specc.passes.shapes import Shapes

DEFAULT_OPSET = 17  # LayerNormalization's opset; what onnxruntime and serving engines all run
MIN_OPSET = 17


def unsupported(shapes: Shapes) -> list[str]:
    """'type (count, first: layer)' for every layer type ONNX export has no mapping for."""
    found: dict[str, list[str]] = {}
    for layer in shapes.model.layers:
        op: Op | None = layer.op
        while op is not None:
            if EXPORTS.find(type(op)) is None:
                found.setdefault(op.type, []).append(layer.name)
            op = op.inner
    return [f"{t} ({len(names)}, first: {names[0]})" for t, names in sorted(found.items())]


def export_model(
    shapes: Shapes,
    weights: Mapping[str, NDArray],
    *,
    opset: int = DEFAULT_OPSET,
    layout: Layout = LAST,
    dtype: str = "float32",
) -> Any:
    """The ONNX ModelProto of a complete, checked spec with these (checked) weights.

    Inputs and outputs are channels-last like the spec unless `layout` is FIRST; the batch axis
    and every symbolic dim are dim_params. Raises ExportError for what ONNX cannot express.
    """
    from onnx import TensorProto, helper

    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} is too old: specc exports opset {MIN_OPSET} or newer")
    missing = unsupported(shapes)
    if missing:
        raise ExportError("ONNX export has no mapping for the layer types " + "; ".join(missing))
    model = shapes.model
    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    g = Graph(opset)
    values: dict[str, Tensor] = {}
    graph_inputs = []
    integer = {x.name for x in model.inputs if x.integer}
    for x in model.inputs:
        # Indices have no channel axis: an integer input keeps its layout.
        t = Tensor(g.claim(x.name), LAST if x.integer else layout, x.type.shape)
        values[x.name] = t
        kind = TensorProto.INT32 if x.integer else elem
        graph_inputs.append(helper.make_tensor_value_info(t.name, kind, onnx_shape(t)))
    real: dict[str, Tensor] = {}  # integer inputs cast to the float type, made once
    outputs = set(model.outputs)
    needed = model.needed()
    for layer in model.layers:
        if layer.name not in needed:
            continue
        info = shapes.layers[layer.name]
        site = Site(
            g,
            layer.name,
            layer.op,
            tuple(
                _real(g, values[n], real, elem)
                if n in integer and layer.op.index_bound() is None
                else values[n]
                for n in layer.inputs
            ),
            info.output,
            {p.name: p for p in info.params},
            weights,
            np.dtype(dtype),
        )
        result = export_site(site)
        want = layout if layer.name in outputs else result.layout
        values[layer.name] = _named(g, result, layer.name, want)
    for t in values.values():
        if t.name not in outputs and t.name not in {x.name for x in model.inputs}:
            g.annotate(t, elem)
    graph_outputs = [  # an input returned as an output keeps its type
        helper.make_tensor_value_info(
            n, TensorProto.INT32 if n in integer else elem, onnx_shape(values[n])
        )
        for n in model.outputs
    ]
    graph = helper.make_graph(
        g.nodes, _identifier(model.name), graph_inputs, graph_outputs, g.initializers,
        value_info=g.value_info,
    )  # fmt: skip
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="specc",
        doc_string=model.description or model.name,
    )
    proto.ir_version = _ir_version(opset)
    if model.assume:  # read back by `specc import`: the symbols' congruences prove the merges
        from specc.interop.onnx.reader import ASSUME_KEY

        entries = "\n".join(str(a) for a in model.assume.entries)
        helper.set_model_props(proto, {ASSUME_KEY: entries})
    return proto


def _real(g: Graph, t: Tensor, made: dict[str, Tensor], elem: int) -> Tensor:
    """The integer input `t` as real values, for a layer that is not an embedding."""
    if t.name not in made:
        made[t.name] = Tensor(g.node("Cast", [t.name], t.name, to=elem), t.layout, t.shape)
    return made[t.name]


def _named(g: Graph, t: Tensor, name: str, layout: Layout) -> Tensor:
    """`t` as the value named `name` (the spec layer's name) in `layout`."""
    source = g.value(t, layout) if layout != t.layout else t.name
    final = layout if t.rank > 2 else t.layout
    producer = next((n for n in reversed(g.nodes) if n.output and n.output[0] == source), None)
    fresh = source not in g.claimed  # a spec name is never taken from its layer
    if producer is not None and fresh and source not in _read_names(g, producer):
        producer.output[0] = g.claim(name)
        _rename_converted(g, source, name)
    else:  # the value is a graph input or is read elsewhere already: name a copy of it
        g.node("Identity", [source], name, out=g.claim(name))
    return Tensor(name, final, t.shape)


def _read_names(g: Graph, producer: Any) -> set[str]:
    """Every value some node other than `producer` reads."""
    return {i for n in g.nodes if n is not producer for i in n.input}


def _rename_converted(g: Graph, old: str, new: str) -> None:
    for key, value in list(g._converted.items()):
        if value == old:
            g._converted[key] = new


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"


def _ir_version(opset: int) -> int:
    """The oldest IR version that carries the opset, so that older runtimes load the file."""
    from onnx import helper

    for _, ir_version, op_version, *_ in helper.VERSION_TABLE:
        if op_version >= opset:
            return int(ir_version)
    return int(helper.VERSION_TABLE[-1][1])


__all__ = ["DEFAULT_OPSET", "FIRST", "LAST", "ExportError", "export_model", "unsupported"]
