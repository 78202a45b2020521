"""The op framework: declared attributes, the registry, Param and Problem."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar, Literal, Self, dataclass_transform

from specc.dims import Dim
from specc.ir import TensorType, format_shape

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


# "uniform" is Keras's RandomUniform(-0.05, 0.05) (embeddings); "unit_forget_bias" is zeros
# but for ones in the second of four gate blocks (an LSTM's forget gate, Keras's default);
# "constant" fills `Param.value` (a layer scale's initial value).
Init = Literal[
    "he_normal",
    "glorot_uniform",
    "orthogonal",
    "zeros",
    "ones",
    "uniform",
    "unit_forget_bias",
    "constant",
]


@dataclass(frozen=True)
class Param:
    """One weight tensor of a layer, described once for every consumer.

    `shape` is the Keras layout (what `specc report` prints and `.npz` weights use). The seeded
    initialiser is `init`: He-normal draws with std sqrt(2 / fan_in); Glorot-uniform and
    orthogonal (recurrent kernels) use `fan_in` and the last axis; "uniform" and
    "unit_forget_bias" are Keras's embedding and LSTM-bias defaults (see `Init`). `torch_perm`
    orders the axes as PyTorch (and ONNX) store them, and `torch_shape` is that result
    reshaped where the layouts also differ in grouping (a depthwise kernel). `out_axes` are the
    axes that index output channels, in order: a per-channel scale after the layer folds into
    them.
    """

    name: str
    shape: tuple[Dim, ...]
    init: Init = "zeros"
    trainable: bool = True
    fan_in: Dim = 1
    torch_perm: tuple[int, ...] | None = None
    torch_shape: tuple[Dim, ...] | None = None
    out_axes: tuple[int, ...] = ()
    value: float = 0.0  # what init "constant" fills the parameter with

    @property
    def layout_torch(self) -> tuple[Dim, ...]:
        """The shape in PyTorch's layout."""
        if self.torch_shape is not None:
            return self.torch_shape
        if self.torch_perm is None:
            return self.shape
        return tuple(self.shape[i] for i in self.torch_perm)


def kernel_param(
    shape: tuple[Dim, ...],
    fan_in: Dim,
    torch_perm: tuple[int, ...],
    out_axes: tuple[int, ...],
    torch_shape: tuple[Dim, ...] | None = None,
    name: str = "kernel",
    init: Init = "he_normal",
) -> Param:
    """A trainable kernel, He-normal initialised by default."""
    return Param(
        name, shape, init, fan_in=fan_in, torch_perm=torch_perm, torch_shape=torch_shape,
        out_axes=out_axes,
    )  # fmt: skip


def vector_param(
    name: str, size: Dim, init: Init = "zeros", trainable: bool = True, value: float = 0.0
) -> Param:
    """A per-channel vector (bias, beta, gamma, running statistics): one value per channel."""
    return Param(name, (size,), init, trainable=trainable, fan_in=1, out_axes=(0,), value=value)


def with_bias(kernel: Param, channels: Dim, bias: bool) -> tuple[Param, ...]:
    """The kernel, and a zero-initialised bias of one value per output channel if asked."""
    return (kernel, vector_param("bias", channels)) if bias else (kernel,)


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


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of an attribute that has none


class Attr:
    """One declared op attribute: its name, default (REQUIRED if none), JSON Schema and doc.

    `examples` are a few small valid values (lists written as tuples) for tests and docs to
    use where the schema alone gives none: a required count, a window size, a reshape target.
    """

    __slots__ = ("default", "doc", "examples", "name", "schema")

    def __init__(
        self, default: Any, schema: Json, doc: str, examples: tuple[Any, ...] = ()
    ) -> None:
        if isinstance(default, list | dict | set):
            raise TypeError(f"mutable default {default!r}: use a tuple")
        if not isinstance(examples, tuple):
            raise TypeError(f"examples {examples!r}: use a tuple")
        self.name = ""  # set when the class is created
        self.default = default
        self.schema = schema
        self.doc = doc
        self.examples = tuple(_freeze(e) for e in examples)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def attr(default: Any = REQUIRED, *, schema: Json, doc: str, examples: tuple[Any, ...] = ()) -> Any:
    """Declare an op attribute: its default (none means required), JSON Schema, one-line doc
    and a few example values."""
    return Attr(default, schema, doc, examples)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(attr,))
class Op:
    """Base of every layer type. A subclass with a `type` is registered under it.

    Subclasses declare their attributes as annotated class fields with `attr(...)`; the
    defaults ARE the documented defaults, and the JSON Schema is generated from them. An op is
    immutable, compares and hashes by its attribute values, and is built with keywords only,
    as a frozen keyword-only dataclass would be. The methods are shared, not generated per
    class: generating them (what `dataclasses` does) cost about 1 ms per layer type at every
    start of the command line.
    """

    type: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    # A wrapper names the attribute that holds the op it applies to each slice of its input.
    inner_attr: ClassVar[str | None] = None
    _attrs: ClassVar[dict[str, Attr]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        attrs = dict(cls._attrs)  # inherited ones first; a redeclared one keeps its place
        annotations = inspect.get_annotations(cls)  # this class's own, as written
        for name, annotation in annotations.items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            declared = cls.__dict__.get(name)
            if not isinstance(declared, Attr):
                raise TypeError(f"{cls.__name__}.{name}: declare op attributes with attr(...)")
            declared.name = name
            attrs[name] = declared
            if declared.required:
                delattr(cls, name)
            else:
                setattr(cls, name, declared.default)
        for name, value in cls.__dict__.items():
            if name not in annotations and (name in attrs or isinstance(value, Attr)):
                raise TypeError(f"{cls.__name__}.{name}: declare an attribute with a type")
        cls._attrs = attrs
        if cls.__dict__.get("type"):
            if cls.type in REGISTRY:
                raise ValueError(f"op type {cls.type!r} registered twice")
            REGISTRY[cls.type] = cls

    def __init__(self, **values: Any) -> None:
        attrs = self._attrs
        for name in values.keys() - attrs.keys():
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {name!r}")
        for name, declared in attrs.items():
            value = values.get(name, declared.default)
            if value is REQUIRED:
                raise TypeError(f"{type(self).__name__}() missing keyword argument {name!r}")
            object.__setattr__(self, name, value)
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:  # as dataclasses do, for checks across attributes
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._attrs)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._attrs)
        return f"{type(self).__qualname__}({shown})"

    @property
    def inner(self) -> Op | None:
        """The op a wrapper applies to each slice of its input; None for every other op."""
        return None if self.inner_attr is None else getattr(self, self.inner_attr)

    @property
    def innermost(self) -> Op:
        """The op that acts on the values: through every wrapper, or this op itself."""
        op = self
        while (inner := op.inner) is not None:
            op = inner
        return op

    @classmethod
    def inner_input(cls, x: TensorType) -> TensorType:
        """The input a wrapper's inner layer sees when the wrapper reads `x`: one slice of its
        first axis (time_distributed), unless the wrapper says otherwise."""
        return TensorType(x.shape[1:])

    def index_bound(self) -> Dim | None:
        """For an op that reads integer indices (an embedding): how many there are, so that an
        index is valid in [0, bound); None for an op over real values (the default, or what a
        wrapper's inner op says)."""
        inner = self.inner
        return None if inner is None else inner.index_bound()

    # -- declaration -------------------------------------------------------------------------
    @classmethod
    def attributes(cls) -> tuple[Attr, ...]:
        """The declared attributes, in declaration order (inherited ones first)."""
        return tuple(cls._attrs.values())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Op:
        """Build from a schema-valid layer mapping (extra keys such as name/inputs ignored)."""
        kwargs = {k: _freeze(v) for k, v in data.items() if k in cls._attrs}
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Self:
        """A copy with some attributes changed (what `dataclasses.replace` does for dataclasses)."""
        return type(self)(**{**self.attr_values(), **changes})

    def attr_values(self) -> dict[str, Any]:
        """Every attribute with its value (defaults included), in declaration order."""
        return {name: getattr(self, name) for name in self._attrs}

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

    # -- what rewrites need to know (override where it holds) -----------------------------
    def output_activation(self) -> str | None:
        """The element-wise activation this op ends with, if any (its `activation:`)."""
        return None

    def affine_target(self) -> str | None:
        """The kernel that a following per-channel affine (a batch_norm) folds into, when this
        op is linear in it, adds a per-output-channel bias and has no activation after it;
        None otherwise. The kernel's `out_axes` say where the output channels are."""
        return None

    def with_bias(self) -> Op:
        """This op with its bias on (for a folded affine's shift)."""
        return self

    def channel_affine(self) -> bool:
        """Whether this op is, at inference, y = x * scale + shift per channel (foldable)."""
        return False

    def zero_padding(self) -> bool:
        """Whether this op's padding is zeros around its input (so it can be a step before)."""
        return False


def _freeze(value: Any) -> Any:
    """Lists become tuples so that ops stay hashable and immutable."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class KernelOp(Op):
    """An op with a `kernel`, an optional per-channel `bias` and an optional `activation`."""

    def output_activation(self) -> str | None:
        return self.activation  # type: ignore[attr-defined]

    def affine_target(self) -> str | None:
        return "kernel" if self.output_activation() is None else None

    def with_bias(self) -> Op:
        return self.replace(bias=True)


def expect_rank(op: Op, x: TensorType, rank: int, axes: str) -> None:
    """Raise S101 unless `x` has exactly `rank` axes (described as `axes`)."""
    if x.rank != rank:
        message = f"{op.type} expects an input of rank {rank} ({axes}); got {x} of rank {x.rank}"
        if x.rank == rank - 1 and axes.endswith("channels"):
            # The most common cause: a grey-scale image or a single feature without its axis.
            message += (
                f"; a single channel is written as an axis of 1: {format_shape((*x.shape, 1))}"
            )
        raise Problem("S101", message)


def expect_min_rank(op: Op, x: TensorType, rank: int) -> None:
    if x.rank < rank:
        raise Problem("S101", f"{op.type} expects an input of rank {rank} or more; got {x}")
