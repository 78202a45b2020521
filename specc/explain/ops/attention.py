"""How multi-head attention gets its numbers: a projection per role, and the scores that grow
with the square of the length."""

from __future__ import annotations

from specc.dims import product
from specc.explain.facts import EXPLAINS, Facts, Section, Sections, cost, param, params_total
from specc.explain.formulas import n, term, times
from specc.ir import format_shape
from specc.ops.attention import PROJECTIONS, MultiHeadAttention


@EXPLAINS.register(MultiHeadAttention)
def _attention(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, MultiHeadAttention)
    query, key, value = op.roles(f.inputs)
    h, k, v = op.num_heads, op.key_dim, op.head_value_dim
    out = f.output.channels
    tq, tk = product(query.spatial), product(key.spatial)
    kernel = param(f, "query_kernel")
    assert kernel is not None
    what = (
        f"{h} heads of key_dim {k} and value_dim {v}: each head projects the query and the key "
        f"to {k} values and the value to {v}; the heads' {h} x {v} results are projected to "
        f"{n(out)}"
    )
    return [
        Section(
            f"Kernel {format_shape(kernel.shape)}  layout (d_q, heads, key_dim); PyTorch stores "
            f"{format_shape(kernel.layout_torch)}",
            (what, "this is the query's kernel; the parameters list every projection"),
        ),
        Section("Parameters", _params(f)),
        Section(f"Output {f.output}", _output(f, op)),
        cost(
            f,
            f"projections {term(tq)} x {term(query.channels)} x {h} x {k} + {term(tk)} x "
            f"{term(key.channels)} x {h} x {k} + {term(tk)} x {term(value.channels)} x {h} x {v}"
            f" + scores {h} x {term(tq)} x {term(tk)} x {k} + weighted values {h} x {term(tq)} x "
            f"{term(tk)} x {v} + output {term(tq)} x {h} x {v} x {term(out)}",
        ),
        Section(
            "Length",
            (
                f"the scores and the weighted values cost {h} x {term(tq)} x {term(tk)} x "
                f"({k} + {v}) = {n(h * tq * tk * (k + v))} MACs: they grow with the product of "
                "the query and key lengths (the square of the length for self-attention), "
                "and each sample holds its "
                f"{h} x {term(tq)} x {term(tk)} scores while the layer runs; "
                "the projections grow only linearly",
            ),
        ),
    ]


def _params(f: Facts) -> tuple[str, ...]:
    """The sum over the projections, then one line per projection: kernel, bias, their sum."""
    lines, counts = [], []
    for role in (*PROJECTIONS, "output"):
        kernel = param(f, f"{role}_kernel")
        bias = param(f, f"{role}_bias")
        assert kernel is not None
        count = product(kernel.shape)
        text = f"{role}: kernel {times(kernel.shape)} = {n(count)}"
        if bias is not None:
            extra = product(bias.shape)
            size = times(bias.shape) + (f" = {n(extra)}" if len(bias.shape) > 1 else "")
            text += f", bias {size}; {n(count + extra)}"
            count = count + extra
        lines.append(text)
        counts.append(f"{role} {n(count)}")
    total = f"{' + '.join(counts)} = {n(params_total(f.params))}"
    return (total, *lines)


def _output(f: Facts, op: MultiHeadAttention) -> tuple[str, ...]:
    query = f.inputs[0]
    where = f"the query's positions {format_shape(query.spatial)} are kept"
    if op.output_shape is None:
        last = f"the last axis is the query's, {n(query.channels)} (output_shape not set)"
    else:
        last = f"the last axis is output_shape = {op.output_shape}"
    return (f"{where}; every position reads every key position", last)
