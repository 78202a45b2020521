"""Input data: checking arrays against the spec's inputs, binding symbolic dims, random batches."""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from specc.dims import Dim, format_dim, is_symbolic, substitute, symbols
from specc.ir import Input, Model, format_shape
from specc.lower.arrays import as_float, nonfinite, noted, refusal
from specc.lower.errors import DataNote, DataWarning, RunError

# How a plan holds the inputs declared `dtype: int32` (indices for an embedding).
INDEX_DTYPE = np.dtype(np.int32)
RANDOM_INDICES = 10  # random indices for an integer input that no embedding reads: 0 ... 9


@dataclass(frozen=True)
class IndexBound:
    """The indices an integer input may hold, [0, bound): the smallest input_dim of the
    layers that read it (`layer` names one of them)."""

    bound: int
    layer: str


def index_bounds(model: Model) -> dict[str, IndexBound]:
    """For each integer input read by an embedding (or a wrapper of one), its valid indices."""
    out: dict[str, IndexBound] = {}
    integer = {x.name for x in model.inputs if x.integer}
    for layer in model.layers:
        bound = layer.op.index_bound()
        if not isinstance(bound, int):
            continue
        for name in layer.inputs:
            if name in integer and (name not in out or bound < out[name].bound):
                out[name] = IndexBound(bound, layer.name)
    return out


@dataclass(frozen=True)
class Bound:
    """Checked input arrays with the batch size and symbol values they imply."""

    arrays: dict[str, NDArray]
    batch: int
    dims: dict[str, int]


def bind(
    inputs: tuple[Input, ...],
    given: Mapping[str, object],
    dims: Mapping[str, int],
    dtype: np.dtype,
    source: str = "the input",
    bounds: Mapping[str, IndexBound] | None = None,
) -> Bound:
    """Check `given` against the spec's inputs; one RunError lists every problem found.

    Real-valued inputs become `dtype`; integer inputs must hold integers (in the `bounds` of
    the embeddings that read them) and become int32.
    """
    names = [x.name for x in inputs]
    problems = [
        f"missing input '{n}' of shape (N, {_shape_text(x)})"
        for n, x in zip(names, inputs, strict=True)
        if n not in given
    ]
    problems += [
        f"extra array '{k}': the spec has no input of that name" for k in given if k not in names
    ]
    if problems:
        raise RunError(_listing(source, problems, names))
    binder = _Binder(dims)
    arrays: dict[str, NDArray] = {}
    converted: list[str] = []
    for x in inputs:
        array = np.asarray(given[x.name])
        refused = _index_refusal(x, array, (bounds or {}).get(x.name)) if x.integer else None
        refused = refused or refusal(array.dtype)
        if refused:
            problems.append(f"input '{x.name}': {refused}")
            continue
        if array.ndim != x.type.rank + 1:
            problems.append(
                f"input '{x.name}': the data has {array.ndim} axes {format_shape(array.shape)}; "
                "the spec "
                f"needs {x.type.rank + 1}: (N, {_shape_text(x)}) with the batch axis first"
            )
            continue
        problems += binder.match(x, array.shape)
        if noted(array.dtype) and not x.integer:
            converted.append(f"'{x.name}' ({array.dtype})")
        arrays[x.name] = array
    problems += binder.check_expressions(inputs, arrays)
    if problems:
        raise RunError(_listing(source, problems, names))
    if converted:
        warnings.warn(
            f"{source}: converted to {dtype}: {', '.join(converted)}", DataNote, stacklevel=2
        )
    integer = {x.name for x in inputs if x.integer}
    out = {
        name: np.ascontiguousarray(a, INDEX_DTYPE) if name in integer else as_float(a, dtype)
        for name, a in arrays.items()
    }
    bad = [f"'{n}'" for n, a in out.items() if nonfinite(a)]
    if bad:
        warnings.warn(f"{source}: NaN or Inf values in {', '.join(bad)}", DataWarning, stacklevel=2)
    assert binder.batch is not None
    return Bound(out, binder.batch, binder.values)


def _index_refusal(x: Input, array: NDArray, bound: IndexBound | None) -> str | None:
    """Why `array` cannot be the indices of the integer input `x`, or None when it can."""
    if array.dtype.kind not in "iu":
        return f"{array.dtype} data for an input declared {x.dtype}: give integer indices" + (
            f" in [0, {bound.bound})" if bound else ""
        )
    if array.size == 0:
        return None
    low, high = int(array.min()), int(array.max())
    limit = bound.bound if bound else int(np.iinfo(INDEX_DTYPE).max) + 1
    if low >= 0 and high < limit:
        return None
    bad = low if low < 0 else high
    if bound is None:
        return f"index {bad} does not fit {x.dtype}"
    return f"index {bad} is outside [0, {bound.bound}) (input_dim of '{bound.layer}')"


def _shape_text(x: Input) -> str:
    return ", ".join(format_dim(d) for d in x.type.shape)


def _listing(source: str, problems: list[str], names: list[str]) -> str:
    lines = "\n".join(f"  {p}" for p in problems)
    return f"{source} does not match the spec's inputs ({', '.join(names)}):\n{lines}"


class _Binder:
    """Symbol values learned from the data, with where each came from."""

    def __init__(self, dims: Mapping[str, int]) -> None:
        self.values: dict[str, int] = dict(dims)
        self.origin: dict[str, str] = {k: "given" for k in dims}
        self.batch: int | None = None
        self.batch_origin = ""

    def match(self, x: Input, shape: tuple[int, ...]) -> list[str]:
        problems = []
        if shape[0] < 1:  # as `--batch 0` is refused
            problems.append(f"input '{x.name}': axis 0 (the batch) is 0; it must be at least 1")
        if self.batch is None:
            self.batch, self.batch_origin = shape[0], f"input '{x.name}'"
        elif shape[0] != self.batch:
            problems.append(
                f"input '{x.name}': axis 0 (the batch) is {shape[0]}, "
                f"but {self.batch_origin} has a batch of {self.batch}"
            )
        for axis, (dim, size) in enumerate(zip(x.type.shape, shape[1:], strict=True), start=1):
            problem = self._one(x.name, axis, dim, size)
            if problem:
                problems.append(problem)
        return problems

    def _one(self, name: str, axis: int, dim: Dim, size: int) -> str | None:
        where = f"input '{name}': axis {axis}"
        if not is_symbolic(dim):
            return (
                None if size == dim else f"{where} is {size} in the data, but the spec says {dim}"
            )
        text = format_dim(dim)
        if len(symbols(dim)) != 1 or text not in symbols(dim):
            return None  # an expression: checked once every symbol is known
        if text in self.values:
            if self.values[text] == size:
                return None
            bound = f"{text} = {self.values[text]} ({self.origin[text]})"
            return f"{where} ({text} in the spec) is {size} in the data, but {bound}"
        if size < 1:
            return f"{where} ({text} in the spec) is {size}; it must be at least 1"
        self.values[text] = size
        self.origin[text] = f"from input '{name}' axis {axis}"
        return None

    def check_expressions(
        self, inputs: tuple[Input, ...], arrays: Mapping[str, NDArray]
    ) -> list[str]:
        problems = []
        for x in inputs:
            if x.name not in arrays:
                continue
            for axis, (dim, size) in enumerate(
                zip(x.type.shape, arrays[x.name].shape[1:], strict=True), start=1
            ):
                if not is_symbolic(dim) or format_dim(dim) in symbols(dim):
                    continue
                value = substitute(dim, self.values)
                if isinstance(value, int) and value != size:
                    problems.append(
                        f"input '{x.name}': axis {axis} ({format_dim(dim)} in the spec) "
                        f"is {size} in the data, "
                        f"but {format_dim(dim)} = {value} with {_env(dim, self.values)}"
                    )
        return problems


def _env(dim: Dim, values: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={values[k]}" for k in sorted(symbols(dim)) if k in values)


def random(
    inputs: tuple[Input, ...],
    batch: int,
    shapes: Mapping[str, tuple[int, ...]],
    seed: int,
    dtype: np.dtype,
    bounds: Mapping[str, IndexBound] | None = None,
) -> dict[str, NDArray]:
    """A seeded standard-normal batch for each input (each input its own stream); integer
    inputs get uniform indices in [0, bound) of the embeddings that read them (else 0 ... 9).

    Drawn in float64 and then cast, so that one seed gives the same data (to rounding) in
    float32 and float64 runs; a float32 draw would be a different stream.
    """
    out = {}
    for x in inputs:
        rng = np.random.default_rng([seed, zlib.crc32(b"input:" + x.name.encode())])
        shape = (batch, *shapes[x.name])
        if x.integer:
            bound = (bounds or {}).get(x.name)
            high = RANDOM_INDICES if bound is None else bound.bound
            out[x.name] = rng.integers(0, high, shape).astype(INDEX_DTYPE)
        else:
            out[x.name] = rng.standard_normal(shape).astype(dtype)
    return out
