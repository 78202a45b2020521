"""Costs of a model: MACs, activation memory, peak live memory, receptive fields, and what the
spec requires of its symbolic dims.

Conventions (stated once here, in the report and in docs/explain.md):
- 1 MAC is one multiply plus one add; FLOPs = 2 x MACs. Only layers that multiply by weights
  count (convolutions of every kind, dense); batch norm, activations, pooling, merges,
  padding, upsampling and reshapes are 0, as in torchinfo's and ptflops' conv-and-linear
  counting. Bias additions are not counted.
- Activation memory is a layer's output elements x 4 bytes (float32), per sample. A tensor is
  live from the step that produces it (inputs: from the start) to its last consumer in spec
  order (model outputs: to the end); the peak is the largest live total at any step.
- Receptive fields are per spatial axis, in input pixels: `size` is the extent one output
  position reads (first to last pixel), `jump` the distance between neighbouring outputs. A
  window of span s and stride t gives size + (s - 1) x jump and jump x t. Upsampling by u
  (transposed convolution, upsample2d) makes the jump 1/u on average; sizes stay exact
  because each path keeps which pixels every position reads over one period. Where branches
  meet, each axis takes the largest size and jump over the paths.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from specc.dims import Dim, format_dim, grows, min_value, product, substitute, symbols
from specc.ir import FLOAT32_BYTES, Layer, TensorType
from specc.ops.base import AxisStep, Footprint, KeepAxes
from specc.passes.congruence import MAX_PERIOD, Congruence, merge_conditions, period
from specc.passes.shapes import Shapes

# -- receptive fields -------------------------------------------------------------------------

MAX_PATHS = 64  # per axis; past this the largest receptive fields are kept (a lower bound)


class _TooFine(Exception):
    """An exact map would repeat only every more than MAX_PERIOD positions."""


@dataclass(frozen=True)
class AxisMap:
    """Which input pixels the positions of one tensor axis read, along one path.

    Position q * period + r reads input pixels lo[r] + q * step ... hi[r] + q * step (nothing
    where lo[r] is None: a transposed convolution with stride > kernel leaves gaps). Windows
    keep the period at 1; upsampling by u multiplies it by u, so that a position's pixels are
    known exactly and not only on average. Tables are shifted so that min(lo) is 0.
    """

    period: int
    step: int
    lo: tuple[int | None, ...]
    hi: tuple[int | None, ...]

    @property
    def size(self) -> int:
        """The extent of the widest field: last pixel read - first pixel read + 1."""
        return max(
            (
                h - lo + 1
                for lo, h in zip(self.lo, self.hi, strict=True)
                if lo is not None and h is not None
            ),
            default=0,
        )

    @property
    def jump(self) -> Fraction:
        """Input pixels between neighbouring positions, on average (exact without upsampling)."""
        return Fraction(self.step, self.period)

    def at(self, position: int) -> tuple[int, int] | None:
        q, r = divmod(position, self.period)
        lo, hi = self.lo[r], self.hi[r]
        return None if lo is None or hi is None else (lo + q * self.step, hi + q * self.step)

    def through(self, step: AxisStep) -> AxisMap:
        """The map of the output axis of a window (or upsampling) `step` over this axis."""
        reads: list[Sequence[int]]
        if self.period * step.up > MAX_PERIOD:
            raise _TooFine
        if step.up == 1:
            period = self.period // math.gcd(self.period, step.stride)
            shift = self.step * step.stride * period // self.period
            taps = [t * step.dilation for t in range(step.kernel)]
            reads = [[r * step.stride + t for t in taps] for r in range(period)]
        else:
            # Output o of an upsampling by u with a k-wide kernel reads inputs i, 0 <= o - i*u < k.
            period, shift, k = self.period * step.up, self.step, step.kernel
            reads = [range(-((k - 1 - r) // step.up), r // step.up + 1) for r in range(period)]
        lo: list[int | None] = []
        hi: list[int | None] = []
        for positions in reads:
            spans = [s for s in (self.at(p) for p in positions) if s is not None]
            lo.append(min((a for a, _ in spans), default=None))
            hi.append(max((b for _, b in spans), default=None))
        return _normalised(period, shift, lo, hi)


def _normalised(period: int, step: int, lo: list[int | None], hi: list[int | None]) -> AxisMap:
    base = min((v for v in lo if v is not None), default=0)
    return AxisMap(
        period,
        step,
        tuple(None if v is None else v - base for v in lo),
        tuple(None if v is None else v - base for v in hi),
    )


PIXEL_MAP = AxisMap(1, 1, (0,), (0,))

# Per spatial axis, the maps of every path that may still give the largest field; "unknown"
# when upsampling made the exact pattern repeat only every more than MAX_PERIOD positions.
Paths = tuple[frozenset[AxisMap], ...]
State = Paths | Literal["global", "flat", "unknown"]


@dataclass(frozen=True)
class AxisField:
    """The receptive field along one spatial axis, in input pixels: the largest over paths."""

    size: int
    jump: Fraction


# A tuple has one AxisField per spatial axis of the tensor; "global": every value reads the
# whole input; "flat": the spatial axes were folded together, so positions mean nothing;
# "unknown": not computed (see State).
Field = tuple[AxisField, ...] | Literal["global", "flat", "unknown"]


def input_state(x: TensorType, integer: bool = False) -> State:
    """Each input position reads itself: size 1, jump 1 on every spatial (non-channel) axis;
    an integer input (indices) has no channels, so every one of its axes is a position."""
    return tuple(frozenset({PIXEL_MAP}) for _ in (x.shape if integer else x.spatial))


def field_of(state: State) -> Field:
    if isinstance(state, str):
        return state
    return tuple(AxisField(max(m.size for m in maps), max(m.jump for m in maps)) for maps in state)


def _prune(maps: Iterable[AxisMap]) -> frozenset[AxisMap]:
    """Drop maps that can never give the largest field: of two period-1 maps with the same
    step, the narrower stays narrower through every later layer."""
    kept: dict[tuple[int, int], AxisMap] = {}
    rest = set()
    for m in maps:
        if m.period == 1:
            key = (1, m.step)
            if key not in kept or m.size > kept[key].size:
                kept[key] = m
        else:
            rest.add(m)
    out = sorted([*kept.values(), *rest], key=lambda m: (-m.size, m.period, m.step, str(m.lo)))
    return frozenset(out[:MAX_PATHS])


def merge_states(states: Sequence[State]) -> State:
    """Where branches meet: every path of every input, axis by axis."""
    if "global" in states:
        return "global"
    if "unknown" in states:
        return "unknown"
    axes = [s for s in states if isinstance(s, tuple)]
    if len(axes) != len(states):
        return "flat"
    # A broadcast input of lower rank (an element-wise merge) lines up from the last axis: it
    # is the same along the axes it lacks, which add nothing from it.
    rank = max(len(s) for s in axes)
    return tuple(
        _prune(m for s in axes if len(s) >= rank - axis for m in s[axis - rank])
        for axis in range(rank)
    )


def apply_footprint(footprint: Footprint, states: Sequence[State]) -> State:
    """The output's state, given how the op reads its inputs."""
    merged = merge_states(states)
    if footprint == "global" or merged == "global":
        return "global"
    if footprint == "same":
        return merged
    if footprint == "dense":  # mixing the folded values of a flattened input reads all of it
        return "global" if merged == "flat" else merged
    if footprint == "flatten" or merged == "flat":
        return "flat"
    if merged == "unknown":
        return "unknown"
    if isinstance(footprint, KeepAxes):
        return tuple(merged[a] for a in footprint.axes)
    if len(footprint) != len(merged):
        return "flat"
    try:
        return tuple(
            _prune(m.through(step) for m in maps)
            for maps, step in zip(merged, footprint, strict=True)
        )
    except _TooFine:
        return "unknown"


# -- per-layer costs --------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerCosts:
    """MACs, output size and receptive field of one layer, per sample."""

    layer: Layer
    macs: Dim
    elements: Dim
    field: Field

    @property
    def flops(self) -> Dim:
        return self.macs * 2

    @property
    def memory(self) -> Dim:
        """Bytes of the output activation (float32)."""
        return self.elements * FLOAT32_BYTES


@dataclass(frozen=True)
class Step:
    """The activations alive while one layer runs (its inputs and its output among them)."""

    layer: str
    live: tuple[str, ...]
    bytes: Dim


@dataclass(frozen=True)
class Peak:
    """The peak live activation memory: the steps that no other step provably exceeds.

    With int dims that is one step; with symbols the largest step may depend on their values,
    and every candidate is kept so that the peak is max(candidates), exactly.
    """

    candidates: tuple[Step, ...]

    @property
    def known(self) -> bool:
        return len(self.candidates) == 1

    def value(self, env: Mapping[str, int]) -> Dim | None:
        """The peak with `env` bound; None when it is still a max of several expressions."""
        values = [substitute(c.bytes, env) for c in self.candidates]
        if all(isinstance(v, int) for v in values):
            return max(values)  # type: ignore[type-var]
        return values[0] if len(values) == 1 else None


# -- constraints on symbols -------------------------------------------------------------------


@dataclass(frozen=True)
class MinBound:
    """`symbol` must be at least `value`, or axis `axis` of `where` has no positions left."""

    symbol: str
    value: int
    where: str
    axis: int
    dim: Dim


@dataclass(frozen=True)
class Unchecked:
    """A dim whose lower bound specc cannot find (several symbols, or not visibly monotone)."""

    where: str
    axis: int
    dim: Dim


@dataclass
class Costs:
    """Everything the cost pass learned; layers missing from `shapes` are missing here too."""

    shapes: Shapes
    layers: dict[str, LayerCosts] = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)  # inputs and layers
    states: dict[str, State] = field(default_factory=dict)  # the paths behind each field
    peak: Peak | None = None
    bounds: dict[str, MinBound] = field(default_factory=dict)  # the binding bound per symbol
    congruences: list[Congruence] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)

    @property
    def macs(self) -> Dim:
        return _sum(c.macs for c in self.layers.values())

    @property
    def flops(self) -> Dim:
        return self.macs * 2

    @property
    def memory(self) -> Dim:
        """The sum of every layer's output activation, in bytes."""
        return _sum(c.memory for c in self.layers.values())

    @property
    def symbols(self) -> tuple[str, ...]:
        names: set[str] = set()
        for t in self.shapes.types.values():
            if t is not None:
                for d in t.shape:
                    names |= symbols(d)
        return tuple(sorted(names))

    def smallest(self, name: str) -> int:
        """The smallest value of `name` that meets its bound, the spec's assumptions and every
        congruence on it."""
        assumed = self.shapes.model.assume
        bound = max(self.bounds[name].value if name in self.bounds else 1, assumed.least(name))
        rules = [c for c in self.congruences if c.symbol == name]
        known = assumed.on(name)
        period = math.lcm(known.modulus, *(c.modulus for c in rules))
        for v in range(bound, bound + period):
            if known.holds(v) and all(c.holds(v) for c in rules):
                return v
        return bound  # the congruences contradict each other; the check reports them

    def problems(self, env: Mapping[str, int]) -> list[str]:
        """Why these symbol values do not fit the spec (empty when they do)."""
        out = self.shapes.model.assume.broken(env)
        if out:  # the values below assume what they contradict
            return out
        for name, value in sorted(env.items()):
            bound = self.bounds.get(name)
            if bound is not None and value < bound.value:
                out.append(
                    f"{name}={value} is below {bound.value}, the smallest value for which "
                    f"{bound.where} axis {bound.axis} ({format_dim(bound.dim)}) stays positive"
                )
            out += [
                f"{name}={value}: the branches meeting at {c.where} need {c}"
                for c in self.congruences
                if c.symbol == name and not c.holds(value)
            ]
        if out:
            return out
        for where, t in _tensors(self):
            for axis, d in enumerate(t.shape):
                v = substitute(d, env)
                if isinstance(v, int) and v < 1:
                    return [f"{where} axis {axis} ({format_dim(d)}) is {v} with these values"]
        return []


def measure(shapes: Shapes) -> Costs:
    """MACs, memory and receptive fields of every inferred layer; peak and symbol constraints."""
    costs = Costs(shapes)
    for x in shapes.model.inputs:
        costs.states[x.name] = input_state(x.type, x.integer)
        costs.fields[x.name] = field_of(costs.states[x.name])
    for layer in shapes.model.layers:
        info = shapes.layers.get(layer.name)
        if info is None:
            continue
        states = [costs.states.get(n, "flat") for n in layer.inputs]
        state = apply_footprint(layer.op.footprint(info.inputs, info.output), states)
        costs.states[layer.name], costs.fields[layer.name] = state, field_of(state)
        macs = layer.op.macs(info.inputs, info.output)
        costs.layers[layer.name] = LayerCosts(
            layer, macs, product(info.output.shape), field_of(state)
        )
    _constrain(costs)
    if shapes.complete:
        costs.peak = _peak(costs, _steps(shapes))
    return costs


def constraints(shapes: Shapes) -> Costs:
    """Only what the spec requires of its symbols (bounds and congruences), without the layers'
    costs, fields and peak: enough to check values for the symbols before binding them."""
    costs = Costs(shapes)
    _constrain(costs)
    return costs


def _constrain(costs: Costs) -> None:
    _find_bounds(costs)
    _find_congruences(costs)


def _sum(values: Iterable[Dim]) -> Dim:
    total: Dim = 0
    for v in values:
        total = total + v
    return total


# -- live memory ------------------------------------------------------------------------------


def _steps(shapes: Shapes) -> list[Step]:
    """The live set at each layer, in spec order."""
    model = shapes.model
    order = {x.name: -1 for x in model.inputs} | {layer.name: i for i, layer in enumerate(model)}
    last = dict(order)  # an unread tensor dies where it is made
    for i, layer in enumerate(model):
        for name in layer.inputs:
            last[name] = max(last[name], i)
    for name in model.outputs:
        last[name] = len(model.layers)
    size = {n: product(t.shape) * FLOAT32_BYTES for n, t in shapes.types.items() if t}
    steps = []
    for i, layer in enumerate(model):
        live = tuple(n for n in order if order[n] <= i <= last[n])
        steps.append(Step(layer.name, live, _sum(size[n] for n in live)))
    return steps


def _peak(costs: Costs, steps: list[Step]) -> Peak | None:
    if not steps:
        return None
    names = {n for s in steps for n in symbols(s.bytes)}
    start = {n: costs.smallest(n) for n in names}
    # Visit the steps from the largest at a far-out point so that the true maxima come first
    # and dominate the rest quickly.
    far = {n: v + 10**6 for n, v in start.items()}
    ranked = sorted(steps, key=lambda s: _value(s.bytes, far), reverse=True)
    kept: list[Step] = []
    for step in ranked:
        if not any(_at_least(k.bytes, step.bytes, start) for k in kept):
            kept = [k for k in kept if not _at_least(step.bytes, k.bytes, start)] + [step]
    return Peak(tuple(sorted(kept, key=steps.index)))


# -- symbol analysis --------------------------------------------------------------------------


def _degree_bound(d: Dim, name: str) -> int:
    return len(re.findall(rf"\b{re.escape(name)}\b", format_dim(d)))


def _value(d: Dim, env: Mapping[str, int]) -> int:
    v = substitute(d, env)
    assert isinstance(v, int)
    return v


def _at(d: Dim, name: str, value: int) -> int:
    return _value(d, {name: value})


def _nonneg_from(d: Dim, name: str, start: int) -> bool:
    """Whether d >= 0 for every value of `name` from `start` on; False when not shown.

    With one symbol, d restricted to one residue class mod its period p is a polynomial in
    the class index k of degree at most the symbol's occurrences n; when its second
    differences vanish at n - 1 points it is linear, and a linear function that starts >= 0
    and does not decrease stays >= 0.
    """
    if isinstance(d, int):
        return d >= 0
    if symbols(d) != {name}:
        return False
    p, n = period([d]), _degree_bound(d, name)
    if p > MAX_PERIOD:  # too many residue classes to check: not shown
        return False
    for r in range(p):
        values = [_at(d, name, start + r + k * p) for k in range(n + 2)]
        if any(values[k] - 2 * values[k + 1] + values[k + 2] for k in range(n)):
            return False
        if values[0] < 0 or values[1] < values[0]:
            return False
    return True


def _at_least(a: Dim, b: Dim, start: Mapping[str, int]) -> bool:
    """a >= b for every symbol value from its smallest valid one (False when not shown)."""
    diff = a - b
    if isinstance(diff, int):
        return diff >= 0
    names = symbols(diff)
    if len(names) != 1:
        # Several symbols: enough when it starts >= 0 and grows with each (36*H*W vs 60*H*W).
        return grows(diff) and _value(diff, start) >= 0
    (name,) = names
    return _nonneg_from(diff, name, start.get(name, 1))


def _tensors(costs: Costs) -> Iterable[tuple[str, TensorType]]:
    for name, t in costs.shapes.types.items():
        if t is not None:
            yield name, t


def _find_bounds(costs: Costs) -> None:
    """For every symbol, the tensor axis that needs the largest value to stay positive."""
    for where, t in _tensors(costs):
        for axis, d in enumerate(t.shape):
            names = symbols(d)
            if not names:
                continue
            value = min_value(d, next(iter(names))) if len(names) == 1 else None
            if value is None:
                costs.unchecked.append(Unchecked(where, axis, d))
                continue
            (name,) = names
            assumed = costs.shapes.model.assume
            if assumed.about(name) and value <= assumed.least(name):
                continue  # what the spec assumes already says it
            best = costs.bounds.get(name)
            if best is None or value > best.value:
                costs.bounds[name] = MinBound(name, value, where, axis, d)


def _least(costs: Costs, name: str) -> int:
    return costs.smallest(name) if name in costs.bounds else costs.shapes.model.assume.least(name)


def _find_congruences(costs: Costs) -> None:
    """Where branches meet but shape inference could not prove them equal, the residues of
    the symbol for which the layer's own shape rule accepts them."""
    shapes = costs.shapes
    for layer in shapes.model.layers:
        if layer.name in shapes.layers or len(layer.inputs) < 2:
            continue
        ins = [shapes.types.get(n) for n in layer.inputs]
        known = [t for t in ins if t is not None]
        if len(known) != len(ins):
            continue
        costs.congruences += merge_conditions(
            layer, known, lambda name: _least(costs, name), shapes.model.assume
        )
