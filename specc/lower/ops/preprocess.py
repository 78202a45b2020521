"""Preprocessing in NumPy: rescaling by constants and normalisation by stored statistics."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from specc.ir import weight_key
from specc.lower.builder import Builder, Node, lowers
from specc.lower.fold import AFFINES
from specc.lower.ops.norm import weighted_elementwise
from specc.lower.steps import Consts, Value
from specc.ops.base import Op
from specc.ops.preprocess import KERAS_EPSILON, Normalization, Rescaling


@lowers(Rescaling)
def _rescaling(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Rescaling)
    scale, offset = op.scale, op.offset

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return rescale(ins[0], scale, offset, out=out)

    return b.elementwise("rescaling", node, node.inputs[0], run, flops=2 * node.inputs[0].size)


def rescale(x: NDArray, scale: float, offset: float, out: NDArray | None = None) -> NDArray:
    """x * scale + offset, in the dtype of `x`, as Keras casts the constants."""
    y = np.multiply(x, x.dtype.type(scale), out=out)
    y += x.dtype.type(offset)
    return y


@lowers(Normalization)
def _normalization(b: Builder, node: Node) -> Value:
    x = node.inputs[0]
    mean_key, var_key = node.key("mean"), node.key("variance")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        mean, var = weights[mean_key], weights[var_key]
        return mean, standard_deviation(var).astype(var.dtype)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        y = np.subtract(ins[0], c[0], out=out)
        y /= c[1]
        return y

    const_bytes = 2 * x.shape[-1] * b.itemsize
    return weighted_elementwise(b, node, "normalization", run, bind, 2 * x.size, const_bytes)


def standard_deviation(variance: NDArray) -> NDArray:
    """Keras's divisor: max(sqrt(variance), 1e-7), computed as Keras does, in float32 or wider."""
    return np.maximum(np.sqrt(variance), variance.dtype.type(KERAS_EPSILON))


@AFFINES.register(Normalization)
def normalization_affine(
    weights: Mapping[str, NDArray], layer: str, op: Op
) -> tuple[NDArray, NDArray]:
    """(1 / std, -mean / std) in float64: normalization(y) == y * scale + shift, per channel."""
    mean = weights[weight_key(layer, "mean")].astype(np.float64)
    std = standard_deviation(weights[weight_key(layer, "variance")].astype(np.float64))
    return 1.0 / std, -mean / std
