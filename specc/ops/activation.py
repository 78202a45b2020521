"""Element-wise activations, usable as layers and as the `activation:` of conv and dense."""

from __future__ import annotations

from collections.abc import Sequence

from specc.ir import TensorType
from specc.ops.base import Op, attr

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu", "silu")
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
    summary = "exp(x) / sum(exp(x)) over the last axis"


class Gelu(Activation):
    type = "gelu"
    summary = "x * Phi(x), the exact (erf) form"


class Silu(Activation):
    type = "silu"
    summary = "x * sigmoid(x) (swish)"
