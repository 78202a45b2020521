"""ONNX import of merges: Add, Sub and Mul of computed values (chains of Add or Mul become one
layer), and Concat along the axis as the spec sees it."""

from __future__ import annotations

import numpy as np

from specc.interop.onnx.imports.common import per_channel
from specc.interop.onnx.imports.site import Site, imports
from specc.interop.onnx.layout import Val
from specc.interop.onnx.patterns import named

TYPES = {"Add": "add", "Sub": "subtract", "Mul": "multiply"}


def number(value: float) -> float:
    """A float32 constant as the shortest decimal that reads back as it (1/255: 0.003921569)."""
    return float(str(np.float32(value)))


@imports("Add", "Sub", "Mul")
def _elementwise(site: Site) -> None:
    type_ = TYPES[site.node.op_type]
    if any(site.const(i) is not None for i in range(2)):
        _constant_operand(site)
        return
    a, b = site.val(0), site.val(1)
    inputs = _chain(site, type_, a) + _chain(site, type_, b)
    rank = max(v.rank for v in inputs)
    lead = next(v for v in inputs if v.rank == rank)
    aligned = [site.as_perm(v, lead.perm) if v.rank == rank else v for v in inputs]
    nonneg = type_ != "subtract" and all(v.nonneg for v in inputs)
    y = site.emit(type_, aligned, {}, lead.perm, nonneg=nonneg)
    site.b.chain_inputs[y.ref] = aligned
    site.out(y)


def _chain(site: Site, type_: str, v: Val) -> list[Val]:
    """The inputs of the last layer instead of `v`, when it is an unnamed add (or multiply)
    that only this node reads: `a + b + c` is one layer, as specc exports one."""
    b = site.b
    last = b.layers[-1] if b.layers else None
    value = next(n for n in site.node.inputs if b.values.get(n) == v)
    if (
        last is None
        or last.name != v.ref
        or last.type != type_
        or type_ == "subtract"
        or named(value)
        or len(b.users.get(value, [])) != 1
    ):
        return [v]
    ins = b.chain_inputs.pop(last.name, None)
    if ins is None:
        return [v]
    b.layers.pop()
    b.names.discard(last.name)
    return ins


@imports("Concat")
def _concat(site: Site) -> None:
    vals = [site.val(i) for i in range(len(site.node.inputs))]
    if len(vals) == 1:  # PyTorch's torch.cat([x]): the value itself
        site.out(vals[0])
        return
    lead = vals[0]
    vals = [site.as_perm(v, lead.perm) for v in vals]
    axis = lead.spec_axis(int(site.attr("axis")))
    spec_axis = -1 if axis == len(lead.shape) - 1 else axis
    nonneg = all(v.nonneg for v in vals)
    site.out(site.emit("concat", vals, {"axis": spec_axis}, lead.perm, nonneg=nonneg))


def _constant_operand(site: Site) -> None:
    """x * c, x + c, x - c and c - x by a scalar as `rescaling` (a multiply then an add of the
    layer before is one rescaling, as specc exports it); x * c per channel as `scale`."""
    op = site.node.op_type
    at = 0 if site.const(0) is None else 1
    x, c = site.val(at), site.const(1 - at)
    assert c is not None
    if c.size == 1:
        v = float(c.reshape(-1)[0])
        if op == "Mul":
            attrs = {"scale": number(v)}
        elif op == "Add":
            if _add_offset(site, x, v):
                return
            attrs = {"scale": 1.0, "offset": number(v)}
        elif at == 0:
            attrs = {"scale": 1.0, "offset": number(-v)}
        else:
            attrs = {"scale": -1.0, "offset": number(v)}
        site.out(site.emit("rescaling", [x], attrs, nonneg=op == "Mul" and v >= 0 and x.nonneg))
        return
    found = per_channel(site, x, c) if op == "Mul" else None
    if found is None:
        raise site.unsupported("with a constant operand other than a scalar or a per-channel scale")
    x, (gamma,) = found
    site.out(site.emit("scale", [x], {}, weights={"gamma": (gamma, "keras")}))


def _add_offset(site: Site, x: Val, offset: float) -> bool:
    """Add `offset` to the rescaling just written, when only this node reads it."""
    b, value = site.b, site.node.inputs[0 if site.const(0) is None else 1]
    last = b.layers[-1] if b.layers else None
    if last is None or last.name != x.ref or last.type != "rescaling" or last.attrs.get("offset"):
        return False
    if len(b.users.get(value, [])) != 1 or named(value) or value in b.graph.outputs:
        return False
    last.attrs["offset"] = number(offset)
    site.out(Val(last.name, x.shape, x.perm))
    return True
