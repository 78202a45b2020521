"""The fully connected layer; it acts on the last axis only."""

from __future__ import annotations

from collections.abc import Sequence

from specc.dims import Dim, product
from specc.ir import TensorType
from specc.ops.activation import ACTIVATION
from specc.ops.base import (
    Footprint,
    KernelOp,
    Param,
    attr,
    expect_min_rank,
    kernel_param,
    with_bias,
)
from specc.ops.common import BOOL, POSITIVE_INT


class Dense(KernelOp):
    """y = x @ kernel + bias over the last axis; other axes are kept."""

    type = "dense"
    family = "dense"
    summary = "fully connected over the last axis"
    units: int = attr(schema=POSITIVE_INT, doc="number of output units", examples=(1, 2, 5))
    bias: bool = attr(default=True, schema=BOOL, doc="add a learned bias per unit")
    activation: str | None = attr(
        default=None, schema=ACTIVATION, doc="activation applied to the output"
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        return TensorType((*x.shape[:-1], self.units))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c = inputs[0].channels
        kernel = kernel_param((c, self.units), fan_in=c, torch_perm=(1, 0), out_axes=(1,))
        return with_bias(kernel, self.units, self.bias)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Every output element is a dot product over the C_in values of the last axis."""
        return product(output.shape) * inputs[0].channels

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        return "dense"
