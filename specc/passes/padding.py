"""Padding as layers: a convolution's zero padding becomes a zero_pad before it, and a zero_pad
after an activation is done by that activation, which writes into the padded buffer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from specc.ir import Layer, Model, TensorType
from specc.ops.base import Op, Param, attr
from specc.ops.conv import WindowOp
from specc.ops.reshape import ZeroPad
from specc.ops.window import same_pads
from specc.passes.rewrite import PassResult, readers, rebuild, sole_reader

Pairs = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ExplicitPadding:
    """Each op that pads with zeros (`Op.zero_padding`) and pads at all gets a zero_pad layer
    before it and pads no more. `sizes` are every value's concrete per-sample shape (`same`
    padding depends on them)."""

    sizes: Mapping[str, tuple[int, ...]]

    def call(self, model: Model) -> PassResult:
        layers: list[Layer] = []
        for layer in model.layers:
            op = layer.op
            if not (isinstance(op, WindowOp) and op.zero_padding()):
                layers.append(layer)
                continue
            pairs = resolved(op, self.sizes[layer.inputs[0]][:-1])
            if not any(a or z for a, z in pairs):
                layers.append(layer)
                continue
            pad = Layer(f"{layer.name}:pad", ZeroPad.around(pairs), layer.inputs, 0)
            layers += [pad, replace(layer, op=op.replace(padding="valid"), inputs=(pad.name,))]
        if len(layers) == len(model.layers):
            return PassResult(model)
        return PassResult(rebuild(model, layers, {}), True)


def resolved(op: WindowOp, spatial: Sequence[int]) -> Pairs:
    """The (before, after) pairs of each axis, `same` resolved for these sizes."""
    padding = op.pads
    if padding != "same":
        return padding
    return tuple(
        same_pads(n, k, s, d)
        for n, k, s, d in zip(spatial, op.kernel_size, op.strides, op.dilations, strict=True)
    )


class PadOutput(Op):
    """Internal (never in a spec): `layer`, then zeros around its output's spatial axes."""

    family = "rewrite"
    inner_attr = "layer"
    layer: Op = attr(schema={}, doc="the op whose output is padded")
    pairs: Pairs = attr(schema={}, doc="(before, after) zeros per spatial axis")

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        out = self.layer.infer(inputs)
        return ZeroPad.around(self.pairs).infer([out])

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        return self.layer.params(inputs)

    @classmethod
    def inner_input(cls, x: TensorType) -> TensorType:
        return x  # the inner layer reads the whole input (it is padded afterwards)


@dataclass(frozen=True)
class FusePadding:
    """A zero_pad that solely reads a layer ending in an activation is done by that layer: the
    activation writes straight into the padded buffer, saving a copy of the tensor."""

    def call(self, model: Model) -> PassResult:
        by = readers(model)
        names = {x.name: x for x in model.layers}
        fused: dict[str, Layer] = {}
        gone: dict[str, str] = {}
        for layer in model.layers:
            if not isinstance(layer.op, ZeroPad) or layer.inputs[0] not in names:
                continue
            source = names[layer.inputs[0]]
            if source.name in fused or source.op.output_activation() is None:
                continue
            if sole_reader(model, source.name, by) is not layer:
                continue
            fused[source.name] = replace(
                source, op=PadOutput(layer=source.op, pairs=layer.op.pairs)
            )
            gone[layer.name] = source.name
        if not fused:
            return PassResult(model)
        layers = [fused.get(x.name, x) for x in model.layers if x.name not in gone]
        return PassResult(rebuild(model, layers, gone), True, gone)
