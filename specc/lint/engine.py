"""Run the rules over a model and apply the settings to every diagnostic of a file."""

from __future__ import annotations

from collections.abc import Iterable

from specc.diagnostics import Diagnostic
from specc.lint.registry import RULES, Context, Finding, Rule
from specc.lint.settings import Settings
from specc.lint.suppress import comments_of, is_suppressed
from specc.passes.shapes import Shapes
from specc.source import SourceMap


def lint(shapes: Shapes, settings: Settings) -> list[Diagnostic]:
    """The findings of every enabled rule, stamped and filtered by `settings`."""
    return apply(findings(shapes, settings), shapes.model.source, settings)


def findings(shapes: Shapes, settings: Settings) -> list[Diagnostic]:
    """The findings of every enabled rule, stamped, before inline suppression."""
    context = Context(shapes, settings)
    source = shapes.model.source
    found: list[Diagnostic] = []
    for code, entry in RULES.items():
        if settings.enabled(code):
            found += (stamp(entry, finding, source, settings) for finding in entry.check(context))
    return found


def stamp(entry: Rule, finding: Finding, source: SourceMap, settings: Settings) -> Diagnostic:
    """A rule's finding as a Diagnostic: its code, configured severity, message and span."""
    message, span = finding.message, finding.span
    layer = finding.layer
    if layer is not None:
        message = f"{layer.name}: {message}"
        if span is None:
            node = (*layer.node, finding.attr) if finding.attr else None
            span = source.value(node) if node and node in source.values else layer.span
    if span is None:
        span = source.value(())
    severity = settings.severity_of(entry.code.code, entry.code.severity)
    return Diagnostic(entry.code.code, severity, message, span, finding.notes)


def apply(
    diagnostics: Iterable[Diagnostic], source: SourceMap, settings: Settings
) -> list[Diagnostic]:
    """Drop what is not selected or is suppressed inline; give the rest its configured severity."""
    kept: list[Diagnostic] = []
    comments = comments_of(source)
    for d in diagnostics:
        if not settings.enabled(d.code) or is_suppressed(d, source, comments):
            continue
        severity = settings.severity_of(d.code, d.severity)
        kept.append(d if severity is d.severity else d.with_severity(severity))
    return kept
