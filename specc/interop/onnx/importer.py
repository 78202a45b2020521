"""An ONNX graph as a spec: fold constants, match exporters' patterns, then one walk over the
nodes in order, each mapped by its family's importer (`imports/`) to spec layers.

The result is a `specc.ir.Model` (checked by `specc.api.check_model`), the layers as the YAML
writer needs them, and the weights keyed `<layer>.<param>` in the spec's (Keras) layouts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from specc.assume import NONE, Assumptions
from specc.assume import parse as parse_assumption
from specc.dims import Dim, symbol
from specc.interop.onnx.fold import FOLDS, FoldConstants, evaluate
from specc.interop.onnx.imports.site import (
    IMPORTS,
    Emitted,
    Site,
    Unsupported,
    WeightLayout,
    key,
)
from specc.interop.onnx.layout import Const, Perm, Val, first, identity
from specc.interop.onnx.patterns import named, rewrite
from specc.interop.onnx.reader import GraphInput, ImportFailed, Node, OnnxGraph
from specc.ir import Input, Layer, Model, TensorType
from specc.ops.base import REGISTRY, Param, Problem
from specc.ops.common import IDENTIFIER

# Operators that want their input channels first: a graph input they read is declared
# channels last, seen through `first` (anything else keeps ONNX's order).
CHANNELS_FIRST = frozenset(
    {
        "Conv",
        "ConvTranspose",
        "MaxPool",
        "AveragePool",
        "BatchNormalization",
        "Resize",
        "GlobalAveragePool",
        "GlobalMaxPool",
        "InstanceNormalization",
        "LRN",
    }
)


@dataclass(frozen=True)
class Imported:
    """A spec made from another framework's model: the checked IR model, the layers as
    written, the input shapes, outputs, weights (Keras layouts) and what was dropped."""

    model: Model
    layers: tuple[Emitted, ...]
    inputs: dict[str, tuple[Dim, ...]]
    outputs: tuple[str, ...]
    weights: dict[str, NDArray]
    notes: tuple[str, ...]
    dtypes: dict[str, str] = field(default_factory=dict)  # inputs that are not float32
    assume: Assumptions = NONE  # what the source's spec assumed of its symbols


class Builder:
    """The spec under construction: the value of every ONNX name, the layers, their names."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.values: dict[str, Val | Const] = {n: Const(a) for n, a in graph.constants.items()}
        self.layers: list[Emitted] = []
        self.shapes: dict[str, tuple[Dim, ...]] = {}
        self.names: set[str] = set()
        self.users = graph.consumers()
        self.notes: list[str] = []
        self.auto_named: set[str] = set()  # layers not named by the source
        self.chain_inputs: dict[str, list[Val]] = {}  # add/multiply layers a chain may extend
        self.static_batch = any(x.shape[:1] == (1,) for x in graph.inputs)

    # -- names --------------------------------------------------------------------------------
    def name_for(self, node: Node, hint: str | None) -> str:
        """A valid, unused spec name: the node's output if the source named it as a layer,
        else one made from the node's name (PyTorch's module path), else from `hint`."""
        out = node.outputs[0] if node.outputs else ""
        if hint is None and named(out) and out not in self.names:
            return self.claim(out)
        base = layer_name(node.name, node.op_type)
        if hint is not None:
            base = f"{base}_{hint}" if base else hint
        return self.claim(base or hint or node.op_type.lower())

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

    # -- layers -------------------------------------------------------------------------------
    def emit(
        self,
        site: Site,
        type_: str,
        inputs: list[Val],
        attrs: dict[str, Any],
        perm: Perm | None,
        weights: dict[str, tuple[NDArray, WeightLayout]],
        hint: str | None,
        nonneg: bool,
    ) -> Val:
        cls = REGISTRY.get(type_)
        if cls is None:
            raise site.unsupported(f"needs the layer type {type_}, which specc does not have")
        op = cls.from_mapping(attrs)
        types = [TensorType(v.shape) for v in inputs]
        try:
            out = op.infer(types)
        except Problem as problem:
            message = f"gives a {type_} layer that specc rejects: {problem.message}"
            raise site.unsupported(message) from None
        name = self.name_for(site.node, hint)
        self.layers.append(Emitted(name, type_, attrs, tuple(v.ref for v in inputs), weights))
        if name != site.node.outputs[0]:
            self.auto_named.add(name)
        self.shapes[name] = out.shape
        rank = len(out.shape) + 1
        if perm is None:
            perm = inputs[0].perm if inputs and inputs[0].rank == rank else identity(rank)
        return Val(name, out.shape, perm, nonneg=nonneg)

    def unflatten(self, v: Val, node: Node) -> Val:
        """A flattened permuted map read by something other than a dense layer (the flatten
        importer avoids this: it flattens in ONNX's order unless only dense layers read it)."""
        raise Unsupported(
            f"{node.op_type} reads a flattened channels-first map that only a dense layer "
            f"can read in ONNX's order (node {node.name})"
        )

    def rename(self, old: str, new: str) -> None:
        """Call the layer `old` `new` everywhere (the source named its value so)."""
        self.names.discard(old)
        self.names.add(new)
        self.auto_named.discard(old)
        for e in self.layers:
            if e.name == old:
                e.name = new
            e.inputs = tuple(new if i == old else i for i in e.inputs)
        self.shapes[new] = self.shapes.pop(old)
        for k, v in list(self.values.items()):
            if isinstance(v, Val) and v.ref == old:
                self.values[k] = Val(new, v.shape, v.perm, v.flat, v.nonneg)
        for k, vals in list(self.chain_inputs.items()):
            self.chain_inputs[k] = [
                Val(new, v.shape, v.perm, v.flat, v.nonneg) if v.ref == old else v for v in vals
            ]
        if old in self.chain_inputs:
            self.chain_inputs[new] = self.chain_inputs.pop(old)

    def adopt_names(self, node: Node) -> None:
        """A named output that is a layer made under another name (a Transpose back to
        channels last, an Identity copy, a fused activation) gives that layer its name."""
        for out in node.outputs:
            v = self.values.get(out)
            if (
                isinstance(v, Val)
                and named(out)
                and v.ref in self.auto_named
                and out not in self.names
                and v.flat is None
            ):
                self.rename(v.ref, out)


def layer_name(node_name: str, op_type: str) -> str:
    """PyTorch's `/layer1/layer1.0/conv1/Conv` as `layer1_0_conv1`: the module path without
    the operator, each scope's repeated prefix dropped, dots as underscores."""
    parts = [p for p in re.split(r"[/:]", node_name) if p]
    if len(parts) > 1 and re.fullmatch(r"[A-Z][A-Za-z]*(?:_\d+)?", parts[-1]):
        parts = parts[:-1]  # the operator: /fc/Gemm, /layer1/Add_1
    kept = [p for i, p in enumerate(parts) if i + 1 == len(parts) or not parts[i + 1].startswith(p)]
    text = "_".join(kept).replace(".", "_")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")


def import_graph(graph: OnnxGraph, name: str) -> Imported:
    """The spec of an ONNX graph; ImportFailed (with every unsupported operator) otherwise."""
    import specc.interop.onnx.imports  # noqa: F401  (registers every family's importers)

    assumed = _assumptions(graph)
    graph = rewrite(FoldConstants().call(graph).graph)
    _refuse_unsupported(graph)
    b = Builder(graph)
    inputs = _declare_inputs(b, graph, assumed)
    dtypes = {n: x.dtype for n, x in zip(inputs, graph.inputs, strict=True) if x.dtype != "float32"}
    for node in graph.nodes:
        if _fold(b, node):
            continue
        importer = IMPORTS.get(key(node))
        if importer is None:
            raise Unsupported(
                f"{node.op_type} computes on a value whose shape is not known when importing "
                f"(node {node.name})"
            )
        importer(Site(b, node))
        b.adopt_names(node)
    outputs = _outputs(b, graph)
    model = _model(name, inputs, b, outputs, dtypes, assumed)
    weights = _weights(b, model)
    return Imported(
        model, tuple(b.layers), inputs, outputs, weights, tuple(b.notes), dtypes, assumed
    )


def _assumptions(graph: OnnxGraph) -> Assumptions:
    """The recorded `assume:` entries about symbols of the inputs (others are dropped)."""
    names = {d for x in graph.inputs for d in x.shape if isinstance(d, str)}
    known = NONE
    for text in graph.assume:
        try:
            entry = parse_assumption(text)
        except ValueError:
            continue
        if entry.symbol in names:
            known, _ = known.add(entry)
    return known


def _refuse_unsupported(graph: OnnxGraph) -> None:
    found: dict[str, list[str]] = {}
    for node in graph.nodes:
        k = key(node)
        if k not in IMPORTS and (node.domain or node.op_type not in FOLDS):
            found.setdefault(node.op_type if not node.domain else k, []).append(node.name)
    if found:
        listed = "; ".join(f"{t} ({len(n)}, first: {n[0]})" for t, n in sorted(found.items()))
        raise ImportFailed(f"the spec cannot express the ONNX operators {listed}")


def _fold(b: Builder, node: Node) -> bool:
    """Evaluate a node whose inputs are known (Shape: of a value whose shape is known)."""
    if node.op_type not in FOLDS or node.domain:
        return False
    ins: list[NDArray | None] = []
    for name in node.inputs:
        v = b.values.get(name) if name else None
        if isinstance(v, Const):
            ins.append(v.array)
        elif isinstance(v, Val) and node.op_type == "Shape":
            try:
                ins.append(np.empty([_batch_or(d) for d in v.onnx_shape], np.int8))
            except _NotFoldable:
                return False
        else:
            ins.append(None)
    value = evaluate(node, ins)
    if value is None:
        return False
    if node.op_type == "Shape":
        value = np.where(value == BATCH_PLACEHOLDER_SIZE, BATCH, value)
    b.values[node.outputs[0]] = Const(value)
    return True


# The batch size a Shape reports: a number no real axis has, so that a Reshape target built
# from it is recognised as "keep the batch". Symbolic spec dims cannot be folded.
BATCH = 1 << 40
BATCH_PLACEHOLDER_SIZE = 0


def _batch_or(d: object) -> int:
    if d == "N":
        return BATCH_PLACEHOLDER_SIZE
    if not isinstance(d, int):
        raise _NotFoldable
    return d


class _NotFoldable(Exception):
    pass


def _declare_inputs(
    b: Builder, graph: OnnxGraph, assumed: Assumptions
) -> dict[str, tuple[Dim, ...]]:
    out: dict[str, tuple[Dim, ...]] = {}
    for x in graph.inputs:
        name = b.claim(x.name if named(x.name) else layer_name(x.name, "") or "input")
        shape = _per_sample(x, assumed)
        rank = len(shape) + 1
        wants_first = rank > 2 and any(u.op_type in CHANNELS_FIRST for u in b.users.get(x.name, []))
        perm = first(rank) if wants_first else identity(rank)
        spec_shape = tuple(shape[perm.index(j) - 1] for j in range(1, rank))
        out[name] = spec_shape
        b.values[x.name] = Val(name, spec_shape, perm)
    return out


def _per_sample(x: GraphInput, assumed: Assumptions = NONE) -> tuple[Dim, ...]:
    """The shape without the batch axis; named dims become symbols, unknown ones an error."""
    if len(x.shape) < 2:
        raise ImportFailed(
            f"the input {x.name} has shape {list(x.shape)}; specc needs a batch axis and at "
            "least one more"
        )
    dims: list[Dim] = []
    for d in x.shape[1:]:
        if isinstance(d, int) and d > 0:
            dims.append(d)
        elif isinstance(d, str) and re.match(IDENTIFIER, d):
            dims.append(assumed.form(d) if assumed.about(d) else symbol(d))
        else:
            raise ImportFailed(
                f"the input {x.name} has shape {list(x.shape)}: give each axis after the batch "
                "a size or a name (a symbolic dim)"
            )
    return tuple(dims)


def _outputs(b: Builder, graph: OnnxGraph) -> tuple[str, ...]:
    outs: list[str] = []
    for o in graph.outputs:
        v = b.values.get(o)
        if not isinstance(v, Val):
            raise ImportFailed(f"the output {o} is a constant: the spec has nothing to compute")
        if v.perm != identity(v.rank):
            b.notes.append(f"the output {v.ref} is channels last (the ONNX model's is not)")
        ref = v.ref
        layers = {e.name for e in b.layers}
        if ref not in layers:  # the output is a model input: a spec names it with an identity
            ref = _unique(layer_name(o, "Identity"), {ref, *layers})
            b.layers.append(Emitted(ref, "identity", {}, (v.ref,)))
        if ref not in outs:
            outs.append(ref)
    return tuple(outs)


def _unique(name: str, taken: set[str]) -> str:
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    return out


def _model(
    name: str,
    inputs: dict[str, tuple[Dim, ...]],
    b: Builder,
    outputs: tuple[str, ...],
    dtypes: dict[str, str],
    assumed: Assumptions,
) -> Model:
    layers = []
    for i, e in enumerate(b.layers):
        op = REGISTRY[e.type].from_mapping(e.attrs)
        layers.append(Layer(e.name, op, e.inputs, i))
    ins = tuple(
        Input(n, TensorType(s), dtype=dtypes.get(n, "float32"))  # type: ignore[arg-type]
        for n, s in inputs.items()
    )
    return Model(name, "", ins, tuple(layers), outputs, assume=assumed)


def _weights(b: Builder, model: Model) -> dict[str, NDArray]:
    """Every weight in the spec's layout, as the inferred Params declare it."""
    from specc.interop.layouts import from_torch
    from specc.passes.shapes import infer

    shapes = infer(model)
    out: dict[str, NDArray] = {}
    for e in b.layers:
        info = shapes.layers.get(e.name)
        if info is None:
            continue
        params = {p.name: p for p in info.params}
        for pname, (array, layout) in e.weights.items():
            param = params[pname]
            a = np.asarray(array, np.float32)
            a = from_torch(a, param) if layout == "torch" else a.reshape(_concrete(param, a))
            out[f"{e.name}.{pname}"] = a
    return out


def _concrete(param: Param, a: NDArray) -> tuple[int, ...]:
    """The parameter's shape for the array `a`: a shape may depend on a symbolic input dim
    (a batch norm after a flatten of [T, ...]), while the ONNX weight has the size it was
    exported at; one symbolic axis takes what is left, several take `a`'s own axes."""
    symbolic = [i for i, d in enumerate(param.shape) if not isinstance(d, int)]
    if not symbolic:
        return tuple(int(d) for d in param.shape)  # type: ignore[arg-type]
    if len(symbolic) == 1:
        return tuple(-1 if i in symbolic else int(d) for i, d in enumerate(param.shape))  # type: ignore[arg-type]
    if a.ndim == len(param.shape):
        return tuple(a.shape)
    raise ImportFailed(f"the weight {param.name} has symbolic dims {param.shape}")


def count_ops(graph: OnnxGraph) -> Counter[str]:
    return Counter(n.op_type for n in graph.nodes)
