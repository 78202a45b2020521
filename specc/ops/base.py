"""The op framework: attributes as frozen dataclass fields, the registry, Param and Problem."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from specc.dims import Dim
from specc.ir import TensorType

Json = dict[str, Any]

REGISTRY: dict[str, type[Op]] = {}


class Problem(Exception):
    """A user-facing problem found by an op; the shape pass turns it into a Diagnostic.

    `attr` names the attribute at fault so the diagnostic points at it.
    """

    def __init__(self, code: str, message: str, attr: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.attr = attr


@dataclass(frozen=True)
class Param:
    """One weight tensor of a layer: its name, Keras-layout shape and PyTorch-layout shape."""

    name: str
    shape: tuple[Dim, ...]
    trainable: bool = True
    torch_shape: tuple[Dim, ...] | None = None

    @property
    def layout_torch(self) -> tuple[Dim, ...]:
        return self.shape if self.torch_shape is None else self.torch_shape


@dataclass(frozen=True)
class AxisStep:
    """How a window op maps one spatial axis, as the receptive-field recurrence needs it.

    One output position reads `kernel` input positions `dilation` apart; neighbouring outputs
    are `stride` input positions apart, and `up` outputs share each input position (transposed
    convolution and upsampling spread one input over `up` outputs).
    """

    kernel: int
    stride: int = 1
    dilation: int = 1
    up: int = 1

    @property
    def span(self) -> int:
        """Input positions from the first tap to the last: dilation * (kernel - 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1


@dataclass(frozen=True)
class KeepAxes:
    """Output spatial axis i is input spatial axis `axes[i]`, untouched (a reshape keeps them)."""

    axes: tuple[int, ...]


# How output positions depend on input positions, per spatial axis (channels are the last axis):
#   "same"     every spatial axis kept position for position (element-wise ops, merges, norms)
#   "dense"    the same, but the last axis is mixed: after "flatten" that means the whole input
#   "global"   every output reads the whole input (global pooling)
#   "flatten"  the spatial axes are folded into one; positions are lost
#   a tuple    one AxisStep per spatial axis (convolution, pooling, upsampling)
#   KeepAxes   some input spatial axes survive unchanged (reshape)
Footprint = Literal["same", "dense", "global", "flatten"] | tuple[AxisStep, ...] | KeepAxes


def attr(default: Any = dataclasses.MISSING, *, schema: Json, doc: str) -> Any:
    """Declare an op attribute: its default (none means required), JSON Schema and one-line doc."""
    return dataclasses.field(default=default, metadata={"schema": schema, "doc": doc})


@dataclass(frozen=True, kw_only=True)
class Op:
    """Base of every layer type. A subclass with a `type` is registered under it.

    Subclasses declare their attributes as dataclass fields with `attr(...)`; the defaults ARE
    the documented defaults, and the JSON Schema is generated from them.
    """

    type: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("type"):
            if cls.type in REGISTRY:
                raise ValueError(f"op type {cls.type!r} registered twice")
            REGISTRY[cls.type] = cls

    # -- declaration -------------------------------------------------------------------------
    @classmethod
    def attributes(cls) -> tuple[dataclasses.Field[Any], ...]:
        return dataclasses.fields(cls)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Op:
        """Build from a schema-valid layer mapping (extra keys such as name/inputs ignored)."""
        names = {f.name for f in cls.attributes()}
        kwargs = {k: _freeze(v) for k, v in data.items() if k in names}
        return cls(**kwargs)

    def attr_values(self) -> dict[str, Any]:
        """Every attribute with its value (defaults included), in declaration order."""
        return {f.name: getattr(self, f.name) for f in self.attributes()}

    # -- semantics (override) ----------------------------------------------------------------
    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        """The output type for these input types; raise Problem for a user mistake."""
        raise NotImplementedError

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        """The weight tensors this layer owns, given its (already checked) input types."""
        return ()

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Multiply-accumulates per sample (one multiply plus one add each).

        Only layers with weights that multiply (convolutions, dense) count; element-wise
        ops, normalisation, pooling and merges are 0, as in torchinfo and ptflops' conv and
        linear counting.
        """
        return 0

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """How each output position depends on input positions (for receptive fields)."""
        return "same"


def _freeze(value: Any) -> Any:
    """Lists become tuples so that ops stay hashable and immutable."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def expect_rank(op: Op, x: TensorType, rank: int, axes: str) -> None:
    """Raise S101 unless `x` has exactly `rank` axes (described as `axes`)."""
    if x.rank != rank:
        raise Problem(
            "S101", f"{op.type} expects an input of rank {rank} ({axes}); got {x} of rank {x.rank}"
        )


def expect_min_rank(op: Op, x: TensorType, rank: int) -> None:
    if x.rank < rank:
        raise Problem("S101", f"{op.type} expects an input of rank {rank} or more; got {x}")
