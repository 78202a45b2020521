"""The typed intermediate representation: TensorType, Layer and Model (no numpy here).

Source positions are optional: a model built in code (by an importer) is the same kind of
object as one loaded from YAML, with no spans.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from specc.assume import NONE, Assumptions
from specc.dims import Dim, format_dim
from specc.source import NodePath, SourceMap, Span

if TYPE_CHECKING:
    from specc.ops.base import Op


@dataclass(frozen=True)
class TensorType:
    """A per-sample tensor shape, channels last; the batch axis is never part of it."""

    shape: tuple[Dim, ...]

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def channels(self) -> Dim:
        return self.shape[-1]

    @property
    def spatial(self) -> tuple[Dim, ...]:
        return self.shape[:-1]

    def __str__(self) -> str:
        return format_shape(self.shape)


def format_shape(shape: tuple[Dim, ...]) -> str:
    """`(56, 56, 64)`, `(ceil(T/4), 20, 32)`; a 1-tuple keeps Python's trailing comma."""
    inner = ", ".join(format_dim(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


# The element size of the static reports (parameter bytes, activation memory, budgets): float32,
# as Keras and PyTorch store weights and activations by default.
FLOAT32_BYTES = 4


def weight_key(layer: str, param: str) -> str:
    """The key of one weight array in weight files and mappings: "<layer>.<param>"."""
    return f"{layer}.{param}"


# What a model input holds: real values (float32, the default), or integer indices (int32)
# for an embedding to read. Every layer's output is real-valued.
InputDType = Literal["float32", "int32"]
INPUT_DTYPES: tuple[InputDType, ...] = ("float32", "int32")


@dataclass(frozen=True)
class Input:
    """A model input: its name, per-sample type, dtype and where it is declared."""

    name: str
    type: TensorType
    span: Span | None = None  # where the spec declares it (None for a model built in code)
    dtype: InputDType = "float32"

    @property
    def integer(self) -> bool:
        return self.dtype != "float32"


@dataclass(frozen=True)
class Layer:
    """One layer of the graph with its names resolved."""

    name: str
    op: Op
    inputs: tuple[str, ...]
    index: int  # 0-based position in `layers:`
    span: Span | None = None  # the layer's mapping (None for a model built in code)
    node: NodePath = ()  # ("layers", index) in the spec it was loaded from
    explicit_inputs: bool = False  # the spec wrote `inputs:` (reports show them then)

    @property
    def type(self) -> str:
        return self.op.type


@dataclass(frozen=True)
class Model:
    """A whole spec after name resolution: inputs, layers in order and outputs."""

    name: str
    description: str
    inputs: tuple[Input, ...]
    layers: tuple[Layer, ...]
    outputs: tuple[str, ...]
    assume: Assumptions = NONE  # what the spec's `assume:` says of its symbols
    # Where each node of the spec stands; empty for a model built in code (an importer's).
    source: SourceMap = field(
        default_factory=lambda: SourceMap("<model>"), compare=False, repr=False
    )

    def layer(self, name: str) -> Layer | None:
        for layer in self.layers:
            if layer.name == name:
                return layer
        return None

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def needed(self) -> set[str]:
        """The names (layers and inputs) that the outputs depend on; other layers never run."""
        found = set(self.outputs)
        for layer in reversed(self.layers):
            if layer.name in found:
                found.update(layer.inputs)
        return found
