"""Inline suppression: `# specc: ignore[W101]`, `# specc: ignore[W101,S1]` or `# specc: ignore`.

Also the check that each such comment still suppresses something (W002), as ruff's RUF100.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from specc.codes import UNUSED_SUPPRESSION
from specc.diagnostics import CATALOGUE, Diagnostic, diag
from specc.source import SourceMap, Span

# A YAML comment starts at `#` after whitespace (or at the start of the line).
_COMMENT = re.compile(r"(?:^|(?<=\s))#\s*specc:\s*ignore(?![\w-])", re.IGNORECASE)
_CODE = re.compile(r"[^,\s]+")  # codes are separated by commas, spaces or both
# A word after a bare `ignore` that begins a real code (W101, w1): the brackets were forgotten.
# Any other words are a reason ("# specc: ignore I checked this").
_CODE_LIKE = re.compile(r"[A-Za-z]\d+\b")
_FORM = "write `# specc: ignore[CODE, ...]`, or `# specc: ignore` for every code"


@dataclass(frozen=True)
class Comment:
    """A suppression comment: its column, the codes it lists with their columns (none: all
    codes), and what is wrong with it (a malformed comment suppresses nothing)."""

    col: int
    listed: tuple[tuple[str, int], ...] = ()
    problem: str | None = None


def _comment(line: str, in_scalar: Callable[[int], bool] | None = None) -> Comment | None:
    """A line's suppression comment. `in_scalar(col)` tells a `#` inside quoted or block text,
    which is no comment."""
    if "specc" not in line.lower():
        return None
    for match in _COMMENT.finditer(line):
        if in_scalar is not None and in_scalar(match.start() + 1):
            continue
        return _parse(line, match.start() + 1, match.end())
    return None


def _parse(line: str, col: int, end: int) -> Comment:
    tail = line[end:]
    if tail.lstrip().startswith("["):  # `ignore [W101]` lists codes as `ignore[W101]` does
        end += len(tail) - len(tail.lstrip())
        tail = line[end:]
    if not tail.startswith("["):
        word = _CODE_LIKE.match(tail.lstrip())
        if tail[:1].isspace() and word and _begins_a_code(word.group()):
            return Comment(col, problem=f"the codes must be in brackets ('{word.group()}')")
        if tail and not tail[:1].isspace():  # `ignore(W101)`, `ignore, W101`, `ignore:W101`
            return Comment(col, problem=f"'{tail[:1]}' after ignore; the codes go in brackets")
        return Comment(col)  # a bare `ignore`, perhaps followed by a reason
    close = tail.find("]")
    if close < 0:
        return Comment(col, problem="the code list has no closing ']'")
    start = end + 1
    listed = tuple(
        (m.group().upper(), start + m.start() + 1) for m in _CODE.finditer(tail[1:close])
    )
    return Comment(col, listed) if listed else Comment(col, problem="the code list is empty")


def _begins_a_code(word: str) -> bool:
    return any(code.startswith(word.upper()) for code in CATALOGUE)


def _comment_on(source: SourceMap, number: int) -> Comment | None:
    line = source.line_text(number)
    if line is None:
        return None
    return _comment(line, lambda col: source.in_scalar(number, col))


def suppressed_codes(line: str) -> frozenset[str] | None:
    """The codes a line's comment suppresses: None for no comment, empty for all codes."""
    comment = _comment(line)
    if comment is None or comment.problem is not None:
        return None
    return frozenset(code for code, _ in comment.listed)


def comments_of(source: SourceMap) -> Callable[[int], Comment | None]:
    """`_comment_on` for one file, each line parsed once however many findings it has."""
    seen: dict[int, Comment | None] = {}

    def lookup(number: int) -> Comment | None:
        if number not in seen:
            seen[number] = _comment_on(source, number)
        return seen[number]

    return lookup


def is_suppressed(
    d: Diagnostic, source: SourceMap, comments: Callable[[int], Comment | None] | None = None
) -> bool:
    """Whether a comment on the diagnostic's own line suppresses it (codes match as prefixes).

    W002, which says a comment is unused, yields only to the comment listing W002 itself: a
    bare `ignore` or a prefix such as `W` must not hide that it is stale. `comments` (from
    `comments_of`) saves parsing a line again for each of its findings.
    """
    if d.span is None:
        return False
    comment = (comments or comments_of(source))(d.span.line)
    if comment is None or comment.problem is not None:
        return False
    codes = [code for code, _ in comment.listed]
    if d.code == UNUSED_SUPPRESSION:
        return UNUSED_SUPPRESSION in codes
    return not codes or any(d.code.startswith(code) for code in codes)


def unused_suppressions(diagnostics: Iterable[Diagnostic], source: SourceMap) -> list[Diagnostic]:
    """W002 for each suppression comment, or listed code, that matches no finding on its line.

    `diagnostics` must be every finding of the file before suppression, with every rule run
    whatever the selection: a comment is judged by what it would hide in a full check, so that
    `--select` and the opt-in info rules do not make needed comments look unused.
    """
    on_line: dict[int, list[str]] = {}
    for d in diagnostics:
        if d.span is not None and d.span.path == source.path:
            on_line.setdefault(d.span.line, []).append(d.code)
    found: list[Diagnostic] = []
    for number in range(1, len(source.lines) + 1):
        comment = _comment_on(source, number)
        if comment is None:
            continue
        col, listed = comment.col, comment.listed
        present = on_line.get(number, [])
        if comment.problem is not None:
            message = f"malformed suppression comment: {comment.problem}; {_FORM}"
            found.append(diag(UNUSED_SUPPRESSION, message, Span(source.path, number, col)))
            continue
        if not listed:
            if not present:
                message = "unused suppression: nothing on this line is reported"
                found.append(diag(UNUSED_SUPPRESSION, message, Span(source.path, number, col)))
            continue
        for code, code_col in listed:
            span = Span(source.path, number, code_col)
            if not any(c.startswith(code) for c in CATALOGUE):
                message = f"unknown code '{code}' in a suppression comment"
                found.append(diag(UNUSED_SUPPRESSION, message, span))
            elif code != UNUSED_SUPPRESSION and not any(p.startswith(code) for p in present):
                message = f"unused suppression: nothing on this line is reported as {code}"
                found.append(diag(UNUSED_SUPPRESSION, message, span))
    return found
