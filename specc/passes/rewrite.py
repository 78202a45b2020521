"""Rewrite passes over the IR: each a small class with one `call(model) -> PassResult`.

A pass returns a new Model (the IR is immutable) and says what it did: which removed layers'
values another layer now computes (`aliases`), and which weights must be combined when they
are bound (`folds`). Lowering runs the passes first and then only lowers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from specc.ir import Layer, Model
from specc.ops.base import Op


@dataclass(frozen=True)
class Fold:
    """A per-channel affine layer (`layer`, e.g. a batch_norm) folded into the kernel and bias
    of the layer before it (`into`): at bind time kernel *= scale along the kernel's output
    axes, and bias = bias * scale + shift."""

    into: str
    layer: str
    op: Op


@dataclass(frozen=True)
class PassResult:
    model: Model
    modified: bool = False
    aliases: Mapping[str, str] = field(default_factory=dict)  # removed name -> its computer
    folds: tuple[Fold, ...] = ()


class Pass(Protocol):
    def call(self, model: Model) -> PassResult: ...


def run_passes(model: Model, passes: Sequence[Pass]) -> PassResult:
    """The passes in order, their aliases resolved through each other and their folds kept."""
    aliases: dict[str, str] = {}
    folds: list[Fold] = []
    modified = False
    for p in passes:
        result = p.call(model)
        model = result.model
        modified |= result.modified
        for old, new in result.aliases.items():
            aliases[old] = new
        for old, new in list(aliases.items()):
            while new in result.aliases:
                new = result.aliases[new]
            aliases[old] = new
        folds += result.folds
    return PassResult(model, modified, aliases, tuple(folds))


def readers(model: Model) -> dict[str, list[Layer]]:
    """The layers that read each name."""
    out: dict[str, list[Layer]] = {}
    for layer in model.layers:
        for name in layer.inputs:
            out.setdefault(name, []).append(layer)
    return out


def sole_reader(model: Model, name: str, by: Mapping[str, list[Layer]]) -> Layer | None:
    """The one layer reading `name`, when `name` is not also a model output."""
    found = by.get(name, [])
    if len(found) != 1 or name in model.outputs:
        return None
    return found[0]


def rebuild(model: Model, layers: list[Layer], aliases: Mapping[str, str]) -> Model:
    """The model with these layers (re-indexed) and every read of an alias redirected."""
    fixed = [
        replace(layer, index=i, inputs=tuple(aliases.get(n, n) for n in layer.inputs))
        for i, layer in enumerate(layers)
    ]
    outputs = tuple(aliases.get(n, n) for n in model.outputs)
    return replace(model, layers=tuple(fixed), outputs=outputs)
