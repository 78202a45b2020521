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
        if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6
            return min(max(v + 3.0, 0.0), 6.0) / 6.0
        if name in ("hard_swish", "hard_silu"):
            return v * min(max(v + 3.0, 0.0), 6.0) / 6.0
        if name == "softplus":  # log(1 + exp(v)), written so that exp cannot overflow
            return max(v, 0.0) + math.log1p(math.exp(-abs(v)))
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


def upsample_bilinear(x: NDArray, factors: tuple[int, ...]) -> NDArray:
    """Each output cell o along an axis of n cells scaled by f sits at input coordinate
    c = (o + 1/2) / f - 1/2 (half-pixel centres); it is (1 - t) * x[i] + t * x[i + 1] with
    i = floor(c), t = c - i, and indices clamped to 0..n-1. Per output position, the sum over
    the 2^rank corners of the product of their per-axis weights."""
    spatial = x.shape[1:-1]
    shape = tuple(n * f for n, f in zip(spatial, factors, strict=True))
    y = np.zeros((x.shape[0], *shape, x.shape[-1]))
    for o in _positions(shape):
        per_axis = []
        for a, (n, f) in enumerate(zip(spatial, factors, strict=True)):
            c = (o[a] + 0.5) / f - 0.5
            i = math.floor(c)
            t = c - i
            per_axis.append([(min(max(i, 0), n - 1), 1 - t), (min(max(i + 1, 0), n - 1), t)])
        for corner in itertools.product(*per_axis):
            weight = math.prod(wt for _, wt in corner)
            y[(slice(None), *o)] += weight * x[(slice(None), *(i for i, _ in corner))]
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
    "softplus",
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
    y = x.max(axis=axes) if op.type == "global_max_pool" else x.mean(axis=axes)
    return y.reshape(x.shape[0], *(1,) * len(axes), x.shape[-1]) if op.keepdims else y


def broadcast_merge(xs: list[NDArray], combine: Callable[[float, float], float]) -> NDArray:
    """Per output position, the inputs' values at it: aligned from the last axis, an axis of 1
    (or one an input lacks) reads index 0; the batch axis pairs with the batch axis."""
    rank = max(x.ndim for x in xs) - 1
    full = [(x.shape[0], *(1,) * (rank + 1 - x.ndim), *x.shape[1:]) for x in xs]
    shape = tuple(max(s[a] for s in full) for a in range(rank + 1))
    y = np.zeros(shape)
    for o in _positions(shape):
        values = []
        for x, s in zip(xs, full, strict=True):
            i = tuple(0 if s[a] == 1 else o[a] for a in range(rank + 1))
            values.append(float(x.reshape(s)[i]))
        total = values[0]
        for v in values[1:]:
            total = combine(total, v)
        y[o] = total
    return y


@naive("add", "subtract", "multiply")
def _elementwise(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    combine = {
        "add": lambda a, b: a + b,
        "subtract": lambda a, b: a - b,
        "multiply": lambda a, b: a * b,
    }[op.type]
    return broadcast_merge(xs, combine)


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


@naive("upsample1d", "upsample2d", "upsample3d")
def _upsample(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    if getattr(op, "interpolation", "nearest") == "bilinear":
        return upsample_bilinear(xs[0], op.factors)
    return upsample_nearest(xs[0], op.factors)


@naive("cropping1d", "cropping2d", "cropping3d")
def _cropping(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """y[n, o] = x[n, o + before], position by position."""
    x = xs[0]
    pairs = op.pairs
    shape = tuple(n - a - z for n, (a, z) in zip(x.shape[1:-1], pairs, strict=True))
    y = np.zeros((x.shape[0], *shape, x.shape[-1]))
    for n in range(x.shape[0]):
        for o in _positions(shape):
            y[(n, *o)] = x[(n, *(o[a] + pairs[a][0] for a in range(len(pairs))))]
    return y


@naive("slice")
def _slice(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """The indices i of the axis, in order, with start <= i < stop and (i - start) % step == 0
    after counting negative bounds from the end and clamping them to the axis."""
    x = xs[0]
    axis = op.axis % (x.ndim - 1) + 1
    n = x.shape[axis]

    def bound(value: int | None, default: int) -> int:
        if value is None:
            return default
        return min(max(value + n if value < 0 else value, 0), n)

    start, stop = bound(op.start, 0), bound(op.stop, n)
    taken = [i for i in range(n) if start <= i < stop and (i - start) % op.step == 0]
    return np.stack([np.take(x, i, axis=axis) for i in taken], axis=axis)


@naive("permute")
def _permute(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """y[n, i_1, ..., i_r] = x[n, j] with j[dims[k] - 1] = i_k, position by position."""
    x = xs[0]
    shape = tuple(x.shape[d] for d in op.dims)
    y = np.zeros((x.shape[0], *shape))
    for n in range(x.shape[0]):
        for o in _positions(shape):
            j = [0] * len(op.dims)
            for k, d in enumerate(op.dims):
                j[d - 1] = o[k]
            y[(n, *o)] = x[(n, *j)]
    return y


@naive("identity")
def _identity(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return xs[0]


@naive("time_distributed")
def _time_distributed(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """The inner layer on each slice of the first axis, one slice at a time, same weights."""
    x = xs[0]
    slices = [evaluate(op.layer, [x[:, t]], w, dims) for t in range(x.shape[1])]
    return np.stack(slices, axis=1)


@naive("multi_head_attention")
def _multi_head_attention(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """Keras's MultiHeadAttention from its formula: each role projected per head (plus its bias);
    per sample, head and query position, the softmax over every key position of
    q . k / sqrt(key_dim) weighs the values; the heads' results are projected to the output."""
    query = xs[0]
    value = xs[1] if len(xs) > 1 else query
    key = xs[2] if len(xs) > 2 else value
    n, heads = query.shape[0], op.num_heads

    def project(x: NDArray, role: str) -> NDArray:  # (n, T, d) -> (n, T, heads, size)
        kernel = w[f"{role}_kernel"]
        y = np.einsum("ntd,dhs->nths", x.reshape(n, -1, x.shape[-1]), kernel)
        return y + w[f"{role}_bias"] if f"{role}_bias" in w else y

    q, k, v = project(query, "query"), project(key, "key"), project(value, "value")
    scale = 1 / math.sqrt(op.key_dim)
    context = np.zeros((n, q.shape[1], heads, v.shape[-1]))
    for b, h, i in itertools.product(range(n), range(heads), range(q.shape[1])):
        scores = [float(np.dot(q[b, i, h], k[b, j, h])) * scale for j in range(k.shape[1])]
        top = max(scores)
        e = [math.exp(s - top) for s in scores]
        for j in range(k.shape[1]):
            context[b, i, h] += e[j] / sum(e) * v[b, j, h]
    y = np.einsum("nths,hso->nto", context, w["output_kernel"])
    if "output_bias" in w:
        y = y + w["output_bias"]
    return y.reshape(*query.shape[:-1], y.shape[-1])


def _activation_layer(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return activation(xs[0], op.type, getattr(op, "alpha", None))


naive(*ACTIVATIONS)(_activation_layer)


def _act(name: str | None, v: NDArray) -> NDArray:
    return v if name is None else activation(v, name)


def _sigm(name: str | None, v: NDArray) -> NDArray:
    return _act(name, v)


def lstm_cell(op: Any, x: NDArray, w: Weights, reverse: bool = False) -> NDArray:
    """Keras's LSTM, one sample and one step at a time: z = x_t W + h U + b split i, f, c, o;
    c = f * c + i * act(z_c); h = o * act(c). Returns the h of each step, in time order."""
    u = op.units
    kernel, rec = w["kernel"], w["recurrent_kernel"]
    bias = w.get("bias", np.zeros(4 * u))
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    out = np.zeros((x.shape[0], x.shape[1], u))
    for n in range(x.shape[0]):
        h, c = np.zeros(u), np.zeros(u)
        for t in steps:
            z = [
                sum(x[n, t, k] * kernel[k, j] for k in range(x.shape[2]))
                + sum(h[k] * rec[k, j] for k in range(u))
                + bias[j]
                for j in range(4 * u)
            ]
            zi, zf, zc, zo = (np.array(z[g * u : (g + 1) * u]) for g in range(4))
            i = _sigm(op.recurrent_activation, zi)
            f = _sigm(op.recurrent_activation, zf)
            o = _sigm(op.recurrent_activation, zo)
            c = f * c + i * _act(op.activation, zc)
            h = o * _act(op.activation, c)
            out[n, t] = h
    return out


def gru_cell(op: Any, x: NDArray, w: Weights, reverse: bool = False) -> NDArray:
    """Keras's GRU: gates z, r, h. reset_after: h~ = act(x W_h + b_h + r * (h U_h + b'_h));
    otherwise h~ = act(x W_h + b_h + (r * h) U_h). h = z * h + (1 - z) * h~."""
    u = op.units
    kernel, rec = w["kernel"], w["recurrent_kernel"]
    if "bias" in w:
        b_in, b_rec = (w["bias"][0], w["bias"][1]) if op.reset_after else (w["bias"], None)
    else:
        b_in, b_rec = np.zeros(3 * u), None
    b_rec = np.zeros(3 * u) if b_rec is None else b_rec

    def dot(v: NDArray, m: NDArray, j: int) -> float:
        return float(sum(v[k] * m[k, j] for k in range(len(v))))

    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    out = np.zeros((x.shape[0], x.shape[1], u))
    for n in range(x.shape[0]):
        h = np.zeros(u)
        for t in steps:
            xt = x[n, t]
            xz = np.array([dot(xt, kernel, j) + b_in[j] for j in range(u)])
            xr = np.array([dot(xt, kernel, u + j) + b_in[u + j] for j in range(u)])
            xh = np.array([dot(xt, kernel, 2 * u + j) + b_in[2 * u + j] for j in range(u)])
            hz = np.array([dot(h, rec, j) + b_rec[j] for j in range(u)])
            hr = np.array([dot(h, rec, u + j) + b_rec[u + j] for j in range(u)])
            z = _sigm(op.recurrent_activation, xz + hz)
            r = _sigm(op.recurrent_activation, xr + hr)
            if op.reset_after:
                hh = np.array([dot(h, rec, 2 * u + j) + b_rec[2 * u + j] for j in range(u)])
                cand = _act(op.activation, xh + r * hh)
            else:
                cand = _act(
                    op.activation, xh + np.array([dot(r * h, rec, 2 * u + j) for j in range(u)])
                )
            h = z * h + (1 - z) * cand
            out[n, t] = h
    return out


def _recurrent_run(op: Any, x: NDArray, w: Weights, reverse: bool = False) -> NDArray:
    """All steps' h in time order (N, T, u), or the last one computed (N, u)."""
    cell = lstm_cell if op.type == "lstm" else gru_cell
    seq = cell(op, np.asarray(x, np.float64), w, reverse)
    if op.return_sequences:
        return seq
    return seq[:, 0] if reverse else seq[:, -1]


@naive("lstm", "gru")
def _recurrent(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    return _recurrent_run(op, xs[0], w)


@naive("bidirectional")
def _bidirectional(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """Forward on the steps in order; backward on the reversed steps, its outputs put back at
    their own steps (Keras reverses them back); then the merge."""
    half = {
        d: {k[len(d) + 1 :]: v for k, v in w.items() if k.startswith(d + "_")}
        for d in ("forward", "backward")
    }
    fwd = _recurrent_run(op.layer, xs[0], half["forward"])
    bwd = _recurrent_run(op.layer, xs[0], half["backward"], reverse=True)
    if op.merge_mode == "concat":
        return np.concatenate([fwd, bwd], axis=-1)
    if op.merge_mode == "sum":
        return fwd + bwd
    if op.merge_mode == "mul":
        return fwd * bwd
    return (fwd + bwd) / 2


@naive("embedding")
def _embedding(op: Any, xs: list[NDArray], w: Weights, dims: Dims) -> NDArray:
    """Row x of the table for each index x, one position at a time."""
    idx = np.asarray(xs[0]).astype(np.int64)
    table = w["embeddings"]
    y = np.zeros((*idx.shape, table.shape[1]))
    for pos in _positions(idx.shape):
        y[pos] = table[idx[pos]]
    return y
