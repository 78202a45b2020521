"""The code catalogue as text, JSON and Markdown: `specc rules` and the generated docs."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

from specc.diagnostics import CATALOGUE, Code

WIDTH = 88


def catalogue(prefix: str = "") -> list[Code]:
    """Every code (E, S, W, I) starting with `prefix`, in code order."""
    return [CATALOGUE[code] for code in sorted(CATALOGUE, key=_order) if code.startswith(prefix)]


def _order(code: str) -> tuple[int, str]:
    return ("ESWI".find(code[0]), code)


def table(codes: Iterable[Code]) -> str:
    """One line per code: code, name, severity and summary, in aligned columns."""
    rows = [(c.code, c.name, c.severity.label, c.summary) for c in codes]
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{code:<{widths[0]}}  {name:<{widths[1]}}  {level:<{widths[2]}}  {summary}"
        for code, name, level, summary in rows
    )


def help_text(code: Code) -> str:
    """One code explained: its summary, why it matters, and a failing and a passing example."""
    parts = [
        f"{code.code} {code.name} ({code.severity.label})",
        "",
        textwrap.fill(code.summary, WIDTH),
    ]
    if code.why:
        parts += [
            "",
            "Why:",
            textwrap.fill(code.why, WIDTH, initial_indent="  ", subsequent_indent="  "),
        ]
    for title, example in (("Bad:", code.bad), ("Good:", code.good)):
        if example:
            parts += ["", title, textwrap.indent(example.rstrip("\n"), "  ")]
    return "\n".join(parts)


def help_markdown(code: Code, level: int = 0) -> str:
    """The same in Markdown; `level` > 0 adds a heading of that level."""
    parts = (
        [f"{'#' * level} {code.code} `{code.name}` ({code.severity.label})", ""] if level else []
    )
    parts.append(code.summary)
    if code.why:
        parts += ["", code.why]
    for title, example in (("Bad", code.bad), ("Good", code.good)):
        if example:
            parts += ["", f"{title}:", "", "```yaml", example.rstrip("\n"), "```"]
    return "\n".join(parts)


def to_json(codes: Iterable[Code]) -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name": c.name,
            "severity": c.severity.label,
            "summary": c.summary,
            "why": c.why,
            "bad": c.bad,
            "good": c.good,
        }
        for c in codes
    ]


def markdown(codes: Iterable[Code]) -> str:
    """A table of every code, then a section for each one that has more to say than a line."""
    listed = list(codes)
    lines = ["| Code | Name | Severity | Summary |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {c.code} | `{c.name}` | {c.severity.label} | {_cell(c.summary)} |" for c in listed
    ]
    sections = [help_markdown(c, level=3) for c in listed if c.why or c.bad or c.good]
    return "\n\n".join(["\n".join(lines), *sections]) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
