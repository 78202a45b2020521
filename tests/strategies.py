"""Random valid networks over every registered layer type, for property tests.

A network is drawn layer by layer. A layer type is drawn from `specc.ops.REGISTRY` (a family
first, so that the many activations do not crowd out the rest), its attributes from the
examples the op declares or, where it declares none, from its schema (booleans, enums, small
integers, per-axis lists). A drawn layer is kept only when the op's own `infer` accepts the
current input, so the networks are valid by construction; an op that refuses is drawn again.
Merges (ops with two or more inputs) read the current tensor and earlier ones of the same rank;
wrappers get an inner layer drawn the same way on what the wrapper passes it (`inner_input`: one
slice of its input for time_distributed, all of it for bidirectional). Some networks have an
integer input (`dtype: int32`); only it may feed a layer that reads indices (an embedding).

The same builder runs on hypothesis draws (`networks()`) and on a seeded `random.Random`
(`network_with(kind)`: a small deterministic network whose first layer is `kind`), so that a
test can cover every registered type without a list of its own.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import yaml
from hypothesis import assume
from hypothesis import strategies as st

from specc.dims import Dim, substitute, symbol
from specc.ir import TensorType
from specc.ops import REGISTRY, Op, Problem
from specc.ops.base import Attr

MAX_ELEMENTS = 2_000  # per tensor, so that every network runs in milliseconds
MAX_MACS = 100_000  # per layer and sample
MAX_DEPTH = 2  # wrappers inside wrappers
TRIES = 6  # types drawn for one layer before the step is skipped
SIZES = {1: 12, 2: 10, 3: 7, 4: 4}  # the largest input axis per rank
T = TypeVar("T")
Shape = tuple[int, ...]


class Chooser(Protocol):
    """The two kinds of choice the builder makes; `random.Random` is one."""

    def choice(self, seq: Sequence[T]) -> T: ...

    def randint(self, a: int, b: int) -> int: ...


class _Drawn:
    """Choices made by hypothesis, so that failing networks shrink."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def choice(self, seq: Sequence[T]) -> T:
        return self.draw(st.sampled_from(seq))

    def randint(self, a: int, b: int) -> int:
        return self.draw(st.integers(a, b))


@dataclass(frozen=True)
class Network:
    """A valid spec as plain data, the values to bind its symbolic dims to, the types it uses."""

    spec: dict[str, Any]
    dims: dict[str, int]
    types: frozenset[str]  # wrappers' inner layers included

    @property
    def text(self) -> str:
        return yaml.safe_dump(self.spec, sort_keys=False)

    @property
    def outputs(self) -> list[str]:
        return list(self.spec["outputs"])


@dataclass(frozen=True)
class _Tensor:
    name: str
    type: TensorType  # as the shape pass sees it, maybe symbolic
    shape: Shape  # with the symbolic dims bound
    integer: bool = False  # an integer model input (or a wrapper's slice of one)


class _Underivable(Exception):
    """The schema gives no value to draw (a string pattern, a reference, a number)."""


_OMIT: Any = object()  # leave the attribute out: its default applies


@functools.cache
def _takes_rank(kind: str, rank: int) -> bool:
    """Whether a `kind` layer may read an input of `rank`: a wrapper, or its smallest
    attribute values on a roomy input of that rank pass its `infer`."""
    cls = REGISTRY[kind]
    if cls.inner_attr is not None:
        return rank >= 2
    values = {a.name: a.examples[0] for a in cls.attributes() if a.required and a.examples}
    probe = TensorType((*(8,) * (rank - 1), 4))
    try:
        op = cls(**values)
        op.infer([probe] * max(cls.min_inputs, 1))
    except Problem:
        return False
    return True


@functools.cache
def _reads_indices(kind: str) -> bool:
    """Whether a `kind` layer reads integer indices (an embedding), judged on its examples."""
    cls = REGISTRY[kind]
    if cls.inner_attr is not None:
        return False  # a wrapper's inner layer is drawn for what it reads
    values = {a.name: a.examples[0] for a in cls.attributes() if a.required and a.examples}
    return cls(**values).index_bound() is not None


# -- attributes ------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A declared value as YAML writes it: tuples become lists."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Builder:
    """Draws one network; `pick` makes every choice."""

    def __init__(self, pick: Chooser, max_elements: int, max_macs: int) -> None:
        self.pick = pick
        self.max_elements = max_elements
        self.max_macs = max_macs
        self.dims: dict[str, int] = {}

    def coin(self) -> bool:
        return self.pick.randint(0, 1) == 1

    def value(self, kind: str, a: Attr, spatial: int) -> Any:
        """A value of `a` (or _OMIT): a declared example, else one derived from the schema."""
        if not a.required and self.pick.randint(0, 2) == 0:
            return _OMIT
        ints = [e for e in a.examples if _is_int(e)]
        # Integer examples also seed the schema's other forms, such as one value per axis.
        if a.examples and not (ints and self.pick.randint(0, 2) == 0):
            return plain(self.pick.choice(a.examples))
        try:
            return self.from_schema(a.schema, ints, spatial)
        except _Underivable:
            if a.required:
                raise ValueError(
                    f"{kind}.{a.name}: required, with no examples and a schema that gives no "
                    "value; declare a few with attr(..., examples=(...))"
                ) from None
            return _OMIT

    def from_schema(self, schema: Mapping[str, Any], ints: list[int], spatial: int) -> Any:
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.from_schema(self.pick.choice(schema[key]), ints, spatial)
        if "enum" in schema:
            return self.pick.choice(schema["enum"])
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type")
        if kind == "boolean":
            return self.coin()
        if kind == "null":
            return None
        if kind == "integer":
            low = schema.get("minimum", -1)
            high = schema.get("maximum", math.inf)
            pool = [i for i in ints if low <= i <= high] or [
                i for i in range(low, low + 3) if i <= high
            ]
            return self.pick.choice(pool)
        if kind == "array" and "items" in schema:
            # one entry per spatial axis, within the schema's bounds
            n = min(max(spatial, schema.get("minItems", 0)), schema.get("maxItems", spatial))
            return [self.from_schema(schema["items"], ints, spatial) for _ in range(n)]
        raise _Underivable

    def attributes(self, cls: type[Op], x: _Tensor, depth: int) -> dict[str, Any] | None:
        """Attribute values for a layer of `cls` reading `x` (None: no inner layer fits)."""
        values: dict[str, Any] = {}
        for a in cls.attributes():
            if a.name == cls.inner_attr:
                inner = self.inner(cls, x, depth)
                if inner is None:
                    return None
                values[a.name] = inner
                continue
            value = self.value(cls.type, a, x.type.rank - 1)
            if value is not _OMIT:
                values[a.name] = value
        return values

    def inner(self, cls: type[Op], x: _Tensor, depth: int) -> dict[str, Any] | None:
        """A wrapper's inner layer, drawn for what the wrapper passes it of `x`."""
        if x.type.rank < 2 or depth >= MAX_DEPTH:
            return None
        seen = cls.inner_input(x.type)
        piece = _Tensor("slice", seen, x.shape[x.type.rank - seen.rank :], x.integer)
        found = self.layer([piece], depth + 1)
        return None if found is None else found[0]

    # -- layers --------------------------------------------------------------------------------
    def families(self, depth: int, rank: int, integer: bool) -> dict[str, list[str]]:
        """The registered types that may read an input of `rank`, by family (those reading
        indices only from an `integer` one)."""
        out: dict[str, list[str]] = {}
        for name, cls in sorted(REGISTRY.items()):
            if depth and cls.min_inputs > 1:
                continue  # an inner layer has one input
            if _reads_indices(name) and not integer:
                continue
            if _takes_rank(name, rank):
                out.setdefault(cls.family or name, []).append(name)
        return out

    def layer(
        self, sources: Sequence[_Tensor], depth: int = 0, kind: str | None = None
    ) -> tuple[dict[str, Any], _Tensor] | None:
        """A layer mapping that reads `sources[0]` (and, for a merge, more of `sources`) and
        the tensor it makes; None when no draw fitted in TRIES."""
        families = self.families(depth, sources[0].type.rank, sources[0].integer)
        # A family first, weighted by the square root of its size: the nine activations do
        # not crowd out the rest, and a family of one type does not take a whole share.
        weighted = [
            f for f in sorted(families) for _ in range(math.isqrt(len(families[f]) - 1) + 1)
        ]
        if not weighted:
            return None
        for _ in range(TRIES):
            chosen = kind or self.pick.choice(families[self.pick.choice(weighted)])
            # A few draws of the same type before another: most refusals are one attribute.
            for _ in range(3):
                made = self.attempt(REGISTRY[chosen], sources, depth)
                if made is not None:
                    return made
        return None

    def attempt(
        self, cls: type[Op], sources: Sequence[_Tensor], depth: int
    ) -> tuple[dict[str, Any], _Tensor] | None:
        # An inner layer reads one input, the slice.
        inputs = [sources[0], *(self.partners(cls, sources) if depth == 0 else [])]
        attrs = self.attributes(cls, inputs[0], depth)
        if attrs is None:
            return None
        layer = {"type": cls.type, **attrs}
        out = self.infer(layer, inputs)
        if out is None:
            return None
        if depth == 0:
            names = [t.name for t in inputs]
            layer["inputs"] = names[0] if len(names) == 1 else names
        return layer, out

    def partners(self, cls: type[Op], sources: Sequence[_Tensor]) -> list[_Tensor]:
        """The other inputs of a merge (or of an op that takes one or more): earlier tensors of
        the current one's rank, often of its very shape (the current tensor itself among them)."""
        if (cls.max_inputs or 3) < 2:
            return []
        current = sources[0]
        ranked = [t for t in sources if t.type.rank == current.type.rank]
        same = [t for t in ranked if t.shape == current.shape]
        count = self.pick.randint(cls.min_inputs - 1, min(cls.max_inputs or 3, 3) - 1)
        return [self.pick.choice(same if self.coin() else ranked) for _ in range(count)]

    def infer(self, layer: dict[str, Any], inputs: Sequence[_Tensor]) -> _Tensor | None:
        """The op's own answer for these inputs; None if it refuses or the result is too big."""
        types = [t.type for t in inputs]
        try:
            op = REGISTRY[layer["type"]].from_mapping(layer)
            out = op.infer(types)
        except Problem:
            return None
        shape = tuple(substitute(d, self.dims) for d in out.shape)
        if not all(_is_int(d) for d in shape):
            return None  # a symbol the inputs do not bind
        concrete: Shape = tuple(int(d) for d in shape)  # type: ignore[call-overload]
        if not concrete or min(concrete) < 1 or math.prod(concrete) > self.max_elements:
            return None
        if substitute(op.macs(types, out), self.dims) > self.max_macs:  # type: ignore[operator]
            return None
        return _Tensor("", out, concrete)

    # -- networks ------------------------------------------------------------------------------
    def input(self, symbolic: bool, integer: bool) -> _Tensor:
        rank = self.pick.randint(1, 4)
        sizes = [self.pick.randint(1, SIZES[rank]) for _ in range(rank - 1)]
        shape = [*sizes, self.pick.randint(1, 4)]
        while math.prod(shape) > self.max_elements // 2:
            shape[shape.index(max(shape))] //= 2
        dims: list[Dim] = list(shape)
        if symbolic and rank >= 2:
            self.dims["T"] = shape[0]
            dims[0] = symbol("T")
        return _Tensor("x", TensorType(tuple(dims)), tuple(shape), integer)

    def network(self, max_layers: int, first: str | None = None) -> Network | None:
        # An integer input for a first layer that reads indices, and now and then anyway.
        integer = _reads_indices(first) if first else self.pick.randint(0, 4) == 0
        x = self.input(symbolic=self.coin(), integer=integer)
        tensors = [x]
        layers: list[dict[str, Any]] = []
        current = x
        for index in range(self.pick.randint(1, max_layers)):
            # Most layers read the one before (chains, which lowering fuses and folds);
            # some read an earlier tensor (branches, and tensors with several readers).
            source = current if self.pick.randint(0, 3) else self.pick.choice(tensors)
            others = [t for t in reversed(tensors) if t is not source]
            kind = first if index == 0 else None
            made = self.layer([source, *others], kind=kind)
            if made is None:
                if kind is not None:
                    return None
                continue
            layer, out = made
            name = f"l{index}_{layer['type']}"
            layers.append({"name": name, **layer})
            current = _Tensor(name, out.type, out.shape)
            tensors.append(current)
        if not layers:
            return None
        names = [layer["name"] for layer in layers]
        how = self.pick.randint(0, 3)
        if how == 0:
            outputs = [names[-1]]
        elif how == 1:
            outputs = sorted({self.pick.choice(names) for _ in range(3)}, key=names.index)
        else:
            outputs = names
        input_dims: list[Any] = [d if _is_int(d) else str(d) for d in x.type.shape]
        spec = {
            "specc": 1,
            "name": "drawn",
            "inputs": {"x": {"shape": input_dims, "dtype": "int32"} if x.integer else input_dims},
            "layers": layers,
            "outputs": outputs,
        }
        return Network(spec, dict(self.dims), frozenset(layer_types(layers)))


@st.composite
def networks(
    draw: st.DrawFn,
    max_layers: int = 6,
    max_elements: int = MAX_ELEMENTS,
    max_macs: int = MAX_MACS,
) -> Network:
    """A random valid network over every registered layer type; `max_elements` bounds each
    tensor and `max_macs` each layer's multiply-adds (per sample)."""
    network = _Builder(_Drawn(draw), max_elements, max_macs).network(max_layers)
    assume(network is not None)
    assert network is not None
    return network


def network_with(
    kind: str, max_layers: int = 3, max_elements: int = 500, max_macs: int = 5_000
) -> Network:
    """A small network whose first layer is `kind`, the same for every run (seeded)."""
    for seed in range(200):
        builder = _Builder(random.Random(seed), max_elements, max_macs)
        found = builder.network(max_layers, kind)
        if found is not None:
            return found
    raise ValueError(
        f"no small network takes a {kind!r} layer: do its attributes declare examples that "
        "fit small inputs?"
    )


def layer_types(layers: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    """Every layer type of these layer mappings, wrappers' inner layers included."""
    for layer in layers:
        while isinstance(layer, dict):
            yield layer["type"]
            inner = REGISTRY[layer["type"]].inner_attr
            layer = layer.get(inner) if inner else None
