"""Normalisation in NumPy: batch norm (moving statistics), layer and group norm (statistics
of each sample) and the per-channel scale; their lowerings, kernels and memory."""

from __future__ import annotations

from collections.abc import Mapping
from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.ir import weight_key
from specc.lower.builder import Builder, Node, lowers
from specc.lower.fold import AFFINES
from specc.lower.steps import Binder, Consts, Kernel, Value
from specc.lower.window import NO_MEMORY, KernelMemory, scratch
from specc.ops.base import Op
from specc.ops.norm import BatchNorm, GroupNorm, LayerNorm, Scale


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


# -- layer and group norm: statistics of each sample ------------------------------------------
def _optional(weights: Mapping[str, NDArray], key: str, shape: tuple[int, ...]) -> NDArray | None:
    found = weights.get(key)
    return None if found is None else found.reshape(shape)


def _normalise(
    b: Builder,
    node: Node,
    kind: str,
    view: tuple[int, ...],
    axes: tuple[int, ...],
    affine: tuple[int, ...],
    eps: float,
) -> Value:
    """One step: the input seen as `view`, normalised over `axes` of it, then gamma and beta
    (broadcast as `affine`, in the input's own shape) applied; in place when the input is dead."""
    (x,) = node.inputs
    shape = x.shape
    gamma_key, beta_key = node.key("gamma"), node.key("beta")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        gamma, beta = _optional(weights, gamma_key, affine), _optional(weights, beta_key, affine)
        return tuple(a for a in (gamma, beta) if a is not None)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        y = normalise(
            ins[0].reshape(view), axes, eps, out=None if out is None else out.reshape(view)
        )
        y = y.reshape(shape)
        consts = iter(c)
        if "gamma" in node.params:
            y *= next(consts)
        if "beta" in node.params:
            y += next(consts)
        return y

    memory = normalise_memory(view, axes, b.itemsize)
    const_bytes = 2 * prod(affine) * b.itemsize
    return weighted_elementwise(b, node, kind, run, bind, 4 * x.size, const_bytes, memory)


def weighted_elementwise(
    b: Builder,
    node: Node,
    kind: str,
    fn: Kernel,
    bind: Binder,
    flops: int,
    const_bytes: int,
    memory: KernelMemory = NO_MEMORY,
) -> Value:
    """An element-wise step with constants on the node's one input, in place when it is dead."""
    (x,) = node.inputs
    in_place = b.can_overwrite(x)
    out = b.alias(node.name, x.shape, x) if in_place else b.new(node.name, x.shape)
    return b.emit(
        kind,
        node,
        (x,),
        out,
        fn,
        mode="in_place" if in_place else "out",
        flops=flops,
        scratch=memory.scratch,
        temp=memory.temp,
        bind=bind,
        const_bytes=const_bytes,
    )


def normalise(x: NDArray, axes: tuple[int, ...], eps: float, out: NDArray | None = None) -> NDArray:
    """(x - mean) / sqrt(variance + eps), the statistics over `axes`; `out` may be `x`."""
    reduced = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    count = x.dtype.type(prod(x.shape[a] for a in axes))
    mean = np.add.reduce(x, axis=axes, keepdims=True, out=scratch(reduced, x.dtype, "norm-mean"))
    mean /= count
    y = np.subtract(x, mean, out=out)
    square = np.multiply(y, y, out=scratch(x.shape, x.dtype, "norm-square"))
    var = np.add.reduce(square, axis=axes, keepdims=True, out=mean)  # the mean is done with
    var /= count
    var += x.dtype.type(eps)
    np.sqrt(var, out=var)
    y /= var
    return y


def normalise_memory(shape: tuple[int, ...], axes: tuple[int, ...], itemsize: int) -> KernelMemory:
    """What `normalise` allocates on an input of `shape`: the squares and the statistics."""
    reduced = prod(1 if i in axes else n for i, n in enumerate(shape))
    return KernelMemory({"norm-mean": reduced * itemsize, "norm-square": prod(shape) * itemsize}, 0)


@lowers(LayerNorm)
def _layer_norm(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, LayerNorm)
    shape = node.inputs[0].shape
    axes = tuple(a + 1 for a in op.axes(len(shape) - 1))  # past the batch axis
    affine = tuple(n if i in axes else 1 for i, n in enumerate(shape))
    return _normalise(b, node, "layer_norm", shape, axes, affine, op.epsilon)


@lowers(GroupNorm)
def _group_norm(b: Builder, node: Node) -> Value:
    """Channels split as (groups, C / groups); statistics over every axis but batch and group."""
    op = node.op
    assert isinstance(op, GroupNorm)
    shape = node.inputs[0].shape
    view = (*shape[:-1], op.groups, shape[-1] // op.groups)
    axes = (*range(1, len(shape) - 1), len(view) - 1)
    affine = (*(1,) * (len(shape) - 1), shape[-1])
    return _normalise(b, node, "group_norm", view, axes, affine, op.epsilon)


# -- scale: a per-channel multiplier --------------------------------------------------------------
@lowers(Scale)
def _scale(b: Builder, node: Node) -> Value:
    (x,) = node.inputs
    key = node.key("gamma")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        return (weights[key],)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return np.multiply(ins[0], c[0], out=out)

    return weighted_elementwise(b, node, "scale", run, bind, x.size, x.shape[-1] * b.itemsize)


@AFFINES.register(Scale)
def scale_affine(weights: Mapping[str, NDArray], layer: str, op: Op) -> tuple[NDArray, NDArray]:
    """(gamma, 0): the scale is an affine without a shift."""
    gamma = weights[weight_key(layer, "gamma")].astype(np.float64)
    return gamma, np.zeros_like(gamma)
