"""Activations in NumPy: their lowering, element-wise kernels and memory, and an erf for gelu."""

from __future__ import annotations

import functools
import math
from math import prod
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.linear import activate
from specc.lower.steps import Value
from specc.lower.window import NO_MEMORY, KernelMemory, scratch
from specc.ops import activation as act


@lowers(act.Activation)
def _activation(b: Builder, node: Node) -> Value:
    (x,) = node.inputs
    op = node.op
    alpha = getattr(op, "alpha", None)
    axis = None
    if isinstance(op, act.Softmax):
        axis = tuple(a + 1 for a in op.axes(len(x.shape) - 1))  # past the batch axis
    return activate(b, node, x, op.type, alpha, label=node.name, axis=axis)


def activation(
    x: NDArray,
    name: str,
    *,
    alpha: float | None = None,
    axis: tuple[int, ...] | None = None,
    out: NDArray | None = None,
) -> NDArray:
    """An element-wise activation (softmax over `axis`, the last by default); in place when
    `out` is `x`."""
    y = np.empty_like(x) if out is None else out
    if name == "softmax":
        _softmax(x, y, (x.ndim - 1,) if axis is None else axis)
        return y
    fn = _ACTIVATIONS.get(name)
    if fn is None:
        raise ValueError(f"unknown activation {name!r}")
    fn(x, y, alpha)
    return y


def activation_memory(
    name: str, shape: tuple[int, ...], itemsize: int, axis: tuple[int, ...] | None = None
) -> KernelMemory:
    """What `activation(name)` allocates on an input of `shape` (kept in step with the code)."""
    size = prod(shape)
    values = size * itemsize
    if name == "sigmoid":
        return KernelMemory({"exp": values, "numerator": values}, 0)
    if name == "silu":
        return KernelMemory({"sigmoid": values, "exp": values, "numerator": values}, 0)
    if name == "gelu":  # x / sqrt(2), erf's |x| and its result; piece indices and coefficients
        index = size * np.dtype(np.intp).itemsize
        slots = {"erf-piece": index, "erf-coefficient": values}
        return KernelMemory(slots, 3 * values)
    if name == "elu":  # min(x, 0) and its expm1, then the scaled copy
        return KernelMemory({}, 2 * values)
    if name == "leaky_relu":  # the x > 0 mask and the per-value factors
        return KernelMemory({}, size + values)
    if name == "softmax":  # the maxima and sums over the axes
        reduced = prod(shape[a] for a in (axis or (len(shape) - 1,)))
        return KernelMemory({}, 2 * size // max(reduced, 1) * itemsize)
    if name in ("hard_swish", "hard_silu"):
        return KernelMemory({"hard-sigmoid": values}, 0)
    if name == "mish":  # softplus, then its tanh, in one buffer
        return KernelMemory({"softplus": values}, values)
    return NO_MEMORY


def _relu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.maximum(x, 0, out=y)


def _relu6(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.clip(x, 0, 6, out=y)


def _leaky_relu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    a = x.dtype.type(0.3 if alpha is None else alpha)
    np.multiply(x, np.where(x > 0, x.dtype.type(1), a), out=y)


def _elu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    a = x.dtype.type(1.0 if alpha is None else alpha)
    neg = np.expm1(np.minimum(x, 0)) * a
    np.maximum(x, 0, out=y)
    y += neg


def _sigmoid(x: NDArray, y: NDArray, alpha: float | None) -> None:
    # With e = exp(-|x|) <= 1 it is 1 / (1 + e) for x >= 0 and e / (1 + e) below: the
    # numerator max(e, [x >= 0]) picks without a branch, nothing overflows, and both tails
    # keep their relative precision.
    e, numerator = scratch(x.shape, x.dtype, "exp"), scratch(x.shape, x.dtype, "numerator")
    np.abs(x, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.greater_equal(x, 0, out=numerator)  # 1.0 or 0.0, written in place: no mask array
    np.maximum(e, numerator, out=numerator)
    np.add(e, 1, out=y)
    np.divide(numerator, y, out=y)


def _tanh(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.tanh(x, out=y)


def _softmax(x: NDArray, y: NDArray, axis: tuple[int, ...]) -> None:
    np.subtract(x, x.max(axis=axis, keepdims=True), out=y)
    np.exp(y, out=y)
    y /= y.sum(axis=axis, keepdims=True)


def _gelu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    phi = erf(x * x.dtype.type(1 / math.sqrt(2)))
    phi += 1
    phi *= x.dtype.type(0.5)
    np.multiply(x, phi, out=y)


def _silu(x: NDArray, y: NDArray, alpha: float | None) -> None:
    s = scratch(x.shape, x.dtype, "sigmoid")
    _sigmoid(x, s, None)
    np.multiply(x, s, out=y)


def _hard_sigmoid(x: NDArray, y: NDArray, alpha: float | None) -> None:
    """relu6(x + 3) / 6, in Keras 3's order of operations."""
    np.add(x, x.dtype.type(3), out=y)
    np.clip(y, 0, 6, out=y)
    y /= x.dtype.type(6)


def _hard_swish(x: NDArray, y: NDArray, alpha: float | None) -> None:
    s = scratch(x.shape, x.dtype, "hard-sigmoid")
    _hard_sigmoid(x, s, None)
    np.multiply(x, s, out=y)


def _mish(x: NDArray, y: NDArray, alpha: float | None) -> None:
    # softplus(x) = max(x, 0) + log1p(exp(-|x|)): nothing overflows, small values keep their
    # precision.
    t = scratch(x.shape, x.dtype, "softplus")
    np.abs(x, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    t += np.maximum(x, 0)
    np.tanh(t, out=t)
    np.multiply(x, t, out=y)


def _softplus(x: NDArray, y: NDArray, alpha: float | None) -> None:
    np.logaddexp(x, x.dtype.type(0), out=y)  # log(exp(x) + exp(0)), stable for any x


_ACTIVATIONS = {
    "relu": _relu,
    "relu6": _relu6,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "gelu": _gelu,
    "silu": _silu,
    "hard_sigmoid": _hard_sigmoid,
    "hard_swish": _hard_swish,
    "hard_silu": _hard_swish,
    "mish": _mish,
    "softplus": _softplus,
}

# erf on [0, 6) as 24 pieces of degree-9 polynomials (Chebyshev interpolants of math.erf, within
# 5e-15 of it); beyond 6, erf is 1 to double precision.
_ERF_WIDTH, _ERF_PIECES, _ERF_DEGREE = 0.25, 24, 9


@functools.cache
def _erf_table() -> NDArray:
    """Monomial coefficients (piece, power) in t = the position within the piece, in [-1, 1]."""
    from numpy.polynomial import chebyshev

    def piece(lo: float) -> NDArray:
        def f(t: NDArray) -> NDArray:
            return np.array([math.erf(lo + (u + 1) * _ERF_WIDTH / 2) for u in t])

        power = chebyshev.cheb2poly(chebyshev.chebinterpolate(cast(Any, f), _ERF_DEGREE))
        return np.pad(power, (0, _ERF_DEGREE + 1 - len(power)))  # cheb2poly drops zero tails

    return np.array([piece(i * _ERF_WIDTH) for i in range(_ERF_PIECES)])


def erf(x: NDArray) -> NDArray:
    """The error function element-wise, in the dtype of `x`."""
    columns = _erf_columns(x.dtype)
    a = np.abs(x)
    np.minimum(a, x.dtype.type(_ERF_WIDTH * _ERF_PIECES), out=a)
    idx = scratch(x.shape, np.dtype(np.intp), "erf-piece")
    with np.errstate(invalid="ignore"):  # NaN has no piece: any will do, the NaN propagates
        np.copyto(idx, a * x.dtype.type(1 / _ERF_WIDTH), casting="unsafe")
    np.clip(idx, 0, _ERF_PIECES - 1, out=idx)
    t = np.multiply(a, x.dtype.type(2 / _ERF_WIDTH), out=a)
    t -= idx
    t -= idx
    t -= 1  # now the position within piece idx, in [-1, 1]
    y = np.take(columns[-1], idx, mode="clip")
    coefficient = scratch(x.shape, x.dtype, "erf-coefficient")
    for column in columns[-2::-1]:
        y *= t
        y += np.take(column, idx, out=coefficient, mode="clip")
    return np.copysign(y, x, out=y)


@functools.cache
def _erf_columns(dtype: np.dtype) -> NDArray:
    """The table as one contiguous row per power, in `dtype`."""
    return np.ascontiguousarray(_erf_table().T.astype(dtype))
