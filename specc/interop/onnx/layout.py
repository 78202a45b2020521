"""The layout of each ONNX value as the importer tracks it: which spec value holds it, and how.

The reverse of `graph.py`: there, each spec value is given a layout in the ONNX graph; here,
each ONNX value is a spec value (channels last) seen through a permutation of its axes. A
Transpose only changes the permutation; a layer that needs its input in some order (Conv needs
(N, C, H, W)) gets a `permute` layer only where the permutations disagree, so that runs of
channels-first operators need none.
"""

from __future__ import annotations

from dataclasses import dataclass

from numpy.typing import NDArray

from specc.dims import Dim

Perm = tuple[int, ...]


def identity(rank: int) -> Perm:
    """ONNX axis i is spec axis i (rank counts the batch axis)."""
    return tuple(range(rank))


def first(rank: int) -> Perm:
    """ONNX's (N, C, *spatial) over a channels-last spec value (N, *spatial, C)."""
    return (0, rank - 1, *range(1, rank - 1)) if rank > 2 else identity(rank)


def compose(perm: Perm, transpose: Perm) -> Perm:
    """The permutation after a Transpose(perm=`transpose`) of a value seen through `perm`."""
    return tuple(perm[t] for t in transpose)


def permute_dims(have: Perm, want: Perm) -> tuple[int, ...]:
    """The `permute` layer's dims (Keras's: from 1, without the batch) that turn a spec value
    seen through `have` into one seen through `want`, for the same ONNX value."""
    # ONNX axis i is old spec axis have[i]; the new spec axis want[i] must be that axis.
    new_to_old = {w: h for w, h in zip(want, have, strict=True)}
    return tuple(new_to_old[j] for j in range(1, len(want)))


@dataclass(frozen=True)
class Const:
    """A value known when importing (a weight, a folded shape)."""

    array: NDArray


@dataclass(frozen=True)
class Val:
    """An ONNX value computed by the model: the spec value `ref` (an input or a layer) whose
    per-sample shape is `shape`, seen through `perm` (ONNX axis i is spec axis perm[i], the
    batch being axis 0 of both).

    `flat` is set after a flatten of a permuted map: ONNX position i of the vector is spec
    position flat[i], so a dense layer reading it takes its kernel rows in that order.
    `nonneg` marks values known to be >= 0 (after relu), where zero padding equals the
    -inf padding of max pooling.
    """

    ref: str
    shape: tuple[Dim, ...]
    perm: Perm
    flat: tuple[int, ...] | None = None
    nonneg: bool = False

    @property
    def rank(self) -> int:
        """With the batch axis, as ONNX counts."""
        return len(self.shape) + 1

    @property
    def onnx_shape(self) -> tuple[Dim | str, ...]:
        """The ONNX value's shape: the batch `N`, then the spec axes in ONNX's order."""
        full: tuple[Dim | str, ...] = ("N", *self.shape)
        return tuple(full[p] for p in self.perm)

    def spec_axis(self, onnx_axis: int) -> int:
        """The spec axis (per sample, from 0) of an ONNX axis (may be negative)."""
        axis = onnx_axis % self.rank
        if axis == 0 or self.perm[axis] == 0:
            raise ValueError("the batch axis")
        return self.perm[axis] - 1
