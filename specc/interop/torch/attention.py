"""PyTorch export of multi_head_attention: one nn.Linear per projection, as Keras's
MultiHeadAttention keeps them, and the heads' attention in a function of the file.

nn.MultiheadAttention is not used: it needs query, key and value heads of one size (embed_dim
split evenly), while Keras's key_dim, value_dim and output size are free.
"""

from __future__ import annotations

from specc.interop.pysource import call
from specc.interop.torch.site import GENERATORS, LAST, Site, Value, define
from specc.ops.attention import MultiHeadAttention

define(
    "attention",
    '''
def attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, heads: int, dropout: float = 0.0
) -> torch.Tensor:
    """Keras's MultiHeadAttention between projections (N, *positions, heads * size): per head,
    softmax(Q K^T / sqrt(size)) V over every key position (all position axes jointly); the
    heads are joined again one after another."""
    q, k, v = (  # (N, heads, positions, size): the position axes as one
        x.flatten(1, -2).unflatten(-1, (heads, -1)).transpose(1, 2) for x in (query, key, value)
    )
    joined = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout).transpose(1, 2)
    return joined.flatten(2).unflatten(1, query.shape[1:-1])
''',
)


@GENERATORS.register(MultiHeadAttention)
def _attention(site: Site) -> Value:
    """Inputs are query, value, key (Keras's call order); one input is all three, two are the
    query and the value, which is the key too. Each Keras kernel (d, heads, size) loads as the
    Linear's (heads * size, d), the output's (heads, value_dim, out) as (out, heads * value_dim):
    heads one after another, as `attention` joins them."""
    op = site.op
    assert isinstance(op, MultiHeadAttention)
    value = 1 if len(site.inputs) > 1 else 0
    key = 2 if len(site.inputs) > 2 else value
    heads, sizes = op.num_heads, {"query": op.key_dim, "key": op.key_dim}
    sizes["value"] = op.head_value_dim
    projected = []
    for role, i in (("query", 0), ("key", key), ("value", value)):
        linear = _linear(site, role, site.channels(i), heads * sizes[role])
        projected.append(f"{linear}({site.input(i, LAST)})")
    args = [*projected, str(heads)]
    if op.dropout:
        args.append(f"dropout={float(op.dropout)!r} if self.training else 0.0")
    query = site.inputs[0]
    joined = site.assign(
        f"{site.helper('attention')}({', '.join(args)})",
        LAST,
        (*query.shape[:-1], heads * op.head_value_dim),
    )
    out = site.output.shape[-1]
    if not isinstance(out, int):
        raise site.fail(f"needs a known output size, not {out}")
    output = _linear(site, "output", heads * op.head_value_dim, out)
    return site.assign(f"{output}({joined.code})", LAST)


def _linear(site: Site, role: str, features: int, size: int) -> str:
    op = site.op
    assert isinstance(op, MultiHeadAttention)
    linear = site.module(
        call("nn.Linear", features, size, **({} if op.bias else {"bias": False})), suffix=role
    )
    site.load(f"{role}_kernel", f"{linear}.weight")
    if op.bias:
        site.load(f"{role}_bias", f"{linear}.bias")
    return linear
