"""Deliberately naive float64 references: explicit loops over output positions for the kernels,
and `REFERENCE`, one naive evaluation per layer type, for running whole specs (`run`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

Pairs = tuple[tuple[int, int], ...]


def _positions(shape: tuple[int, ...]) -> itertools.product[tuple[int, ...]]:
    return itertools.product(*(range(n) for n in shape))


def _out_len(n: int, k: int, s: int, d: int, before: int, after: int) -> int:
    return (n + before + after - d * (k - 1) - 1) // s + 1


def conv(
    x: NDArray,
    w: NDArray,
    b: NDArray | None,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pairs,
    groups: int = 1,
) -> NDArray:
    """y[n, o, f] = sum over taps t, group channels c of x[n, o*s + t*d - pad, c] * w[t, c, f]."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    rank = x.ndim - 2
    spatial, c_in = x.shape[1:-1], x.shape[-1]
    kernel, c_group, filters = w.shape[:rank], w.shape[rank], w.shape[-1]
    f_group = filters // groups
    out = tuple(
        _out_len(n, k, s, d, a, z)
        for n, k, s, d, (a, z) in zip(spatial, kernel, stride, dilation, pads, strict=True)
    )
    y = np.zeros((x.shape[0], *out, filters))
    assert c_group * groups == c_in
    for n in range(x.shape[0]):
        for o in _positions(out):
            for f in range(filters):
                g = f // f_group
                total = 0.0 if b is None else float(b[f])
                for t in _positions(kernel):
                    i = [o[a] * stride[a] + t[a] * dilation[a] - pads[a][0] for a in range(rank)]
                    if all(0 <= i[a] < spatial[a] for a in range(rank)):
                        for c in range(c_group):
                            total += x[(n, *i, g * c_group + c)] * w[(*t, c, f)]
                y[(n, *o, f)] = total
    return y


def depthwise_conv(
    x: NDArray,
    w: NDArray,
    b: NDArray | None,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pairs,
) -> NDArray:
    """Channel c*M + m of the output: input channel c convolved with w[..., c, m]."""
    rank = x.ndim - 2
    channels, mult = w.shape[-2:]
    y = []
    for c in range(channels):
        for m in range(mult):
            wc = w[..., c : c + 1, m : m + 1]
            bc = None if b is None else b[c * mult + m : c * mult + m + 1]
            y.append(conv(x[..., c : c + 1], wc, bc, stride, dilation, pads)[..., 0])
    assert len(y) == channels * mult and rank == len(stride)
    return np.stack(y, axis=-1)


def conv_transpose(
    x: NDArray,
    w: NDArray,
    b: NDArray | None,
    stride: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...] | None = None,
) -> NDArray:
    """Each input pixel paints w[..., f, c] * x[c] onto a patch whose tap t lands at i*s + t*d;
    Keras then crops (its lengths use the dilated extent K = d*(k-1) + 1)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    rank = x.ndim - 2
    dilation = dilation or (1,) * rank
    spatial = x.shape[1:-1]
    kernel, filters = w.shape[:rank], w.shape[rank]
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    full = [(n - 1) * s + e for n, e, s in zip(spatial, extent, stride, strict=True)]
    if padding == "valid":
        crop = [0] * rank
        length = [n * s + max(e - s, 0) for n, e, s in zip(spatial, extent, stride, strict=True)]
    else:
        crop = [max(e - s, 0) // 2 for e, s in zip(extent, stride, strict=True)]
        length = [n * s for n, s in zip(spatial, stride, strict=True)]
    canvas = np.zeros(
        (x.shape[0], *[max(f, c + n) for f, c, n in zip(full, crop, length, strict=True)], filters)
    )
    for n in range(x.shape[0]):
        for i in _positions(spatial):
            for t in _positions(kernel):
                o = tuple(i[a] * stride[a] + t[a] * dilation[a] for a in range(rank))
                for f in range(filters):
                    canvas[(n, *o, f)] += sum(
                        x[(n, *i, c)] * w[(*t, f, c)] for c in range(x.shape[-1])
                    )
    y = canvas[(slice(None), *(slice(c, c + n) for c, n in zip(crop, length, strict=True)))]
    return y if b is None else y + b


def separable_conv(
    x: NDArray,
    depthwise: NDArray,
    pointwise: NDArray,
    b: NDArray | None,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: Pairs,
) -> NDArray:
    """The depthwise convolution (channel c*M + m from channel c), then at every position
    y[f] = sum over the C*M channels j of mid[j] * pointwise[..., j, f], plus the bias."""
    mid = depthwise_conv(x, depthwise, None, stride, dilation, pads)
    rank = x.ndim - 2
    kernel = np.asarray(pointwise, np.float64).reshape(pointwise.shape[rank:])
    y = np.zeros((*mid.shape[:-1], kernel.shape[1]))
    for p in _positions(mid.shape[:-1]):
        for f in range(kernel.shape[1]):
            y[(*p, f)] = sum(mid[(*p, j)] * kernel[j, f] for j in range(kernel.shape[0]))
    return y if b is None else y + b


def pool(
    x: NDArray, kind: str, window: tuple[int, ...], stride: tuple[int, ...], pads: Pairs
) -> NDArray:
    """Max or mean over the in-bounds cells of each window (padding is never counted)."""
    x = np.asarray(x, np.float64)
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    out = tuple(
        _out_len(n, k, s, 1, a, z)
        for n, k, s, (a, z) in zip(spatial, window, stride, pads, strict=True)
    )
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for n in range(x.shape[0]):
        for o in _positions(out):
            for c in range(x.shape[-1]):
                cells = []
                for t in _positions(window):
                    i = [o[a] * stride[a] + t[a] - pads[a][0] for a in range(rank)]
                    if all(0 <= i[a] < spatial[a] for a in range(rank)):
                        cells.append(x[(n, *i, c)])
                y[(n, *o, c)] = max(cells) if kind == "max" else sum(cells) / len(cells)
    return y


def activation(x: NDArray, name: str, alpha: float | None = None) -> NDArray:
    """The formulas, one value at a time with the math module."""

    def one(v: float) -> float:
        if name == "relu":
            return max(v, 0.0)
        if name == "relu6":
            return min(max(v, 0.0), 6.0)
        if name == "leaky_relu":
            return v if v > 0 else (0.3 if alpha is None else alpha) * v
        if name == "elu":
            return v if v > 0 else (1.0 if alpha is None else alpha) * (math.exp(v) - 1)
        if name == "sigmoid":
            return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
        if name == "tanh":
            return math.tanh(v)
        if name == "gelu":
            return v * 0.5 * (1 + math.erf(v / math.sqrt(2)))
        if name == "silu":
            return v * one_sigmoid(v)
        raise ValueError(name)

    def one_sigmoid(v: float) -> float:
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))

    flat = np.asarray(x, np.float64).ravel()
    if name == "softmax":
        rows = flat.reshape(-1, x.shape[-1])
        out = []
        for row in rows:
            top = max(row)
            e = [math.exp(v - top) for v in row]
            out.append([v / sum(e) for v in e])
        return np.array(out).reshape(x.shape)
    return np.array([one(float(v)) for v in flat]).reshape(x.shape)


def batch_norm(
    x: NDArray, gamma: NDArray | None, beta: NDArray | None, mean: NDArray, var: NDArray, eps: float
) -> NDArray:
    """(x - mean) / sqrt(var + eps) * gamma + beta, channel by channel."""
    y = np.zeros(x.shape)
    for c in range(x.shape[-1]):
        g = 1.0 if gamma is None else float(gamma[c])
        z = 0.0 if beta is None else float(beta[c])
        y[..., c] = (np.asarray(x[..., c], np.float64) - mean[c]) / math.sqrt(var[c] + eps) * g + z
    return y


def zero_pad(x: NDArray, pairs: Pairs) -> NDArray:
    """Copy `x` into a zero canvas, position by position."""
    shape = [n + a + b for n, (a, b) in zip(x.shape[1:-1], pairs, strict=True)]
    y = np.zeros((x.shape[0], *shape, x.shape[-1]))
    for n in range(x.shape[0]):
        for i in _positions(x.shape[1:-1]):
            o = tuple(i[a] + pairs[a][0] for a in range(len(pairs)))
            y[(n, *o)] = x[(n, *i)]
    return y


def upsample_nearest(x: NDArray, factors: tuple[int, ...]) -> NDArray:
    """y[n, o] = x[n, o // factor]."""
    shape = [n * f for n, f in zip(x.shape[1:-1], factors, strict=True)]
    y = np.zeros((x.shape[0], *shape, x.shape[-1]))
    for n in range(x.shape[0]):
        for o in _positions(tuple(shape)):
            y[(n, *o)] = x[(n, *(o[a] // factors[a] for a in range(len(factors))))]
    return y


# -- one naive evaluation per layer type ----------------------------------------------------
# Each takes the op, its input arrays (batch axis first), its weights by parameter name and the
# values of the symbolic dims.
Weights = Mapping[str, NDArray]
Dims = Mapping[str, int]
Naive = Callable[[Any, list[NDArray], Weights, Dims], NDArray]
REFERENCE: dict[str, Naive] = {}
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu", "silu")


def naive(*types: str) -> Callable[[Naive], Naive]:
    """Register `fn` as the reference of these layer types."""

    def register(fn: Naive) -> Naive:
        for name in types:
            assert name not in REFERENCE, name
            REFERENCE[name] = fn
        return fn

    return register


def run(
    model: Any, weights: Weights, inputs: Mapping[str, NDArray], dims: Dims | None = None
) -> dict[str, NDArray]:
    """The model evaluated layer by layer with the naive references in float64, nothing folded."""
    env = {k: np.asarray(v, np.float64) for k, v in inputs.items()}
    for layer in model.layers:
        own = {
            key.split(".", 1)[1]: np.asarray(value, np.float64)
            for key, value in weights.items()
            if key.split(".", 1)[0] == layer.name
        }
        env[layer.name] = evaluate(layer.op, [env[n] for n in layer.inputs], own, dims or {})
    return {name: env[name] for name in model.outputs}


def evaluate(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return REFERENCE[op.type](op, xs, w, dims)


def _pairs(op: Any, x: NDArray) -> Pairs:
    """Explicit padding pairs; 'same' as TensorFlow pads: the total the windows need to give
    ceil(n / stride) outputs, the odd cell after."""
    if op.padding == "causal":  # Keras: dilation * (kernel - 1) zeros before, none after
        return tuple((d * (k - 1), 0) for k, d in zip(op.kernel_size, op.dilations, strict=True))
    if op.pads != "same":
        return tuple(op.pads)
    pairs = []
    for n, k, s, d in zip(x.shape[1:-1], op.kernel_size, op.strides, op.dilations, strict=True):
        outputs = -(-n // s)
        total = max((outputs - 1) * s + d * (k - 1) + 1 - n, 0)
        pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def _activated(op: Any, y: NDArray) -> NDArray:
    return y if op.activation is None else activation(y, op.activation)


@naive("conv1d", "conv2d", "conv3d")
def _conv(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    y = conv(x, w["kernel"], w.get("bias"), op.strides, op.dilations, _pairs(op, x), op.groups)
    return _activated(op, y)


@naive("depthwise_conv2d")
def _depthwise(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    y = depthwise_conv(x, w["kernel"], w.get("bias"), op.strides, op.dilations, _pairs(op, x))
    return _activated(op, y)


@naive("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def _conv_transpose(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    y = conv_transpose(xs[0], w["kernel"], w.get("bias"), op.strides, op.padding, op.dilations)
    return _activated(op, y)


@naive("separable_conv1d", "separable_conv2d")
def _separable(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    y = separable_conv(
        x, w["depthwise_kernel"], w["pointwise_kernel"], w.get("bias"), op.strides,
        op.dilations, _pairs(op, x),
    )  # fmt: skip
    return _activated(op, y)


@naive("dense")
def _dense(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """y[..., u] = sum over i of x[..., i] * kernel[i, u], one output at a time."""
    x, kernel = xs[0], w["kernel"]
    rows = x.reshape(-1, x.shape[-1])
    y = np.zeros((rows.shape[0], kernel.shape[1]))
    for r, u in itertools.product(range(rows.shape[0]), range(kernel.shape[1])):
        y[r, u] = sum(float(rows[r, i]) * float(kernel[i, u]) for i in range(rows.shape[1]))
    if "bias" in w:
        y += w["bias"]
    return _activated(op, y.reshape(*x.shape[:-1], kernel.shape[1]))


@naive("batch_norm")
def _batch_norm(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    mean, var = w["moving_mean"], w["moving_variance"]
    return batch_norm(xs[0], w.get("gamma"), w.get("beta"), mean, var, op.epsilon)


@naive("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d")
def _pool(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    kind = op.type.split("_")[0]
    return pool(x, kind, op.kernel_size, op.strides, _pairs(op, x))


@naive("global_avg_pool", "global_max_pool")
def _global_pool(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    axes = tuple(range(1, x.ndim - 1))
    return x.max(axis=axes) if op.type == "global_max_pool" else x.mean(axis=axes)


@naive("add", "multiply")
def _elementwise(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    y = xs[0]
    for other in xs[1:]:
        y = y + other if op.type == "add" else y * other
    return y


@naive("concat")
def _concat(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return np.concatenate(xs, axis=op.axis % (xs[0].ndim - 1) + 1)


@naive("flatten")
def _flatten(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return xs[0].reshape(xs[0].shape[0], -1)


@naive("reshape")
def _reshape(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """The target with its symbols bound; NumPy infers the -1."""
    x = xs[0]
    return x.reshape(x.shape[0], *(dims[d] if isinstance(d, str) else d for d in op.shape))


@naive("dropout")
def _dropout(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return xs[0]


@naive("zero_pad1d", "zero_pad2d", "zero_pad3d")
def _zero_pad(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return zero_pad(xs[0], op.pairs)


@naive("upsample2d")
def _upsample(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return upsample_nearest(xs[0], op.factors)


@naive("time_distributed")
def _time_distributed(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """The inner layer on each slice of the first axis, one slice at a time, same weights."""
    x = xs[0]
    slices = [evaluate(op.layer, [x[:, t]], w, dims) for t in range(x.shape[1])]
    return np.stack(slices, axis=1)


def _activation_layer(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return activation(xs[0], op.type, getattr(op, "alpha", None))


naive(*ACTIVATIONS)(_activation_layer)
