"""Diagnostics in every output format of `specc check`: text, concise, json, sarif, github."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from specc.diagnostics import Diagnostic, Severity
from specc.report.text import capped, count_line, format_text
from specc.source import SourceMap

Format = Literal["text", "concise", "json", "sarif", "github"]
FORMATS: tuple[Format, ...] = ("text", "concise", "json", "sarif", "github")
_GITHUB = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(
    fmt: Format,
    diagnostics: Sequence[Diagnostic],
    sources: Mapping[str, SourceMap],
    files: int,
    color: bool = False,
) -> str:
    """The whole output of one check (without a trailing newline).

    Each format shows at most `text.PER_LINE` findings of one source line (the count line
    counts them all), so that the output stays linear in the size of the input.
    """
    if fmt in ("json", "sarif"):
        import json

        if fmt == "json":
            return json.dumps(to_json(capped(diagnostics)), indent=2)
        from specc.report.sarif import to_sarif

        return json.dumps(to_sarif(capped(diagnostics)), indent=2)
    summary = count_line(list(diagnostics), files)
    if fmt == "github":
        body = "\n".join(github(d) for d in capped(diagnostics))
    else:
        body = format_text(diagnostics, sources, color=color, context=fmt == "text")
    if not body:
        return summary
    return f"{body}\n\n{summary}" if fmt == "text" else f"{body}\n{summary}"


def render_statistics(fmt: Format, diagnostics: Sequence[Diagnostic], files: int) -> str:
    """How many findings of each code, most first (ruff's --statistics): a table with the
    summary line, or with `json` a list of {code, name, severity, count}."""
    from collections import Counter

    from specc.diagnostics import CATALOGUE

    counts = Counter(d.code for d in diagnostics)
    worst = {d.code: d.severity for d in sorted(diagnostics, key=lambda d: d.severity)}
    rows = [
        {
            "code": code,
            "name": CATALOGUE[code].name if code in CATALOGUE else "",
            "severity": worst[code].label,
            "count": count,
        }
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    if fmt == "json":
        import json

        return json.dumps(rows, indent=2)
    width = max((len(str(row["count"])) for row in rows), default=1)
    lines = [
        f"{row['count']:>{width}}  {row['code']}  {row['name']} ({row['severity']})" for row in rows
    ]
    return "\n".join([*lines, count_line(list(diagnostics), files)])


def to_json(diagnostics: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    """A list of plain objects: code, severity, message, path, line, column and notes."""
    return [
        {
            "code": d.code,
            "severity": d.severity.label,
            "message": d.message,
            **_place(d.span),
            "notes": [{"message": n.message, **_place(n.span)} for n in d.notes],
        }
        for d in diagnostics
    ]


def _place(span: Any) -> dict[str, Any]:
    if span is None:
        return {"path": None, "line": None, "column": None}
    return {"path": span.path, "line": span.line, "column": span.col}


def github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the line in the pull request."""
    level = _GITHUB[d.severity]
    notes = "".join(f"\n{n.message}" + (f" ({n.span})" if n.span else "") for n in d.notes)
    message = _escape(d.message + notes)
    if d.span is None:
        return f"::{level} title={_escape_property(d.code)}::{message}"
    span = d.span
    where = f"file={_escape_property(span.path)},line={span.line},col={span.col}"
    return f"::{level} {where},title={_escape_property(d.code)}::{message}"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")
