"""Diagnostics as text: `path:line:col: CODE message`, the source line and a caret."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from specc.diagnostics import Diagnostic, Severity
from specc.source import SourceMap

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def location(d: Diagnostic) -> str:
    return str(d.span) if d.span else "<unknown>"


def format_one(
    d: Diagnostic, source: SourceMap | None, color: bool = False, context: bool = True
) -> str:
    """One diagnostic; with `context`, the offending line and a caret under the column."""
    code = _paint(d.code, "1;" + _COLOURS[d.severity], color)
    head = f"{_paint(location(d), '1', color)}: {code} {d.message}"
    lines = [head]
    line = source.line_text(d.span.line) if (context and source and d.span) else None
    if line is not None and d.span is not None:
        number = str(d.span.line)
        gutter = " " * len(number)
        shown = line.expandtabs(1).rstrip()
        lines.append(f" {gutter} |")
        lines.append(f" {number} | {shown}")
        lines.append(
            f" {gutter} | {' ' * (d.span.col - 1)}{_paint('^', _COLOURS[d.severity], color)}"
        )
    for note in d.notes if context else ():
        where = f" ({note.span})" if note.span else ""
        lines.append(f"  = note: {note.message}{where}")
    return "\n".join(lines)


def format_text(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, SourceMap],
    color: bool = False,
    context: bool = True,
) -> str:
    blocks = [
        format_one(d, sources.get(d.span.path) if d.span else None, color, context)
        for d in diagnostics
    ]
    return ("\n\n" if context else "\n").join(blocks)


def count_line(diagnostics: list[Diagnostic], files: int) -> str:
    """'3 files, 2 errors, 1 warning' (ruff-style summary)."""
    counts = {s: sum(d.severity is s for d in diagnostics) for s in Severity}
    parts = [f"{files} file{'s' if files != 1 else ''}"]
    for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        n = counts[sev]
        if n:
            plural = "s" if n != 1 and sev is not Severity.INFO else ""  # "6 info", not "6 infos"
            parts.append(f"{n} {sev.label}{plural}")
    if len(parts) == 1:
        parts.append("no problems")
    return ", ".join(parts)
