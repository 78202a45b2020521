"""The pieces of a lowered plan: storages (memory), values (typed views of them) and steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from math import prod
from typing import Literal

from numpy.typing import NDArray

# Where a storage's memory comes from:
#   input   the caller's array (never written);
#   arena   a slot of the plan's preallocated arena, reused once the values in it are dead;
#   output  a fresh array per run that is handed back to the caller;
#   fresh   allocated by a kernel that has no `out=` (freed after its last reader).
StorageKind = Literal["input", "arena", "output", "fresh"]

Consts = tuple[NDArray, ...]
# A step's computation: (its input arrays, the array to write into or None, its constants).
Kernel = Callable[[list[NDArray], "NDArray | None", Consts], NDArray]
# Turns the checked weights (keyed "<layer>.<param>") into a step's constants, folding included.
Binder = Callable[[Mapping[str, NDArray]], Consts]


@dataclass(eq=False)
class Storage:
    """A piece of memory that one or more values live in (views and in-place steps share one)."""

    id: int
    nbytes: int
    kind: StorageKind = "arena"
    first: int = -1  # index of the step that writes it first (-1: before the run)
    last: int = -1  # index of the last step that reads it
    slot: int | None = None  # arena slot, for kind "arena"


@dataclass(eq=False)
class Value:
    """A tensor of the plan, batch axis included, living in a storage."""

    id: int
    name: str
    shape: tuple[int, ...]
    itemsize: int
    storage: Storage

    @property
    def size(self) -> int:
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize


Mode = Literal["out", "in_place", "view", "fresh"]


@dataclass(eq=False)
class Step:
    """One kernel call: what it computes, from which values into which, and what it costs.

    `mode` says how the output is obtained: written into its buffer (`out`), written over
    the input it replaces (`in_place`), a reshaped view of the input (`view`), or a new array
    returned by a kernel without `out=` (`fresh`).
    """

    kind: str  # "pad", "im2col+gemm", "gemm", "depthwise", "relu", "add", "view" ...
    layers: tuple[str, ...]  # the spec layers this step implements (a folded batch_norm too)
    inputs: tuple[Value, ...]
    output: Value
    fn: Kernel
    mode: Mode = "out"
    target: int = 0  # for `in_place`: the input whose buffer the output takes over
    flops: int = 0
    traffic: int = 0  # bytes read and written (inputs, output and constants)
    scratch: dict[str, int] = field(default_factory=dict)  # bytes per `window.scratch` slot
    temp: int = 0  # bytes allocated and freed within the step (padded copies, temporaries)
    detail: str = ""
    bind: Binder | None = None
    const_bytes: int = 0
    index: int = field(default=-1)
