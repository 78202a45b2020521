"""Constant folding: the nodes whose inputs are all known are evaluated with NumPy.

Exporters compute shapes in the graph (Shape, Gather, Concat, Reshape...) and keep weights
behind Identity or Cast nodes; once folded, those subgraphs are constants and the patterns and
the importer see only the layers. The importer calls `evaluate` again as it walks, when a
Shape reads a value whose shape it knows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from specc.interop.onnx.reader import Node, OnnxGraph

Fold = Callable[[Node, list[NDArray]], NDArray]


def _axes(node: Node, ins: list[NDArray], at: int) -> list[int] | None:
    """An axes list given as an attribute (older opsets) or as input `at` (newer ones)."""
    if len(ins) > at and ins[at] is not None and ins[at].size:
        return [int(a) for a in ins[at].reshape(-1)]
    value = node.attr("axes")
    return None if value is None else [int(a) for a in value]


def _slice(node: Node, ins: list[NDArray]) -> NDArray:
    x = ins[0]
    starts = ins[1].reshape(-1) if len(ins) > 1 else node.attr("starts")
    ends = ins[2].reshape(-1) if len(ins) > 2 else node.attr("ends")
    axes = _axes(node, ins, 3) or list(range(len(starts)))
    steps = ins[4].reshape(-1) if len(ins) > 4 else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for a, s, e, st in zip(axes, starts, ends, steps, strict=True):
        index[int(a)] = slice(int(s), int(e), int(st))
    return x[tuple(index)]


def _reshape(node: Node, ins: list[NDArray]) -> NDArray:
    x, shape = ins[0], [int(d) for d in ins[1].reshape(-1)]
    if not node.attr("allowzero", 0):
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def _squeeze(node: Node, ins: list[NDArray]) -> NDArray:
    axes = _axes(node, ins, 1)
    return np.squeeze(ins[0], axis=None if axes is None else tuple(axes))


def _unsqueeze(node: Node, ins: list[NDArray]) -> NDArray:
    x, axes = ins[0], _axes(node, ins, 1) or []
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = np.expand_dims(x, a)
    return x


def _cast(node: Node, ins: list[NDArray]) -> NDArray:
    from onnx import helper

    return ins[0].astype(helper.tensor_dtype_to_np_dtype(node.attr("to")))


def _concat(node: Node, ins: list[NDArray]) -> NDArray:
    return np.concatenate(ins, axis=node.attr("axis", 0))


def _gather(node: Node, ins: list[NDArray]) -> NDArray:
    return np.take(ins[0], ins[1], axis=node.attr("axis", 0))


def _shape(node: Node, ins: list[NDArray]) -> NDArray:
    shape = np.asarray(ins[0].shape, np.int64)
    start, end = node.attr("start", 0), node.attr("end")
    return shape[start:end]


def _binary(f: Callable[[NDArray, NDArray], NDArray]) -> Fold:
    return lambda node, ins: np.asarray(f(ins[0], ins[1]))


def _div(a: NDArray, b: NDArray) -> NDArray:
    if np.issubdtype(a.dtype, np.integer):
        return np.trunc(a / b).astype(a.dtype)  # ONNX's integer division truncates
    return a / b


def _constant_of_shape(node: Node, ins: list[NDArray]) -> NDArray:
    value = node.attr("value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)
    return np.full([int(d) for d in ins[0].reshape(-1)], fill[0], fill.dtype)


# ONNX operators evaluated when every input is known (empty optional inputs come as None).
FOLDS: dict[str, Fold] = {
    "Identity": lambda node, ins: ins[0],
    "Cast": _cast,
    "Shape": _shape,
    "Gather": _gather,
    "Concat": _concat,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Slice": _slice,
    "Reshape": _reshape,
    "Transpose": lambda node, ins: np.transpose(ins[0], node.attr("perm")),
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": _binary(_div),
    "Equal": _binary(np.equal),
    "Where": lambda node, ins: np.where(ins[0], ins[1], ins[2]),
    "Sqrt": lambda node, ins: np.sqrt(ins[0]),
    "Max": lambda node, ins: np.asarray(np.maximum.reduce(np.broadcast_arrays(*ins))),
    "Min": lambda node, ins: np.asarray(np.minimum.reduce(np.broadcast_arrays(*ins))),
    "Floor": lambda node, ins: np.floor(ins[0]),
    "Ceil": lambda node, ins: np.ceil(ins[0]),
    "Neg": lambda node, ins: np.negative(ins[0]),
    "Range": lambda node, ins: np.arange(ins[0].item(), ins[1].item(), ins[2].item()).astype(
        ins[0].dtype
    ),
    "ConstantOfShape": _constant_of_shape,
    "Size": lambda node, ins: np.asarray(ins[0].size, np.int64),
    "Expand": lambda node, ins: ins[0] * np.ones([int(d) for d in ins[1]], ins[0].dtype),
}


def evaluate(node: Node, ins: list[NDArray | None]) -> NDArray | None:
    """The node's (first) output for these known inputs, or None when it is not foldable."""
    fold = FOLDS.get(node.op_type)
    if fold is None or node.domain or len(node.outputs) != 1:
        return None
    if any(x is None for i, x in enumerate(ins) if node.inputs[i]):
        return None
    try:
        return np.asarray(fold(node, ins))  # type: ignore[arg-type]
    except (ValueError, IndexError, TypeError):
        return None  # left to the importer, which reports what it cannot do


@dataclass(frozen=True)
class FoldResult:
    graph: OnnxGraph
    folded: int


class FoldConstants:
    """Evaluate, in order, every node whose inputs are all constants; drop it from the graph.

    Shape nodes are folded later, by the importer, which knows the shapes of layer outputs."""

    def call(self, graph: OnnxGraph) -> FoldResult:
        constants = dict(graph.constants)
        kept: list[Node] = []
        for node in graph.nodes:
            ins = [constants.get(name) if name else None for name in node.inputs]
            value = None if node.op_type == "Shape" else evaluate(node, ins)
            if value is None:
                kept.append(node)
            else:
                constants[node.outputs[0]] = value
        new = OnnxGraph(
            kept, constants, graph.inputs, graph.outputs, graph.opset, graph.producer, graph.name
        )
        return FoldResult(new, len(graph.nodes) - len(kept))
