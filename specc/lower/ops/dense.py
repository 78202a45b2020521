"""Dense layers in NumPy: one GEMM over the rows, and the plain x @ w + b kernel."""

from __future__ import annotations

from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.gemm import add_bias, conv
from specc.lower.linear import bias_of, linear
from specc.lower.padding import no_pads
from specc.lower.steps import Consts, Value
from specc.ops.dense import Dense


@lowers(Dense)
def _dense(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Dense)
    (x,) = node.inputs
    units, channels = op.units, x.shape[-1]
    # A dense layer is a 1-wide convolution over the rows: one GEMM straight into its buffer.
    rows = x.size // channels // x.shape[0]
    zeros = no_pads(1)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        a = ins[0].reshape(ins[0].shape[0], rows, channels)
        y = None if out is None else out.reshape(out.shape[0], rows, units)
        conv(a, c[0], bias_of(c), stride=(1,), dilation=(1,), pads=zeros, out=y)
        assert out is not None
        return out

    flops = 2 * x.size * units
    return linear(
        b,
        node,
        "gemm",
        (x,),
        run,
        kernel_shape=(1, channels, units),
        flops=flops,
        detail=f"{channels}->{units}",
    )


def dense(x: NDArray, w: NDArray, b: NDArray | None = None) -> NDArray:
    """x @ w + b over the last axis; the other axes are kept."""
    y = x @ w.astype(x.dtype, copy=False)
    return add_bias(y, b)
