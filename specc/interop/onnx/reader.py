"""An ONNX file as plain Python: nodes with decoded attributes, constants as NumPy arrays.

Everything after the reader works on these small objects, not on protobufs, so that the
passes (constant folding, pattern matching) and the importer are testable with plain data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


class ImportFailed(Exception):
    """A model specc cannot import; the message says why (and names every unsupported op)."""


@dataclass
class Node:
    """One operator: its type, name, input and output value names and decoded attributes."""

    op_type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: str = ""

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


@dataclass(frozen=True)
class GraphInput:
    """A graph input that is not a constant: its name, full shape (ints, or dim names) and
    element type."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"  # "int32" for integer inputs (indices), else "float32"


@dataclass
class OnnxGraph:
    """The main graph: nodes in order, constants by value name, inputs and outputs."""

    nodes: list[Node]
    constants: dict[str, NDArray]
    inputs: list[GraphInput]
    outputs: list[str]
    opset: int
    producer: str = ""
    name: str = ""
    # The spec's `assume:` entries, as specc's exporter records them in the model's metadata.
    assume: tuple[str, ...] = ()

    def consumers(self) -> dict[str, list[Node]]:
        """The nodes that read each value (a node reading one value twice counts once)."""
        out: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in dict.fromkeys(node.inputs):
                if name:
                    out.setdefault(name, []).append(node)
        return out


def read_model(source: str | os.PathLike[str] | bytes) -> OnnxGraph:
    """Read an ONNX model from a path or from its bytes; ImportFailed when it cannot be."""
    try:
        import onnx
    except ImportError:
        raise ImportFailed(
            "the onnx package is needed to import ONNX models: pip install 'specc[onnx]'"
        ) from None
    try:
        if isinstance(source, bytes):
            proto = onnx.load_model_from_string(source)
        else:
            proto = onnx.load(os.fspath(source))
    except Exception as exc:  # protobuf's DecodeError and friends: not an ONNX file
        raise ImportFailed(f"cannot read an ONNX model: {type(exc).__name__}: {exc}") from None
    return from_proto(proto)


def from_proto(proto: Any) -> OnnxGraph:
    """The plain graph of a ModelProto."""
    from onnx import numpy_helper

    graph = proto.graph
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    nodes: list[Node] = []
    for i, n in enumerate(graph.node):
        attrs = {a.name: _attribute(a) for a in n.attribute}
        node = Node(
            n.op_type,
            n.name or f"{n.op_type}_{i}",
            list(n.input),
            list(n.output),
            attrs,
            n.domain if n.domain != "ai.onnx" else "",
        )
        if node.op_type == "Constant" and not node.domain:
            constants[node.outputs[0]] = _constant(node)
            continue
        nodes.append(node)
    inputs = [
        GraphInput(v.name, _shape(v), _dtype(v)) for v in graph.input if v.name not in constants
    ]
    return OnnxGraph(
        nodes,
        constants,
        inputs,
        [v.name for v in graph.output],
        opset,
        f"{proto.producer_name} {proto.producer_version}".strip(),
        graph.name,
        _assumed(proto),
    )


ASSUME_KEY = "specc.assume"  # metadata: the spec's `assume:` entries, one per line


def _assumed(proto: Any) -> tuple[str, ...]:
    for prop in proto.metadata_props:
        if prop.key == ASSUME_KEY:
            return tuple(line for line in prop.value.splitlines() if line.strip())
    return ()


def _attribute(a: Any) -> Any:
    from onnx import helper, numpy_helper

    value = helper.get_attribute_value(a)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8", "replace") for v in value]
    if a.type == a.TENSOR:
        return numpy_helper.to_array(value)
    return value


def _constant(node: Node) -> NDArray:
    """The value of a Constant node, whichever attribute holds it."""
    for key, value in node.attrs.items():
        if key == "value":
            return np.asarray(value)
        if key in ("value_float", "value_int"):
            return np.asarray(value, np.float32 if key == "value_float" else np.int64)
        if key in ("value_floats", "value_ints"):
            return np.asarray(value, np.float32 if key == "value_floats" else np.int64)
    raise ImportFailed(f"{node.name}: a Constant without a value this importer reads")


def _dtype(v: Any) -> str:
    """int32 for ONNX's integer element types (the spec's one integer input type)."""
    from onnx import TensorProto

    ints = (TensorProto.INT32, TensorProto.INT64, TensorProto.INT16, TensorProto.INT8)
    return "int32" if v.type.tensor_type.elem_type in ints else "float32"


def _shape(v: Any) -> tuple[int | str, ...]:
    t = v.type.tensor_type
    if not t.HasField("shape"):
        return ()
    return tuple(
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim
    )
