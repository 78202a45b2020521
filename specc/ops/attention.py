"""Attention: Keras's MultiHeadAttention (scaled dot-product attention over several heads)."""

from __future__ import annotations

from collections.abc import Sequence

from specc.dims import Dim, equal, product
from specc.ir import TensorType
from specc.ops.base import Footprint, Op, Param, Problem, attr, kernel_param
from specc.ops.common import BOOL, POSITIVE_INT

# The three projections in Keras's call order of their inputs: query, value, key.
PROJECTIONS = ("query", "key", "value")


class MultiHeadAttention(Op):
    """softmax(Q K^T / sqrt(key_dim)) V per head, heads joined by an output projection.

    Inputs are `query`, then `value`, then `key` (Keras's call order): one input attends to
    itself, two are query and value (the key is the value). Each is (T, features) or of higher
    rank (..., features); attention then runs over every axis but the last, jointly, as Keras
    does by default (`attention_axes=None`), so the positions of those axes are T. Key and value
    must have the same positions; the query may have others (cross-attention).

    Weights, Keras's layouts and names (`query/kernel` ... `attention_output/bias` there):
    `query_kernel` (d_q, heads, key_dim), `query_bias` (heads, key_dim), `key_kernel`
    (d_k, heads, key_dim), `key_bias` (heads, key_dim), `value_kernel` (d_v, heads, value_dim),
    `value_bias` (heads, value_dim), `output_kernel` (heads, value_dim, out), `output_bias`
    (out,). PyTorch's Linear layers store each kernel as (out_features, in_features):
    (heads*key_dim, d_q) ... (out, heads*value_dim).
    """

    type = "multi_head_attention"
    family = "attention"
    summary = "multi-head scaled dot-product attention (inputs: query, value, key)"
    min_inputs = 1
    max_inputs = 3
    num_heads: int = attr(schema=POSITIVE_INT, doc="number of attention heads", examples=(1, 2, 4))
    key_dim: int = attr(
        schema=POSITIVE_INT, doc="size of each head for query and key", examples=(1, 2, 4, 8)
    )
    value_dim: int | None = attr(
        default=None,
        schema={"oneOf": [POSITIVE_INT, {"type": "null"}]},
        doc="size of each head for value (default: key_dim)",
        examples=(None, 1, 3),
    )
    output_shape: int | None = attr(
        default=None,
        schema={"oneOf": [POSITIVE_INT, {"type": "null"}]},
        doc="size of the output's last axis (default: the query's last axis)",
        examples=(None, 2, 5),
    )
    bias: bool = attr(default=True, schema=BOOL, doc="add a learned bias to every projection")
    dropout: float = attr(
        default=0.0,
        schema={"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        doc="dropout rate on the attention weights in training; ignored at inference",
        examples=(0.0, 0.1),
    )

    # -- the three inputs ---------------------------------------------------------------------
    @staticmethod
    def roles(inputs: Sequence[TensorType]) -> tuple[TensorType, TensorType, TensorType]:
        """(query, key, value) from the inputs in call order (query, value, key)."""
        query = inputs[0]
        value = inputs[1] if len(inputs) > 1 else query
        key = inputs[2] if len(inputs) > 2 else value
        return query, key, value

    @property
    def head_value_dim(self) -> int:
        return self.key_dim if self.value_dim is None else self.value_dim

    def out_dim(self, query: TensorType) -> Dim:
        return query.channels if self.output_shape is None else self.output_shape

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        query, key, value = self.roles(inputs)
        for role, x in (("query", query), ("value", value), ("key", key)):
            if x.rank < 2:
                raise Problem(
                    "S101",
                    f"{self.type} expects a {role} of rank 2 or more (positions, features); "
                    f"got {x} of rank {x.rank}",
                )
        if len({query.rank, key.rank, value.rank}) > 1:
            raise Problem(
                "S102",
                f"{self.type}: query {query}, value {value} and key {key} have different ranks; "
                "they must have the same",
            )
        same = all(equal(a, b) for a, b in zip(key.spatial, value.spatial, strict=True))
        if not same:
            raise Problem(
                "S102",
                f"{self.type}: value {value} and key {key} must have the same positions (every "
                "axis but the last)",
            )
        return TensorType((*query.spatial, self.out_dim(query)))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        query, key, value = self.roles(inputs)
        h, k, v = self.num_heads, self.key_dim, self.head_value_dim
        out = self.out_dim(query)
        sizes = {"query": (query.channels, k), "key": (key.channels, k)}
        sizes["value"] = (value.channels, v)
        params: list[Param] = []
        for role in PROJECTIONS:
            d, size = sizes[role]
            # PyTorch's Linear(d, heads*size): weight (heads*size, d), bias (heads*size,).
            params.append(_kernel(f"{role}_kernel", (d, h, size), (1, 2, 0), (h * size, d)))
            if self.bias:
                params.append(_bias(f"{role}_bias", (h, size), torch_shape=(h * size,)))
        params.append(_kernel("output_kernel", (h, v, out), (2, 0, 1), (out, h * v)))
        if self.bias:
            params.append(_bias("output_bias", (out,)))
        return tuple(params)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Multiply-adds of the projections, the scores, the weighted values and the output:

            T_q*d_q*h*k + T_k*d_k*h*k + T_k*d_v*h*v   (query, key and value projections)
          + h*T_q*T_k*k                               (scores Q K^T)
          + h*T_q*T_k*v                               (scores times values)
          + T_q*h*v*out                               (output projection)

        with T_q and T_k the query's and key's positions (the product of every axis but the
        last). Unlike the rest of specc's counts, the two middle terms multiply activations by
        activations, not by weights: they are the cost that grows with the square of the length
        (as fvcore and ptflops count attention). Biases, the scaling and the softmax are not
        counted.
        """
        query, key, value = self.roles(inputs)
        tq, tk = product(query.spatial), product(key.spatial)
        h, k, v = self.num_heads, self.key_dim, self.head_value_dim
        projections = (tq * query.channels + tk * key.channels) * h * k
        projections = projections + tk * value.channels * h * v
        return projections + h * tq * tk * (k + v) + tq * h * v * output.channels

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Every output position reads every key and value position."""
        return "global"


def _kernel(
    name: str, shape: tuple[Dim, ...], torch_perm: tuple[int, ...], torch_shape: tuple[Dim, ...]
) -> Param:
    """A Glorot-uniform kernel (Keras's default). A projection's (d, heads, size) reads the
    first axis and writes the other two; the output's (heads, value_dim, out) reads the first
    two and writes the last."""
    reads = 2 if name == "output_kernel" else 1
    return kernel_param(
        shape,
        fan_in=product(shape[:reads]),
        torch_perm=torch_perm,
        out_axes=tuple(range(reads, len(shape))),
        torch_shape=torch_shape,
        name=name,
        init="glorot_uniform",
    )


def _bias(name: str, shape: tuple[Dim, ...], torch_shape: tuple[Dim, ...] | None = None) -> Param:
    """A zero-initialised bias over the trailing axes of a projection's output."""
    return Param(
        name, shape, "zeros", fan_in=1, torch_shape=torch_shape, out_axes=tuple(range(len(shape)))
    )
