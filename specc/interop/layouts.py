"""Weights between the spec's (Keras) layouts and PyTorch's and ONNX's, as each Param declares."""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.ops.base import Param


def to_torch(array: NDArray, param: Param) -> NDArray:
    """The array in PyTorch's (and ONNX's) layout: its axes permuted, then regrouped."""
    out = array if param.torch_perm is None else np.transpose(array, param.torch_perm)
    if param.torch_shape is not None:
        out = out.reshape(_ints(param.torch_shape))
    return np.ascontiguousarray(out)


def from_torch(array: NDArray, param: Param) -> NDArray:
    """The inverse of `to_torch`: a PyTorch-layout array in the spec's layout."""
    shape = _ints(param.shape)
    if param.torch_perm is None:
        return np.ascontiguousarray(array.reshape(shape))
    permuted = tuple(shape[i] for i in param.torch_perm)
    inverse = np.argsort(param.torch_perm)
    return np.ascontiguousarray(np.transpose(array.reshape(permuted), inverse))


def _ints(shape: tuple[object, ...]) -> tuple[int, ...]:
    out = tuple(d for d in shape if isinstance(d, int))
    if len(out) != len(shape):
        raise ValueError(f"the weight shape {shape} has symbolic dims")
    assert prod(out) >= 0
    return out
