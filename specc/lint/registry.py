"""The rule registry: a rule yields Findings; the framework stamps code, span and severity."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar

from specc.diagnostics import Code, Note, Severity, register
from specc.ir import Layer, Model, TensorType
from specc.lint.settings import Settings
from specc.passes.shapes import LayerShapes, Shapes
from specc.source import Span


@dataclass(frozen=True)
class Finding:
    """One problem as a rule sees it: what is wrong, and where in the model.

    With `layer`, the message gets the layer's name in front and the finding points at
    `attr` when the spec writes that attribute, else at the layer. `span` overrides both.
    """

    message: str
    layer: Layer | None = None
    attr: str | None = None
    span: Span | None = None
    notes: tuple[Note, ...] = ()


T = TypeVar("T")


@dataclass
class Context:
    """What every rule may look at: the model, its inferred shapes and the settings."""

    shapes: Shapes
    settings: Settings
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def model(self) -> Model:
        return self.shapes.model

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value derived once per model and shared by the rules of a family."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    def shaped(self) -> Iterator[LayerShapes]:
        """The layers whose shapes are known, in spec order."""
        return iter(self._shaped)

    @cached_property
    def _shaped(self) -> list[LayerShapes]:
        known = self.shapes.layers
        return [known[layer.name] for layer in self.model.layers if layer.name in known]

    def applied(self) -> Iterator[LayerShapes]:
        """Like `shaped`, but a wrapper (time_distributed) as the layer it applies to each
        slice: its inner op on the shapes without the first axis, at the inner mapping's place
        in the spec. Budgets count the real layers; window and order rules look at these."""
        return iter(self._applied)

    @cached_property
    def _applied(self) -> list[LayerShapes]:
        return [unwrap(info) for info in self._shaped]

    @cached_property
    def layers(self) -> dict[str, Layer]:
        return {layer.name: layer for layer in self.model.layers}

    @cached_property
    def consumers(self) -> dict[str, tuple[Layer, ...]]:
        """Layer or input name -> the layers that read it, in spec order."""
        readers: dict[str, list[Layer]] = {}
        for layer in self.model.layers:
            for name in dict.fromkeys(layer.inputs):
                readers.setdefault(name, []).append(layer)
        return {name: tuple(found) for name, found in readers.items()}

    def readers(self, name: str) -> tuple[Layer, ...]:
        return self.consumers.get(name, ())

    @cached_property
    def outputs(self) -> frozenset[str]:
        return frozenset(self.model.outputs)

    def writes(self, layer: Layer, attr: str) -> bool:
        """Whether the spec writes `attr` for `layer` (a default has no position of its own)."""
        return (*layer.node, attr) in self.model.source.values


def unwrap(info: LayerShapes) -> LayerShapes:
    """A wrapper layer's view as its inner layer on one slice (any other layer as it is)."""
    layer, inputs, output = info.layer, info.inputs, info.output
    while (op := layer.op).inner is not None and op.inner_attr is not None:  # nested wrappers too
        layer = replace(layer, op=op.inner, node=(*layer.node, op.inner_attr))
        inputs = tuple(TensorType(x.shape[1:]) for x in inputs)
        output = TensorType(output.shape[1:])
    return info if layer is info.layer else LayerShapes(layer, inputs, output, info.params)


Check = Callable[[Context], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: its catalogue entry, its check, and the settings its examples need."""

    code: Code
    check: Check
    options: Mapping[str, Any] = field(default_factory=dict)


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    severity: Severity,
    *,
    summary: str,
    why: str,
    bad: str,
    good: str,
    options: Mapping[str, Any] | None = None,
) -> Callable[[Check], Check]:
    """Register a check under a stable code, with the docs that `specc rules` shows.

    `options` are the settings (e.g. `max_params`) under which `bad` triggers the rule.
    """

    def decorate(check: Check) -> Check:
        entry = register(Code(code, name, severity, summary, why, bad, good))
        if code in RULES:
            raise ValueError(f"lint rule {code} registered twice")
        RULES[code] = Rule(entry, check, dict(options or {}))
        return check

    return decorate
