"""The pipeline as plain functions: load -> validate -> build -> infer (and later lint, lower)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from specc.diagnostics import Diagnostic, has_errors, sort_diagnostics
from specc.ir import Model
from specc.loader import Limits, Loaded, load_file, load_text
from specc.passes.build import build
from specc.passes.shapes import Shapes, infer
from specc.schema import validate
from specc.source import SourceMap


@dataclass
class Checked:
    """Everything the static pipeline learned about one spec."""

    path: str
    source: SourceMap
    data: object | None = None
    model: Model | None = None
    shapes: Shapes | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def check_file(path: str | os.PathLike[str], limits: Limits | None = None) -> Checked:
    """Load, validate, build and infer one spec file; problems come back as diagnostics."""
    return analyze(load_file(path, limits or Limits()), str(path))


def check_text(text: str | bytes, path: str = "<string>", limits: Limits | None = None) -> Checked:
    """The same for a spec held in memory."""
    return analyze(load_text(text, path, limits or Limits()), path)


def analyze(loaded: Loaded, path: str) -> Checked:
    """Run every static stage that the previous stages allow."""
    result = Checked(path, loaded.source, loaded.data, diagnostics=list(loaded.diagnostics))
    if loaded.data is None or has_errors(loaded.diagnostics):
        return _done(result)
    validation = validate(loaded.data, loaded.source)
    result.diagnostics += validation.diagnostics
    if validation.spec_level:
        return _done(result)
    built = build(loaded.data, loaded.source, frozenset(validation.invalid_layers))  # type: ignore[arg-type]
    result.diagnostics += built.diagnostics
    result.model = built.model
    if built.model is not None:
        result.shapes = infer(built.model)
        result.diagnostics += result.shapes.diagnostics
    return _done(result)


def _done(result: Checked) -> Checked:
    result.diagnostics = sort_diagnostics(result.diagnostics)
    return result
