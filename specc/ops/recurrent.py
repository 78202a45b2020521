"""Recurrent layers over (steps, features): lstm, gru, and bidirectional around either.

Keras 3's equations and weight layouts. With x_t the input at step t, h the state and
`act`/`rec` the activation and the recurrent activation (tanh and sigmoid by default):

  lstm  z = x_t kernel + h recurrent_kernel + bias, split into gates i, f, c, o (that order);
        i, f, o = rec(z_i), rec(z_f), rec(z_o); c = f * c + i * act(z_c); h = o * act(c)
  gru   gates z, r, h (that order); with reset_after (Keras 3's default) the bias is
        (2, 3u): an input bias and a recurrent bias, and
        z = rec(x W_z + b_z + h U_z + b'_z); r = rec(x W_r + b_r + h U_r + b'_r);
        h~ = act(x W_h + b_h + r * (h U_h + b'_h)); h = z * h + (1 - z) * h~
        without it the bias is (3u,) and h~ = act(x W_h + b_h + (r * h) U_h).

The state starts at zero. The output is the last h (units,), or every h (steps, units) with
`return_sequences`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from specc.dims import Dim
from specc.ir import TensorType
from specc.ops.activation import ACTIVATION
from specc.ops.base import (
    REGISTRY,
    Footprint,
    Init,
    Op,
    Param,
    Problem,
    attr,
    expect_rank,
)
from specc.ops.common import BOOL, POSITIVE_INT

AXES = "steps, features"
T = TypeVar("T")


class Recurrent(Op):
    """A recurrent layer with `gates` blocks of `units` columns in each kernel."""

    family = "recurrent"
    gates: ClassVar[int] = 1
    # The Keras initialiser of the bias (LSTM's unit_forget_bias starts the forget gate at 1).
    bias_init: ClassVar[Init] = "zeros"
    units: int = attr(
        schema=POSITIVE_INT, doc="size of the state and of each output step", examples=(1, 2, 3)
    )
    # The examples are the activations ONNX's LSTM and GRU also take (exports are tested).
    activation: str | None = attr(
        default="tanh",
        schema=ACTIVATION,
        doc="activation of the candidate state and the output",
        examples=("tanh", "relu", "sigmoid", "elu", "leaky_relu", None),
    )
    recurrent_activation: str | None = attr(
        default="sigmoid",
        schema=ACTIVATION,
        doc="activation of the gates",
        examples=("sigmoid", "tanh", "relu", None),
    )
    bias: bool = attr(default=True, schema=BOOL, doc="add learned biases (Keras's use_bias)")
    return_sequences: bool = attr(
        default=False, schema=BOOL, doc="output every step (steps, units), not only the last"
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, 2, AXES)
        return TensorType((x.shape[0], self.units) if self.return_sequences else (self.units,))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        """kernel (in, G*u), recurrent_kernel (u, G*u) and the bias, as Keras stores them."""
        c, g, u = inputs[0].channels, self.gates, self.units
        kernel = Param("kernel", (c, g * u), "glorot_uniform", fan_in=c, torch_perm=(1, 0))
        recurrent = Param("recurrent_kernel", (u, g * u), "orthogonal", fan_in=u, torch_perm=(1, 0))
        if not self.bias:
            return (kernel, recurrent)
        return (kernel, recurrent, Param("bias", self.bias_shape(), self.bias_init))

    def bias_shape(self) -> tuple[Dim, ...]:
        return (self.gates * self.units,)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Per step, the input projection x_t kernel (in x G*u) and the recurrent one
        h recurrent_kernel (u x G*u): T x G*u x (in + u) in all (biases and gate
        products are not counted, as for the other layers)."""
        steps, c = inputs[0].shape
        return steps * self.gates * self.units * (c + self.units)

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """'global': the state carries every earlier step, so the last output reads the whole
        sequence (and, with return_sequences, output t reads steps 0 ... t: the largest of
        those fields is all of it)."""
        return "global"

    def output_activation(self) -> str | None:
        return None  # the activation is inside the recurrence: nothing after it to fuse


class LSTM(Recurrent):
    type = "lstm"
    summary = "long short-term memory over (steps, features): gates i, f, c, o"
    gates = 4
    bias_init = "unit_forget_bias"


class GRU(Recurrent):
    type = "gru"
    summary = "gated recurrent unit over (steps, features): gates z, r, h"
    gates = 3
    reset_after: bool = attr(
        default=True,
        schema=BOOL,
        doc="apply the reset gate after the recurrent product (Keras 3, cuDNN); "
        "the bias is then (2, 3 x units)",
    )

    def bias_shape(self) -> tuple[Dim, ...]:
        g = self.gates * self.units
        return (2, g) if self.reset_after else (g,)


MERGE_MODES = ("concat", "sum", "mul", "ave")
RECURRENT_LAYER = {
    "description": "an lstm or gru layer (type and attributes)",
    "allOf": [
        {"$ref": "#/$defs/inner_layer"},
        {"properties": {"type": {"enum": ["gru", "lstm"]}}},
    ],
}
DIRECTIONS = ("forward", "backward")


class Bidirectional(Op):
    """The inner recurrent layer run forward and, with weights of its own, backward in time;
    the two outputs merged. Weights are `<layer>.forward_<param>` and `<layer>.backward_<param>`
    (Keras's forward_lstm / backward_lstm sublayers, in that order)."""

    type = "bidirectional"
    family = "recurrent"
    summary = "an lstm or gru run forward and backward in time, the two outputs merged"
    inner_attr = "layer"
    layer: Recurrent = attr(schema=RECURRENT_LAYER, doc="the recurrent layer (lstm or gru)")
    merge_mode: str = attr(
        default="concat",
        schema={"description": "concat, sum, mul or ave", "enum": list(MERGE_MODES)},
        doc="how the two directions combine: concat (units x 2), sum, mul or ave",
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Op:
        layer = REGISTRY[data["layer"]["type"]].from_mapping(data["layer"])
        if not isinstance(layer, Recurrent):  # the schema refuses it in a spec
            raise Problem("S101", f"bidirectional wraps an lstm or gru; got {layer.type}", "layer")
        return cls(layer=layer, **{k: v for k, v in data.items() if k == "merge_mode"})

    @classmethod
    def inner_input(cls, x: TensorType) -> TensorType:
        return x  # both directions read the whole sequence

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        out = self.layer.infer(inputs)
        if self.merge_mode != "concat":
            return out
        return TensorType((*out.shape[:-1], 2 * out.shape[-1]))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        inner = self.layer.params(inputs)
        return tuple(replace(p, name=f"{d}_{p.name}") for d in DIRECTIONS for p in inner)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Twice the inner layer's: one pass per direction."""
        return 2 * self.layer.macs(inputs, self.layer.infer(inputs))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """'global': the backward pass makes every output read the whole sequence."""
        return "global"


def split_params(direction: str, params: Mapping[str, T]) -> dict[str, T]:
    """One direction's entries of a bidirectional layer's mapping, under the inner names."""
    prefix = f"{direction}_"
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
