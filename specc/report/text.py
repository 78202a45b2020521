"""Diagnostics as text: `path:line:col: CODE message`, the source line and a caret."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from specc.diagnostics import Diagnostic, Note, Severity
from specc.safe_text import printable
from specc.source import SourceMap

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
# Output stays linear in the input: a source line is shown at most this wide around the column
# (as compilers clip long lines), and one line shows at most PER_LINE findings.
WIDTH = 120
PER_LINE = 10


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def location(d: Diagnostic) -> str:
    return printable(str(d.span)) if d.span else "<unknown>"


def capped(diagnostics: Iterable[Diagnostic], per_line: int = PER_LINE) -> list[Diagnostic]:
    """The diagnostics with at most `per_line` of each source line; the last one shown says how
    many more that line has (a long flow mapping can hold thousands of duplicate keys)."""
    items = list(diagnostics)
    counts: dict[tuple[str, int], int] = {}
    for d in items:
        if d.span is not None:
            key = (d.span.path, d.span.line)
            counts[key] = counts.get(key, 0) + 1
    shown: dict[tuple[str, int], int] = {}
    out: list[Diagnostic] = []
    for d in items:
        if d.span is None or counts[(d.span.path, d.span.line)] <= per_line:
            out.append(d)
            continue
        key = (d.span.path, d.span.line)
        seen = shown[key] = shown.get(key, 0) + 1
        if seen < per_line:
            out.append(d)
        elif seen == per_line:
            more = counts[key] - per_line
            note = Note(
                f"{more:,} more finding{'s' if more != 1 else ''} on line {d.span.line} not shown"
            )
            out.append(Diagnostic(d.code, d.severity, d.message, d.span, (*d.notes, note)))
    return out


def clipped(line: str, col: int, width: int = WIDTH) -> tuple[str, int]:
    """A long line cut to `width` characters around the 1-based `col`, with `...` where it was
    cut, and the column of the same character in the cut line."""
    if len(line) <= width:
        return line, col
    start = max(0, min(col - 1 - width // 2, len(line) - width))
    end = start + width
    head = "..." if start > 0 else ""
    tail = "..." if end < len(line) else ""
    return f"{head}{line[start:end]}{tail}", col - start + len(head)


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
        shown, col = clipped(line.expandtabs(1).rstrip(), d.span.col)
        lines.append(f" {gutter} |")
        lines.append(f" {number} | {printable(shown)}")
        lines.append(f" {gutter} | {' ' * (col - 1)}{_paint('^', _COLOURS[d.severity], color)}")
    for note in d.notes if context else ():
        where = f" ({printable(str(note.span))})" if note.span else ""
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
        for d in capped(diagnostics)
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
