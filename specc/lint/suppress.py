"""Inline suppression: `# specc: ignore[W101]`, `# specc: ignore[W101,S1]` or `# specc: ignore`.

Also the check that each such comment still suppresses something (W002), as ruff's RUF100.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from specc.codes import UNUSED_SUPPRESSION
from specc.diagnostics import CATALOGUE, Diagnostic, diag
from specc.source import SourceMap, Span

# A YAML comment starts at `#` after whitespace (or at the start of the line).
_COMMENT = re.compile(r"(?:^|(?<=\s))#\s*specc:\s*ignore(?:\[([^\]]*)\])?(?![\w\[-])")


_CODE = re.compile(r"[^,\s]+")


def _comment(line: str) -> tuple[int, list[tuple[str, int]]] | None:
    """The 1-based column of a line's suppression comment, and the codes it lists with their
    columns (an empty list: all codes)."""
    if "specc" not in line:
        return None
    match = _COMMENT.search(line)
    if match is None:
        return None
    listed: list[tuple[str, int]] = []
    if match.group(1) is not None:
        start = match.start(1)
        listed = [(m.group(), start + m.start() + 1) for m in _CODE.finditer(match.group(1))]
    return match.start() + 1, listed


def suppressed_codes(line: str) -> frozenset[str] | None:
    """The codes a line's comment suppresses: None for no comment, empty for all codes."""
    comment = _comment(line)
    return None if comment is None else frozenset(code for code, _ in comment[1])


def is_suppressed(d: Diagnostic, source: SourceMap) -> bool:
    """Whether a comment on the diagnostic's own line suppresses it (codes match as prefixes)."""
    if d.span is None:
        return False
    line = source.line_text(d.span.line)
    codes = None if line is None else suppressed_codes(line)
    if codes is None:
        return False
    if not codes:  # a bare ignore; it cannot hide that it is itself unused
        return d.code != UNUSED_SUPPRESSION
    return any(d.code.startswith(code) for code in codes)


def unused_suppressions(
    diagnostics: Iterable[Diagnostic], source: SourceMap, enabled: Callable[[str], bool]
) -> list[Diagnostic]:
    """W002 for each suppression comment, or listed code, that matches no finding on its line.

    `diagnostics` are every finding of the file before suppression; `enabled` tells whether the
    current selection checks a code. A code none of whose matches is checked is not judged:
    with `--select W1` an `ignore[W201]` may still be needed by the full check.
    """
    on_line: dict[int, list[str]] = {}
    for d in diagnostics:
        if d.span is not None and d.span.path == source.path and enabled(d.code):
            on_line.setdefault(d.span.line, []).append(d.code)
    found: list[Diagnostic] = []
    for number, text in enumerate(source.lines, 1):
        comment = _comment(text)
        if comment is None:
            continue
        col, listed = comment
        present = on_line.get(number, [])
        if not listed:
            if not present:
                message = "unused suppression: nothing on this line is reported"
                found.append(diag(UNUSED_SUPPRESSION, message, Span(source.path, number, col)))
            continue
        for code, code_col in listed:
            span = Span(source.path, number, code_col)
            known = [c for c in CATALOGUE if c.startswith(code)]
            if not known:
                message = f"unknown code '{code}' in a suppression comment"
                found.append(diag(UNUSED_SUPPRESSION, message, span))
            elif any(enabled(c) for c in known) and not any(p.startswith(code) for p in present):
                message = f"unused suppression: nothing on this line is reported as {code}"
                found.append(diag(UNUSED_SUPPRESSION, message, span))
    return found
