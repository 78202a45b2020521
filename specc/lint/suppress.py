"""Inline suppression: `# specc: ignore[W101]`, `# specc: ignore[W101,S1]` or `# specc: ignore`."""

from __future__ import annotations

import re

from specc.diagnostics import Diagnostic
from specc.source import SourceMap

# A YAML comment starts at `#` after whitespace (or at the start of the line).
_COMMENT = re.compile(r"(?:^|\s)#\s*specc:\s*ignore(?:\[([^\]]*)\])?(?![\w\[-])")


def suppressed_codes(line: str) -> frozenset[str] | None:
    """The codes a line's comment suppresses: None for no comment, empty for all codes."""
    if "specc" not in line:
        return None
    match = _COMMENT.search(line)
    if match is None:
        return None
    listed = match.group(1)
    if listed is None:
        return frozenset()
    return frozenset(code.strip() for code in listed.split(",") if code.strip())


def is_suppressed(d: Diagnostic, source: SourceMap) -> bool:
    """Whether a comment on the diagnostic's own line suppresses it (codes match as prefixes)."""
    if d.span is None:
        return False
    line = source.line_text(d.span.line)
    codes = None if line is None else suppressed_codes(line)
    if codes is None:
        return False
    return not codes or any(d.code.startswith(code) for code in codes)
