"""Batch normalisation in NumPy (inference mode, moving statistics): its lowering and kernel."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from specc.ir import weight_key
from specc.lower.builder import Builder, Node, lowers
from specc.lower.fold import AFFINES
from specc.lower.steps import Consts, Value
from specc.ops.base import Op
from specc.ops.norm import BatchNorm


@lowers(BatchNorm)
def _batch_norm(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, BatchNorm)
    (x,) = node.inputs
    name, eps = node.name, op.epsilon
    channels = x.shape[-1]

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        mean, var = weights[node.key("moving_mean")], weights[node.key("moving_variance")]
        ones = np.ones(channels, mean.dtype)
        gamma = weights.get(node.key("gamma"), ones)
        beta = weights.get(node.key("beta"), ones * 0)
        return gamma, beta, mean, var

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return batch_norm(ins[0], c[0], c[1], c[2], c[3], eps, out=out)

    out = b.new(name, x.shape)
    return b.emit(
        "batch_norm",
        node,
        (x,),
        out,
        run,
        flops=2 * x.size,
        bind=bind,
        const_bytes=4 * channels * b.itemsize,
    )


def batch_norm(
    x: NDArray,
    gamma: NDArray | None,
    beta: NDArray | None,
    mean: NDArray,
    var: NDArray,
    eps: float,
    out: NDArray | None = None,
) -> NDArray:
    """Inference-mode batch normalisation per channel (last axis) with moving statistics."""
    scale = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    y = np.multiply(x, scale.astype(x.dtype), out=out)
    y += shift.astype(x.dtype)
    return y


@AFFINES.register(BatchNorm)
def bn_affine(weights: Mapping[str, NDArray], layer: str, op: Op) -> tuple[NDArray, NDArray]:
    """(scale, shift) in float64 such that batch_norm(y) == y * scale + shift, per channel."""
    assert isinstance(op, BatchNorm)
    var = weights[weight_key(layer, "moving_variance")].astype(np.float64)
    mean = weights[weight_key(layer, "moving_mean")].astype(np.float64)
    scale = 1.0 / np.sqrt(var + op.epsilon)
    gamma = weights.get(weight_key(layer, "gamma"))
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    beta = weights.get(weight_key(layer, "beta"))
    if beta is not None:
        shift = shift + beta
    return scale, shift
