"""The pipeline as plain functions: load -> validate -> build -> infer -> lint (and later lower)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from specc.codes import UNUSED_SUPPRESSION
from specc.diagnostics import Diagnostic, has_errors, sort_diagnostics
from specc.ir import Model
from specc.lint import ALL, DEFAULT, Settings, apply, findings, unused_suppressions
from specc.loader import Limits, Loaded, load_file, load_text
from specc.passes.build import build
from specc.passes.shapes import Shapes, infer
from specc.schema import validate
from specc.source import SourceMap

if TYPE_CHECKING:  # the lowering imports numpy: only `compile` loads it, when called
    from specc.lower.plan import Plan
    from specc.report.view import Report


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


def check_file(
    path: str | os.PathLike[str], limits: Limits | None = None, settings: Settings = DEFAULT
) -> Checked:
    """Load, validate, build, infer and lint one spec file; problems come back as diagnostics."""
    return analyze(load_file(path, limits or Limits()), str(path), settings)


def check_text(
    text: str | bytes,
    path: str = "<string>",
    limits: Limits | None = None,
    settings: Settings = DEFAULT,
) -> Checked:
    """The same for a spec held in memory."""
    return analyze(load_text(text, path, limits or Limits()), path, settings)


def analyze(loaded: Loaded, path: str, settings: Settings = DEFAULT) -> Checked:
    """Run every static stage that the previous stages allow.

    `settings` select codes, set severities and budgets; inline `# specc: ignore` comments
    apply too. A file that could not be loaded at all is reported whatever the settings.
    """
    result = Checked(path, loaded.source, loaded.data, diagnostics=list(loaded.diagnostics))
    if loaded.data is None:
        return _done(result)
    if has_errors(loaded.diagnostics):
        return _linted(result, settings)
    validation = validate(loaded.data, loaded.source)
    result.diagnostics += validation.diagnostics
    if validation.spec_level:
        return _linted(result, settings)
    built = build(loaded.data, loaded.source, frozenset(validation.invalid_layers))  # type: ignore[arg-type]
    result.diagnostics += built.diagnostics
    result.model = built.model
    if built.model is not None:
        result.shapes = infer(built.model, loaded.limits)
        result.diagnostics += result.shapes.diagnostics
    return _linted(result, settings)


def check_model(model: Model, settings: Settings = DEFAULT, path: str | None = None) -> Checked:
    """Infer and lint a model built in code (an importer's), with no source positions."""
    result = Checked(path or model.source.path, model.source, model=model)
    result.shapes = infer(model)
    result.diagnostics += result.shapes.diagnostics
    return _linted(result, settings)


def _linted(result: Checked, settings: Settings) -> Checked:
    """Apply the settings; lint only a spec with no errors left (its graph and shapes are whole).

    Suppression comments are judged (W002) only in a file without errors, before any is
    suppressed or deselected: otherwise the rules ran on part of the model, or not at all, and
    a comment for one of their codes would look unused. They are judged against every rule,
    selected or not (`unused_suppressions`); the selection then filters what is shown.
    """
    found, source = result.diagnostics, result.source
    result.diagnostics = apply(found, source, settings)
    # Judged before the settings: an ignored or demoted error still leaves the graph half-built.
    if result.shapes is None or has_errors(found):
        return _done(result)
    if not settings.enabled(UNUSED_SUPPRESSION):
        result.diagnostics += apply(findings(result.shapes, settings), source, settings)
        return _done(result)
    every = findings(result.shapes, replace(settings, select=(ALL,), ignore=()))
    unused = unused_suppressions(found + every, source)
    result.diagnostics = apply(found + every + unused, source, settings)
    return _done(result)


def _done(result: Checked) -> Checked:
    result.diagnostics = sort_diagnostics(result.diagnostics)
    return result


def _checked(spec: str | os.PathLike[str], limits: Limits | None) -> Checked:
    """A path, or YAML text (anything with a newline), through the static pipeline."""
    if isinstance(spec, str) and "\n" in spec:
        return check_text(spec, limits=limits)
    return check_file(spec, limits)


def summary(
    spec: str | os.PathLike[str],
    *,
    layout: str = "keras",
    dims: dict[str, int] | None = None,
    batch: int = 1,
    columns: tuple[str, ...] | None = None,
    limits: Limits | None = None,
) -> Report:
    """The report of `specc report` for a spec (a path, or YAML text) as an object: its repr
    is the plain table, and rich and Jupyter draw it. Raises specc.lower.SpecError (with the
    diagnostics) when the spec has errors."""
    from specc.lower.errors import SpecError
    from specc.report.summary import summarize
    from specc.report.view import Report

    checked = _checked(spec, limits)
    if not checked.ok or checked.shapes is None:
        raise SpecError(checked.diagnostics, {checked.path: checked.source})
    data = summarize(
        checked.shapes, "torch" if layout == "torch" else "keras", dims=dims, batch=batch
    )
    return Report(data, columns)


def compile(
    spec: str | os.PathLike[str],
    *,
    batch: int = 1,
    dtype: str = "float32",
    dims: dict[str, int] | None = None,
    max_memory: int | str | None = "default",
    limits: Limits | None = None,
) -> Plan:
    """Check a spec (a path, or YAML text) and lower it to a Plan that runs on NumPy arrays.

    Raises specc.lower.SpecError (with the diagnostics) when the spec has errors, and
    specc.lower.RunError for bad arguments. `plan.run(x, weights)` then gives the outputs.
    `limits` bounds the file as in `check_file` (default: `specc.limits.Limits()`).
    """
    from specc.lower import Plan, SpecError

    checked = _checked(spec, limits)
    if not checked.ok or checked.shapes is None or not checked.shapes.complete:
        raise SpecError(checked.diagnostics, {checked.path: checked.source})
    return Plan(checked, batch=batch, dtype=dtype, dims=dims, max_memory=max_memory)


def import_model(path: str | os.PathLike[str], *, name: str | None = None):  # type: ignore[no-untyped-def]
    """An ONNX model as a spec: `.text` (YAML), `.weights` (keyed "<layer>.<param>", Keras
    layouts) and `.checked`. Raises specc.interop.importing.ImportFailed when it cannot be."""
    from specc.interop.importing import import_model as run

    return run(path, name=name)
