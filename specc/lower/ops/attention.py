"""Multi-head attention in NumPy: GEMM projections, per-sample scores and softmax, output GEMM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod, sqrt

import numpy as np
from numpy.typing import NDArray

from specc.ir import TensorType
from specc.lower.builder import Builder, Node, lowers
from specc.lower.steps import Binder, Consts, Value
from specc.lower.window import KernelMemory, scratch
from specc.ops.attention import PROJECTIONS, MultiHeadAttention


@lowers(MultiHeadAttention)
def _attention(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, MultiHeadAttention)
    query = node.inputs[0]
    key = node.inputs[-1] if len(node.inputs) > 1 else query  # inputs: query, value, key
    heads, kd, vd = op.num_heads, op.key_dim, op.head_value_dim
    memory = attention_memory(
        query.shape, key.shape, heads=heads, key_dim=kd, value_dim=vd, itemsize=b.itemsize
    )

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        q = ins[0]
        v = ins[1] if len(ins) > 1 else q
        k = ins[2] if len(ins) > 2 else v
        return attention(q, k, v, c, heads=heads, key_dim=kd, value_dim=vd, out=out)

    types = [TensorType(x.shape[1:]) for x in node.inputs]
    macs = op.macs(types, TensorType(node.out_shape[1:]))
    assert isinstance(macs, int)
    batch, positions = query.shape[0], prod(query.shape[1:-1])
    tk = prod(key.shape[1:-1])
    return b.emit(
        "attention",
        node,
        node.inputs,
        b.new(node.name, node.out_shape),
        run,
        flops=2 * batch * macs,
        scratch=memory.scratch,
        temp=memory.temp,
        detail=f"{heads} heads x {kd}/{vd}, {positions}x{tk} scores"
        + (" +bias" if op.bias else ""),
        bind=_binder(node, op.bias),
        const_bytes=sum(prod(s) for s in node.params.values()) * b.itemsize,
    )


def _binder(node: Node, bias: bool) -> Binder:
    """Each projection's kernel as a matrix (d, heads*size) and its bias as a vector, in the
    order query, key, value, output."""
    names = [*PROJECTIONS, "output"]

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        consts: list[NDArray] = []
        for name in names:
            kernel = weights[node.key(f"{name}_kernel")]
            rows = kernel.shape[0] if name != "output" else kernel.shape[0] * kernel.shape[1]
            consts.append(kernel.reshape(rows, -1))
            if bias:
                consts.append(weights[node.key(f"{name}_bias")].reshape(-1))
        return tuple(consts)

    return bind


def attention_memory(
    query: Sequence[int],
    key: Sequence[int],
    *,
    heads: int,
    key_dim: int,
    value_dim: int,
    itemsize: int,
) -> KernelMemory:
    """What `attention` allocates for a batch of queries (N, *S_q, d_q) and keys (N, *S_k, d_k):
    the projected queries, keys and values and the joined heads, for the whole batch; one
    sample's (heads, T_q, T_k) scores, which dominate for long inputs; the softmax's row
    maxima and sums."""
    n, tq, tk = query[0], prod(query[1:-1]), prod(key[1:-1])
    slots = {
        "attention-query": n * tq * heads * key_dim * itemsize,
        "attention-key": n * tk * heads * key_dim * itemsize,
        "attention-value": n * tk * heads * value_dim * itemsize,
        "attention-scores": heads * tq * tk * itemsize,
        "attention-context": n * tq * heads * value_dim * itemsize,
    }
    return KernelMemory(slots, 2 * heads * tq * itemsize)


def attention(
    query: NDArray,
    key: NDArray,
    value: NDArray,
    weights: Consts,
    *,
    heads: int,
    key_dim: int,
    value_dim: int,
    out: NDArray | None = None,
) -> NDArray:
    """Keras's MultiHeadAttention on (N, *S_q, d_q) queries and (N, *S_k, d) keys and values.

    `weights` are the query, key, value and output kernels as matrices (d, heads*size), each
    followed by its bias when there are biases. Per head: softmax(Q K^T / sqrt(key_dim)) V over
    every key position (all axes between the batch and the last, jointly), then the heads are
    joined and projected to the output.
    """
    has_bias = len(weights) == 8
    step = 2 if has_bias else 1
    wq, wk, wv, wo = weights[::step]
    bq, bk, bv, bo = weights[1::2] if has_bias else (None,) * 4
    n, dtype = query.shape[0], query.dtype
    tq, tk = prod(query.shape[1:-1]), prod(key.shape[1:-1])
    q = _project(query, wq, bq, "attention-query")
    k = _project(key, wk, bk, "attention-key")
    v = _project(value, wv, bv, "attention-value")
    q *= dtype.type(1 / sqrt(key_dim))
    qh = q.reshape(n, tq, heads, key_dim).transpose(0, 2, 1, 3)  # (N, h, T_q, k)
    kt = k.reshape(n, tk, heads, key_dim).transpose(0, 2, 3, 1)  # (N, h, k, T_k)
    vh = v.reshape(n, tk, heads, value_dim).transpose(0, 2, 1, 3)  # (N, h, T_k, v)
    context = scratch((n, tq, heads, value_dim), dtype, "attention-context")
    joined = context.transpose(0, 2, 1, 3)  # (N, h, T_q, v), written head by head
    scores = scratch((heads, tq, tk), dtype, "attention-scores")
    for i in range(n):
        np.matmul(qh[i], kt[i], out=scores)
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        np.matmul(scores, vh[i], out=joined[i])
    y = np.empty((*query.shape[:-1], wo.shape[1]), dtype) if out is None else out
    rows = y.reshape(n * tq, wo.shape[1])
    np.matmul(context.reshape(n * tq, heads * value_dim), wo.astype(dtype, copy=False), out=rows)
    if bo is not None:
        rows += bo.astype(dtype, copy=False)
    return y


def _project(x: NDArray, w: NDArray, b: NDArray | None, slot: str) -> NDArray:
    """x @ w + b over the last axis, as (rows, heads*size) in a scratch buffer."""
    rows = x.reshape(-1, x.shape[-1])
    y = scratch((rows.shape[0], w.shape[1]), x.dtype, slot)
    np.matmul(rows, w.astype(x.dtype, copy=False), out=y)
    if b is not None:
        y += b.astype(x.dtype, copy=False)
    return y
