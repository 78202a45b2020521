"""Folded weights: a per-channel affine layer's scale and shift joined to the kernel and bias
before it, as the batch-norm folding rewrite (`specc.passes.fold`) asks, in float64."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from specc.ir import weight_key
from specc.ops.base import Op
from specc.ops.parts import Parts
from specc.passes.rewrite import Fold

# A channel-affine op's (scale, shift) from the weights of its layer, in float64.
Affine = Callable[[Mapping[str, NDArray], str, Op], tuple[NDArray, NDArray]]
AFFINES: Parts[Affine] = Parts("channel affine", "specc.lower.ops")


@dataclass(frozen=True)
class BoundFold:
    """A fold with where it lands: the target kernel's key and output-channel axes."""

    fold: Fold
    kernel: str
    out_axes: tuple[int, ...]

    def apply(self, weights: dict[str, NDArray]) -> None:
        """Replace the target's kernel and bias by the folded ones."""
        affine = AFFINES.find(type(self.fold.op))
        assert affine is not None, self.fold.op.type
        scale, shift = affine(weights, self.fold.layer, self.fold.op)
        kernel = weights[weight_key(self.fold.into, self.kernel)]
        bias_key = weight_key(self.fold.into, "bias")
        bias = weights.get(bias_key)
        shape = [1] * kernel.ndim
        for axis in self.out_axes:
            shape[axis] = kernel.shape[axis]
        folded = kernel.astype(np.float64) * scale.reshape(shape)
        b = shift if bias is None else bias.astype(np.float64) * scale + shift
        weights[weight_key(self.fold.into, self.kernel)] = folded.astype(kernel.dtype)
        weights[bias_key] = b.astype(kernel.dtype)
