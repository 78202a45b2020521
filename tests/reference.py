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
    x: NDArray, w: NDArray, b: NDArray | None, stride: tuple[int, ...], padding: str
) -> NDArray:
    """Each input pixel paints w[..., f, c] * x[c] onto a k-sized patch at i*s; Keras then crops."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    kernel, filters = w.shape[:rank], w.shape[rank]
    full = [(n - 1) * s + k for n, k, s in zip(spatial, kernel, stride, strict=True)]
    if padding == "valid":
        crop = [0] * rank
        length = [n * s + max(k - s, 0) for n, k, s in zip(spatial, kernel, stride, strict=True)]
    else:
        crop = [max(k - s, 0) // 2 for k, s in zip(kernel, stride, strict=True)]
        length = [n * s for n, s in zip(spatial, stride, strict=True)]
    canvas = np.zeros(
        (x.shape[0], *[max(f, c + n) for f, c, n in zip(full, crop, length, strict=True)], filters)
    )
    for n in range(x.shape[0]):
        for i in _positions(spatial):
            for t in _positions(kernel):
                o = tuple(i[a] * stride[a] + t[a] for a in range(rank))
                for f in range(filters):
                    canvas[(n, *o, f)] += sum(
                        x[(n, *i, c)] * w[(*t, f, c)] for c in range(x.shape[-1])
                    )
    y = canvas[(slice(None), *(slice(c, c + n) for c, n in zip(crop, length, strict=True)))]
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
        if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6
            return min(max(v + 3.0, 0.0), 6.0) / 6.0
        if name in ("hard_swish", "hard_silu"):
            return v * min(max(v + 3.0, 0.0), 6.0) / 6.0
        if name == "mish":  # softplus written so that exp cannot overflow
            softplus = max(v, 0.0) + math.log1p(math.exp(-abs(v)))
            return v * math.tanh(softplus)
        raise ValueError(name)

    def one_sigmoid(v: float) -> float:
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))

    flat = np.asarray(x, np.float64).ravel()
    if name == "softmax":
        return softmax(x, (x.ndim - 1,))
    return np.array([one(float(v)) for v in flat]).reshape(x.shape)


def _groups_of(shape: tuple[int, ...], axes: tuple[int, ...]) -> dict[tuple[int, ...], list]:
    """The positions of an array grouped by their coordinates off `axes` (one group per set of
    values that share statistics)."""
    groups: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for i in _positions(shape):
        groups.setdefault(tuple(c for a, c in enumerate(i) if a not in axes), []).append(i)
    return groups


def softmax(x: NDArray, axes: tuple[int, ...]) -> NDArray:
    """exp(v - max) / sum(exp(v - max)) over each group of values that share `axes`."""
    x = np.asarray(x, np.float64)
    y = np.zeros(x.shape)
    for cells in _groups_of(x.shape, axes).values():
        top = max(x[i] for i in cells)
        total = sum(math.exp(x[i] - top) for i in cells)
        for i in cells:
            y[i] = math.exp(x[i] - top) / total
    return y


def normalise(x: NDArray, axes: tuple[int, ...], eps: float) -> NDArray:
    """(v - mean) / sqrt(variance + eps), the statistics of each group of values sharing `axes`
    (the mean, then the mean squared distance from it)."""
    x = np.asarray(x, np.float64)
    y = np.zeros(x.shape)
    for cells in _groups_of(x.shape, axes).values():
        mean = sum(x[i] for i in cells) / len(cells)
        var = sum((x[i] - mean) ** 2 for i in cells) / len(cells)
        for i in cells:
            y[i] = (x[i] - mean) / math.sqrt(var + eps)
    return y


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
ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "sigmoid",
    "tanh",
    "gelu",
    "silu",
    "hard_sigmoid",
    "hard_swish",
    "hard_silu",
    "mish",
)


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


@naive("conv2d_transpose")
def _conv_transpose(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    y = conv_transpose(xs[0], w["kernel"], w.get("bias"), op.strides, op.padding)
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


@naive("layer_norm")
def _layer_norm(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """Keras: statistics over `axis` of each sample; gamma and beta shaped like those axes."""
    x = xs[0]
    given = (op.axis,) if isinstance(op.axis, int) else op.axis
    axes = tuple(sorted(a % (x.ndim - 1) + 1 for a in given))
    y = normalise(x, axes, op.epsilon)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    if "gamma" in w:
        y = y * w["gamma"].reshape(shape)
    return y + w["beta"].reshape(shape) if "beta" in w else y


@naive("group_norm")
def _group_norm(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """Keras: channel c is in group c // (C / groups); statistics per sample and group over
    every position and the group's channels; then gamma and beta per channel."""
    x = np.asarray(xs[0], np.float64)
    c = x.shape[-1]
    size = c // op.groups
    y = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for g in range(op.groups):
            members = x[n, ..., g * size : (g + 1) * size]
            mean = members.sum() / members.size
            var = ((members - mean) ** 2).sum() / members.size
            y[n, ..., g * size : (g + 1) * size] = (members - mean) / math.sqrt(var + op.epsilon)
    for ch in range(c):
        y[..., ch] = y[..., ch] * w["gamma"][ch] if "gamma" in w else y[..., ch]
        y[..., ch] = y[..., ch] + w["beta"][ch] if "beta" in w else y[..., ch]
    return y


@naive("scale")
def _scale(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    y = np.zeros(x.shape)
    for ch in range(x.shape[-1]):
        y[..., ch] = x[..., ch] * w["gamma"][ch]
    return y


@naive("rescaling")
def _rescaling(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return np.asarray(xs[0], np.float64) * op.scale + op.offset


@naive("normalization")
def _normalization(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """Keras 3: (x - mean) / maximum(sqrt(variance), backend.epsilon() = 1e-7), per channel."""
    x = xs[0]
    y = np.zeros(x.shape)
    for ch in range(x.shape[-1]):
        std = max(math.sqrt(w["variance"][ch]), 1e-7)
        y[..., ch] = (x[..., ch] - w["mean"][ch]) / std
    return y


@naive("softmax")
def _softmax(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    x = xs[0]
    given = (op.axis,) if isinstance(op.axis, int) else op.axis
    return softmax(x, tuple(sorted(a % (x.ndim - 1) + 1 for a in given)))


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
