"""Pattern passes over an imported ONNX graph: the subgraphs exporters write for one layer
become one node of the `specc` domain that the importer maps to that layer.

Each pass is a small class with one `call(graph) -> PassResult`, run in order by `rewrite`.
A value whose name is a valid spec name marks a layer boundary that a pass never fuses across
(specc's own exporter names each layer's output after it, so a spec comes back layer for
layer; PyTorch's names, such as `/conv1/Conv_output_0`, are never valid spec names).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from specc.interop.onnx.reader import Node, OnnxGraph
from specc.ops.common import NAME

SPECC = "specc"  # the domain of fused nodes
_NAME = re.compile(NAME)


def named(value: str) -> bool:
    """Whether the source named this value as a layer (a valid spec name)."""
    return bool(_NAME.match(value))


@dataclass(frozen=True)
class PassResult:
    graph: OnnxGraph
    modified: bool


class Matcher:
    """The lookups a pattern needs: constants, producers and consumers of values."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.producer = {o: n for n in graph.nodes for o in n.outputs}
        self.users = graph.consumers()
        self.outputs = set(graph.outputs)

    def const(self, value: str) -> np.ndarray | None:
        return self.graph.constants.get(value)

    def scalar(self, value: str, expect: float, tol: float = 1e-4) -> bool:
        c = self.const(value)
        return c is not None and c.size == 1 and abs(float(c.reshape(-1)[0]) - expect) <= tol

    def only_user(self, value: str) -> Node | None:
        """The one node reading `value`, if it is read once, is no graph output and is not a
        value the source named as a layer."""
        users = self.users.get(value, [])
        if len(users) != 1 or value in self.outputs or named(value):
            return None
        return users[0]

    def other(self, node: Node, value: str) -> str | None:
        """The other input of a two-input node that reads `value`."""
        if len(node.inputs) != 2 or value not in node.inputs:
            return None
        a, b = node.inputs
        return b if a == value else a


class Rewrite:
    """A pass that replaces matched groups of nodes by one fused node each."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        """The fused node and the nodes it replaces, when a group starts at `node`."""
        raise NotImplementedError

    def call(self, graph: OnnxGraph) -> PassResult:
        m = Matcher(graph)
        replaced: dict[int, Node | None] = {}
        for node in graph.nodes:
            if id(node) in replaced:
                continue
            found = self.match(m, node)
            if found is None:
                continue
            fused, group = found
            if any(id(n) in replaced for n in group):
                continue
            for n in group:
                replaced[id(n)] = None
            replaced[id(group[-1])] = fused  # the fused node stands where the group ends
        if not replaced:
            return PassResult(graph, False)
        nodes: list[Node] = []
        for n in graph.nodes:
            if id(n) not in replaced:
                nodes.append(n)
            elif (made := replaced[id(n)]) is not None:
                nodes.append(made)
        g = graph
        return PassResult(
            OnnxGraph(nodes, g.constants, g.inputs, g.outputs, g.opset, g.producer, g.name), True
        )


def fused(op_type: str, last: Node, inputs: list[str], **attrs: object) -> Node:
    """A specc-domain node named and output as the last node of its group."""
    return Node(op_type, last.name, inputs, list(last.outputs), dict(attrs), SPECC)


class Silu(Rewrite):
    """x * Sigmoid(x) (PyTorch's SiLU before opset 20, Keras's swish)."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Sigmoid" or node.domain:
            return None
        x, s = node.inputs[0], node.outputs[0]
        mul = m.only_user(s)
        if mul is None or mul.op_type != "Mul" or m.other(mul, s) != x:
            return None
        return fused("Silu", mul, [x]), [node, mul]


class Gelu(Rewrite):
    """The erf form x * (1 + erf(x / sqrt(2))) / 2, in the orders PyTorch and specc write it."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Erf":
            return None
        scale = m.producer.get(node.inputs[0])
        if scale is None or m.only_user(scale.outputs[0]) is not node:
            return None
        x = self._scaled(m, scale)
        add = m.only_user(node.outputs[0])
        if x is None or add is None or add.op_type != "Add":
            return None
        one = m.other(add, node.outputs[0])
        if one is None or not m.scalar(one, 1.0):
            return None
        return self._product(m, x, add, [scale, node, add])

    @staticmethod
    def _scaled(m: Matcher, scale: Node) -> str | None:
        """x, when `scale` is x / sqrt(2) or x * (1 / sqrt(2))."""
        for x in scale.inputs:
            c = m.other(scale, x)
            if c is None or m.const(x) is not None:
                continue
            if scale.op_type == "Div" and scale.inputs[0] == x and m.scalar(c, np.sqrt(2)):
                return x
            if scale.op_type == "Mul" and m.scalar(c, 1 / np.sqrt(2)):
                return x
        return None

    @staticmethod
    def _product(
        m: Matcher, x: str, add: Node, group: list[Node]
    ) -> tuple[Node, list[Node]] | None:
        a = add.outputs[0]
        mul = m.only_user(a)
        if mul is None or mul.op_type != "Mul":
            return None
        other = m.other(mul, a)
        if other == x:  # (x * (1 + erf)) * 0.5
            half = m.only_user(mul.outputs[0])
            if half is None or half.op_type != "Mul":
                return None
            c = m.other(half, mul.outputs[0])
            if c is None or not m.scalar(c, 0.5):
                return None
            return fused("Gelu", half, [x]), [*group, mul, half]
        producer = m.producer.get(other or "")
        if producer is None or producer.op_type != "Mul" or x not in producer.inputs:
            return None  # ((x * 0.5) * (1 + erf))
        c = m.other(producer, x)
        if c is None or not m.scalar(c, 0.5) or m.only_user(producer.outputs[0]) is not mul:
            return None
        return fused("Gelu", mul, [x]), [*group, producer, mul]


class Dense(Rewrite):
    """MatMul by a 2-D constant, then an optional Add of a 1-D constant; and Gemm."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.domain:
            return None
        if node.op_type == "Gemm":
            return self._gemm(m, node)
        if node.op_type != "MatMul" or m.const(node.inputs[0]) is not None:
            return None
        w = m.const(node.inputs[1])
        if w is None or w.ndim != 2:
            return None
        add = m.only_user(node.outputs[0])
        if add is not None and add.op_type == "Add":
            b = m.other(add, node.outputs[0])
            bias = m.const(b) if b else None
            if bias is not None and bias.size == w.shape[1] and bias.ndim >= 1:
                return fused(
                    "Dense", add, [node.inputs[0], node.inputs[1], b or ""], transposed=0
                ), [node, add]
        return fused("Dense", node, [node.inputs[0], node.inputs[1]], transposed=0), [node]

    @staticmethod
    def _gemm(m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        ok = node.attr("alpha", 1.0) == 1.0 and node.attr("beta", 1.0) == 1.0
        w = m.const(node.inputs[1])
        if not ok or node.attr("transA", 0) or w is None or m.const(node.inputs[0]) is not None:
            return None
        ins = [node.inputs[0], node.inputs[1]]
        if len(node.inputs) > 2 and node.inputs[2]:
            ins.append(node.inputs[2])
        return fused("Dense", node, ins, transposed=int(node.attr("transB", 0))), [node]


class GlobalPool(Rewrite):
    """GlobalAveragePool / GlobalMaxPool / a ReduceMean or ReduceMax over every spatial axis,
    then an optional Flatten, Squeeze or Reshape to (N, C) that drops those axes."""

    KINDS: ClassVar[dict[str, str]] = {
        "GlobalAveragePool": "avg",
        "GlobalMaxPool": "max",
        "ReduceMean": "avg",
        "ReduceMax": "max",
    }

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        kind = self.KINDS.get(node.op_type)
        if kind is None or node.domain:
            return None
        keep = 1
        if node.op_type.startswith("Reduce"):
            axes = node.attr("axes")
            if axes is None and len(node.inputs) > 1:
                c = m.const(node.inputs[1])
                axes = None if c is None else [int(a) for a in c.reshape(-1)]
            if axes is None:
                return None
            keep = int(node.attr("keepdims", 1))
            fused_node = fused(
                "GlobalPool", node, [node.inputs[0]], kind=kind, axes=list(axes), keepdims=keep
            )
        else:
            fused_node = fused(
                "GlobalPool", node, [node.inputs[0]], kind=kind, axes=None, keepdims=1
            )
        after = m.only_user(node.outputs[0]) if keep else None
        if after is not None and self._drops_axes(m, after):
            return fused(
                "GlobalPool", after, fused_node.inputs, **{**fused_node.attrs, "keepdims": 0}
            ), [node, after]
        return fused_node, [node]

    @staticmethod
    def _drops_axes(m: Matcher, node: Node) -> bool:
        if node.op_type == "Flatten":
            return int(node.attr("axis", 1)) == 1
        if node.op_type == "Squeeze":
            return True  # every kept axis of 1 is spatial: checked by the importer
        if node.op_type == "Reshape":
            shape = m.const(node.inputs[1])
            return shape is not None and shape.size == 2 and int(shape[-1]) == -1
        return False


class PadIntoConv(Rewrite):
    """A zero Pad of the spatial axes read only by a Conv: the Conv's own padding."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Pad" or node.domain or node.attr("mode", "constant") != "constant":
            return None
        conv = m.only_user(node.outputs[0])
        if conv is None or conv.op_type != "Conv" or conv.inputs[0] != node.outputs[0]:
            return None
        pads = m.const(node.inputs[1]) if len(node.inputs) > 1 else node.attr("pads")
        value = m.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        if pads is None or (value is not None and float(value.reshape(-1)[0]) != 0.0):
            return None
        if len(node.inputs) > 3 and node.inputs[3]:
            return None  # axes given: rare; left as a Pad
        pads = [int(p) for p in np.asarray(pads).reshape(-1)]
        rank = len(pads) // 2
        before, after = pads[:rank], pads[rank:]
        if (
            before[:2] != [0, 0]
            or after[:2] != [0, 0]
            or conv.attr("auto_pad", "NOTSET") != "NOTSET"
        ):
            return None
        own = conv.attr("pads") or [0] * (2 * (rank - 2))
        n = rank - 2
        total = [a + b for a, b in zip(before[2:] + after[2:], own, strict=True)]
        merged = Node(
            "Conv",
            conv.name,
            [node.inputs[0], *conv.inputs[1:]],
            list(conv.outputs),
            {**conv.attrs, "pads": total[:n] + total[n:]},
            "",
        )
        return merged, [node, conv]


class Normalization(Rewrite):
    """(x - mean) / std by constants of the same shape (specc's Normalization, its
    max(sqrt(variance), eps) folded to `std`)."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Sub" or node.domain or m.const(node.inputs[0]) is not None:
            return None
        mean = m.const(node.inputs[1])
        div = m.only_user(node.outputs[0])
        if mean is None or div is None or div.op_type != "Div" or div.inputs[0] != node.outputs[0]:
            return None
        std = m.const(div.inputs[1])
        if std is None or std.shape != mean.shape or mean.size < 1:
            return None
        return fused("Normalization", div, [node.inputs[0], node.inputs[1], div.inputs[1]]), [
            node,
            div,
        ]


class Mish(Rewrite):
    """x * Tanh(Softplus(x)) (Mish before opset 18)."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Softplus" or node.domain:
            return None
        x = node.inputs[0]
        tanh = m.only_user(node.outputs[0])
        if tanh is None or tanh.op_type != "Tanh":
            return None
        mul = m.only_user(tanh.outputs[0])
        if mul is None or mul.op_type != "Mul" or m.other(mul, tanh.outputs[0]) != x:
            return None
        return fused("Mish", mul, [x]), [node, tanh, mul]


class GroupNorm(Rewrite):
    """Reshape to (N, groups, -1), InstanceNormalization with unit scale and zero bias, Reshape
    back to Shape(x), then an optional Mul and Add by per-channel constants (specc's export)."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Reshape" or node.domain:
            return None
        target = m.const(node.inputs[1])
        if target is None or target.size != 3 or int(target[0]) != 0 or int(target[2]) != -1:
            return None
        x, groups = node.inputs[0], int(target[1])
        norm = m.only_user(node.outputs[0])
        if norm is None or norm.op_type != "InstanceNormalization" or len(norm.inputs) != 3:
            return None
        ones, zeros = m.const(norm.inputs[1]), m.const(norm.inputs[2])
        if ones is None or zeros is None or not (np.all(ones == 1) and np.all(zeros == 0)):
            return None
        back = m.only_user(norm.outputs[0])
        shape = (
            m.producer.get(back.inputs[1]) if back is not None and len(back.inputs) > 1 else None
        )
        if back is None or back.op_type != "Reshape" or back.inputs[0] != norm.outputs[0]:
            return None
        if shape is None or shape.op_type != "Shape" or shape.inputs != [x] or shape.attrs:
            return None
        if len(m.users.get(shape.outputs[0], [])) != 1:
            return None
        group, last, gamma, beta = [node, norm, shape, back], back, "", ""
        for op_type in ("Mul", "Add"):
            after = m.only_user(last.outputs[0])
            if after is None or after.op_type != op_type:
                continue
            c = m.other(after, last.outputs[0])
            if c is None or m.const(c) is None:
                continue
            if op_type == "Mul":
                gamma = c
            else:
                beta = c
            group.append(after)
            last = after
        attrs = {"groups": groups, "epsilon": float(norm.attr("epsilon", 1e-5))}
        return fused("GroupNorm", last, [x, gamma, beta], **attrs), group


class SeparableConv(Rewrite):
    """A depthwise Conv (one input channel per group) without bias whose output only a 1x1,
    stride-1, unpadded, ungrouped Conv reads: a separable convolution (1-D or 2-D)."""

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type != "Conv" or node.domain or len(node.inputs) > 2:
            return None
        w = m.const(node.inputs[1])
        group = int(node.attr("group", 1))
        if w is None or w.ndim not in (3, 4) or w.shape[1] != 1 or group <= 1:
            return None
        if w.shape[0] % group:
            return None
        after = m.only_user(node.outputs[0])
        if after is None or after.op_type != "Conv" or after.inputs[0] != node.outputs[0]:
            return None
        pw = m.const(after.inputs[1])
        n = w.ndim - 2
        if pw is None or pw.shape[1:] != (w.shape[0], *(1,) * n):
            return None
        for key, neutral in (("group", 1), ("auto_pad", "NOTSET")):
            if after.attr(key, neutral) != neutral:
                return None
        for key in ("strides", "dilations", "pads"):
            if any(int(v) != (0 if key == "pads" else 1) for v in after.attr(key) or []):
                return None
        bias = after.inputs[2] if len(after.inputs) > 2 else ""
        inputs = [node.inputs[0], node.inputs[1], after.inputs[1], bias]
        return Node(
            "SeparableConv", after.name, inputs, list(after.outputs), dict(node.attrs), SPECC
        ), [
            node,
            after,
        ]


class Recurrent(Rewrite):
    """Transpose (N, T, in) -> (T, N, in), LSTM or GRU (layout 0), a Transpose of Y (every
    step) or of Y_h (the last state) back to batch first, then a Reshape joining the
    directions or a reduction over them (specc's export of lstm, gru and bidirectional)."""

    MERGES: ClassVar[dict[str, str]] = {
        "ReduceSum": "sum",
        "ReduceProd": "mul",
        "ReduceMean": "ave",
    }

    def match(self, m: Matcher, node: Node) -> tuple[Node, list[Node]] | None:
        if node.op_type not in ("LSTM", "GRU") or node.domain or node.attr("layout", 0):
            return None
        before = m.producer.get(node.inputs[0])
        if before is None or before.op_type != "Transpose" or before.attr("perm") != [1, 0, 2]:
            return None
        if m.only_user(before.outputs[0]) is not node:
            return None
        used = [i for i, o in enumerate(node.outputs) if o and (m.users.get(o) or o in m.outputs)]
        if len(used) != 1 or used[0] > 1:
            return None
        sequences = used[0] == 0
        after = m.only_user(node.outputs[used[0]])
        perm = [2, 0, 1, 3] if sequences else [1, 0, 2]
        if after is None or after.op_type != "Transpose" or after.attr("perm") != perm:
            return None
        merge_node = m.users.get(after.outputs[0], [])
        if len(merge_node) != 1 or named(after.outputs[0]) or after.outputs[0] in m.outputs:
            return None
        last = merge_node[0]
        axis = 2 if sequences else 1
        if last.op_type == "Reshape":
            shape = m.const(last.inputs[1])
            if shape is None or [int(v) for v in shape.reshape(-1)] != [0] * axis + [-1]:
                return None
            merge = "concat"
        elif last.op_type in self.MERGES and int(last.attr("keepdims", 1)) == 0:
            axes = last.attr("axes")
            if axes is None and len(last.inputs) > 1:
                c = m.const(last.inputs[1])
                axes = None if c is None else [int(v) for v in c.reshape(-1)]
            if axes is None or list(axes) != [axis]:
                return None
            merge = self.MERGES[last.op_type]
        else:
            return None
        attrs = {
            **node.attrs,
            "kind": node.op_type,
            "return_sequences": int(sequences),
            "merge": merge,
        }
        inputs = [before.inputs[0], *node.inputs[1:4]]
        made = Node("Recurrent", last.name, inputs, list(last.outputs), attrs, SPECC)
        return made, [before, node, after, last]


PASSES: tuple[Callable[[], Rewrite], ...] = (
    Silu,
    Gelu,
    Dense,
    Recurrent,  # before GlobalPool: its merge may be a ReduceMean
    GlobalPool,
    PadIntoConv,
    SeparableConv,
    Normalization,
    Mish,
    GroupNorm,
)


def rewrite(graph: OnnxGraph) -> OnnxGraph:
    """Every pattern pass, in order."""
    for make in PASSES:
        graph = make().call(graph).graph
    return graph
