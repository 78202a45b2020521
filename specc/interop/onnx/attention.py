"""ONNX export of multi-head attention as the standard subgraph: MatMul projections, heads split
by Reshape and Transpose, Softmax of the scaled scores, heads joined, the output MatMul.

Lengths are never written into the graph: Reshape keeps the batch with 0 and infers the
positions with -1, so symbolic dims (and time_distributed's folded batch) stay free."""

from __future__ import annotations

from math import sqrt

import numpy as np

from specc.interop.onnx.graph import LAST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ir import weight_key
from specc.ops.attention import MultiHeadAttention


def _matrix(site: Site, param: str, rows: int) -> str:
    """A kernel as an initializer of shape (rows, -1), keeping the parameter's name."""
    array = np.asarray(site.weights[weight_key(site.name, param)], site.dtype)
    return site.graph.const(array.reshape(rows, -1), weight_key(site.name, param))


def _bias(site: Site, param: str) -> str:
    array = np.asarray(site.weights[weight_key(site.name, param)], site.dtype)
    return site.graph.const(array.reshape(-1), weight_key(site.name, param))


def _heads(site: Site, x: str, role: str, heads: int, size: int, perm: list[int]) -> str:
    """The projection of `x` by the `role` kernel, as (N, heads, T, size) permuted by `perm`."""
    g, op = site.graph, site.op
    d = site.params[f"{role}_kernel"].shape[0]
    assert isinstance(d, int)
    y = g.node("MatMul", [x, _matrix(site, f"{role}_kernel", d)], site.name)
    if op.bias:  # type: ignore[attr-defined]
        y = g.node("Add", [y, _bias(site, f"{role}_bias")], site.name)
    split = g.ints([0, -1, heads, size], f"{site.name}/{role}_heads")
    y = g.node("Reshape", [y, split], site.name)
    return g.node("Transpose", [y], site.name, perm=perm)


@EXPORTS.register(MultiHeadAttention)
def _attention(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, MultiHeadAttention)
    g = site.graph
    h, kd, vd = op.num_heads, op.key_dim, op.head_value_dim
    names = [site.value(i, LAST) for i in range(len(site.inputs))]
    query = names[0]
    value = names[1] if len(names) > 1 else query
    key = names[2] if len(names) > 2 else value
    q = _heads(site, query, "query", h, kd, [0, 2, 1, 3])  # (N, h, T_q, k)
    k = _heads(site, key, "key", h, kd, [0, 2, 3, 1])  # (N, h, k, T_k)
    v = _heads(site, value, "value", h, vd, [0, 2, 1, 3])  # (N, h, T_k, v)
    q = g.node("Mul", [q, g.floats(1 / sqrt(kd), site.dtype, f"{site.name}/scale")], site.name)
    weights = g.node("Softmax", [g.node("MatMul", [q, k], site.name)], site.name, axis=-1)
    context = g.node("MatMul", [weights, v], site.name)  # (N, h, T_q, v)
    context = g.node("Transpose", [context], site.name, perm=[0, 2, 1, 3])
    joined = g.node("Reshape", [context, g.ints([0, 0, h * vd], f"{site.name}/join")], site.name)
    y = g.node("MatMul", [joined, _matrix(site, "output_kernel", h * vd)], site.name)
    if op.bias:
        y = g.node("Add", [y, _bias(site, "output_bias")], site.name)
    if len(site.output.shape) > 2:  # positions over several axes: give the query's back
        x_shape = g.node("Shape", [query], site.name, end=-1)
        out = g.ints([site.output.channels], f"{site.name}/channels")  # type: ignore[list-item]
        shape = g.node("Concat", [x_shape, out], site.name, axis=0)
        y = g.node("Reshape", [y, shape], site.name)
    return site.out(y, LAST)
