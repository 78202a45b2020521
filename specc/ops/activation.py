"""Element-wise activations, usable as layers and as the `activation:` of conv and dense."""

from __future__ import annotations

from collections.abc import Sequence

from specc.ir import TensorType
from specc.ops.base import Footprint, Op, attr
from specc.ops.common import AXES, sample_axes

ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "sigmoid",
    "tanh",
    "softmax",
    "gelu",
    "silu",
    "hard_sigmoid",
    "hard_swish",
    "hard_silu",  # Keras 3's name of hard_swish: the same function
    "mish",
    "softplus",
)
ACTIVATION = {
    "description": "an activation name: " + ", ".join(ACTIVATIONS),
    "enum": [*ACTIVATIONS, None],
}


class Activation(Op):
    """An element-wise function: the output has the input's shape and no weights."""

    family = "activation"

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        return inputs[0]

    def output_activation(self) -> str | None:
        return self.type


class Relu(Activation):
    type = "relu"
    summary = "max(x, 0)"


class Relu6(Activation):
    type = "relu6"
    summary = "min(max(x, 0), 6)"


class LeakyRelu(Activation):
    type = "leaky_relu"
    summary = "x if x > 0 else alpha * x"
    alpha: float = attr(
        default=0.3,
        schema={"type": "number", "minimum": 0},
        doc="slope for x < 0",
        examples=(0.0, 0.1, 0.3),
    )


class Elu(Activation):
    type = "elu"
    summary = "x if x > 0 else alpha * (exp(x) - 1)"
    alpha: float = attr(
        default=1.0,
        schema={"type": "number", "minimum": 0},
        doc="scale for x < 0",
        examples=(0.0, 0.5, 1.0),
    )


class Sigmoid(Activation):
    type = "sigmoid"
    summary = "1 / (1 + exp(-x))"


class Tanh(Activation):
    type = "tanh"
    summary = "tanh(x)"


class Softmax(Activation):
    type = "softmax"
    summary = "exp(x) / sum(exp(x)) over `axis` (default: the last)"
    axis: int | tuple[int, ...] = attr(
        default=-1,
        schema=AXES,
        doc="the axis or axes the values sum to 1 over, counted without the batch axis",
        examples=(-1, 0, (-2, -1)),
    )

    def axes(self, rank: int) -> tuple[int, ...]:
        """The softmax axes, sorted and non-negative (per sample)."""
        return sample_axes(self.axis, rank, self.type)

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        self.axes(inputs[0].rank)
        return inputs[0]

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        # Over the channels it keeps positions, as before; over a spatial axis it reads all of it.
        return "same" if self.axes(output.rank) == (output.rank - 1,) else "global"


class Gelu(Activation):
    type = "gelu"
    summary = "x * Phi(x), the exact (erf) form"


class Silu(Activation):
    type = "silu"
    summary = "x * sigmoid(x) (swish)"


class HardSigmoid(Activation):
    type = "hard_sigmoid"
    summary = "relu6(x + 3) / 6 (Keras 3's; 0 below -3, 1 above 3)"


class HardSwish(Activation):
    type = "hard_swish"
    summary = "x * relu6(x + 3) / 6 (MobileNetV3's; also named hard_silu)"


class HardSilu(HardSwish):
    """Keras 3 names hard_swish hard_silu; both names are accepted and compute the same."""

    type = "hard_silu"
    summary = "another name for hard_swish, Keras 3's: x * relu6(x + 3) / 6"


class Mish(Activation):
    type = "mish"
    summary = "x * tanh(softplus(x)), softplus(x) = log(1 + exp(x))"


class Softplus(Activation):
    type = "softplus"
    summary = "log(1 + exp(x)), a smooth relu"
