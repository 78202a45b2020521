"""Deliberately naive float64 references for the kernels: explicit loops over output positions."""

from __future__ import annotations

import itertools
import math

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
