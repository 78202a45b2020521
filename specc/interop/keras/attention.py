"""Keras export of multi_head_attention: layers.MultiHeadAttention, called on query and value
(and key) as arguments of their own."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Call, Site
from specc.ops.attention import MultiHeadAttention


@GENERATORS.register(MultiHeadAttention)
def _attention(site: Site) -> None:
    """Keras keeps the weights as the spec does (query, key, value, output; kernel, then
    bias).

    Keras 3's fused attention (`ops.dot_product_attention`, taken for (T, features) inputs
    without dropout) refuses a value_dim other than key_dim on JAX; asking for the scores as
    well takes the explicit path, which computes the same."""
    op = site.op
    assert isinstance(op, MultiHeadAttention)
    kwargs: dict[str, object] = {"num_heads": op.num_heads, "key_dim": op.key_dim}
    if op.value_dim is not None:
        kwargs["value_dim"] = op.value_dim
    if op.output_shape is not None:
        kwargs["output_shape"] = op.output_shape
    if not op.bias:
        kwargs["use_bias"] = "False"
    if op.dropout:
        kwargs["dropout"] = float(op.dropout)
    # Keras's call order is the spec's: query, value, key; one input is the query and value.
    arguments = tuple(range(len(site.inputs))) if len(site.inputs) > 1 else (0, 0)
    how = Call(arguments)
    if site.inputs[0].rank == 2 and not op.dropout and op.head_value_dim != op.key_dim:
        how = Call(arguments, {"return_attention_scores": "True"}, pick="[0]")
    site.layer_called(how, "layers.MultiHeadAttention", **kwargs)
