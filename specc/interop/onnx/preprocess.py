"""ONNX export of preprocessing: rescaling as Mul and Add, normalization as Sub and Div by
max(sqrt(variance), 1e-7), in whatever layout the value has."""

from __future__ import annotations

from specc.interop.onnx.graph import Tensor
from specc.interop.onnx.norm import channel_weight
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.preprocess import KERAS_EPSILON, Normalization, Rescaling


@EXPORTS.register(Rescaling)
def _rescaling(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Rescaling)
    g, x = site.graph, site.inputs[0]
    scale = g.floats(op.scale, site.dtype, f"{site.name}/scale")
    offset = g.floats(op.offset, site.dtype, f"{site.name}/offset")
    y = g.node("Add", [g.node("Mul", [x.name, scale], site.name), offset], site.name)
    return site.out(y, x.layout)


@EXPORTS.register(Normalization)
def _normalization(site: Site) -> Tensor:
    g, x = site.graph, site.inputs[0]
    mean = channel_weight(site, "mean", x.layout, x)
    variance = channel_weight(site, "variance", x.layout, x)
    site.weight("count")  # kept, as Keras keeps it, though nothing reads it at inference
    floor = g.floats(KERAS_EPSILON, site.dtype, f"{site.name}/epsilon")
    std = g.node("Max", [g.node("Sqrt", [variance], site.name), floor], site.name)
    y = g.node("Div", [g.node("Sub", [x.name, mean], site.name), std], site.name)
    return site.out(y, x.layout)
