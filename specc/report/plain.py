"""Plain-text tables and line wrapping that never split a word or a number, at any width."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Collection, Sequence
from typing import TextIO

GAP = 2  # spaces between columns


def output_width(stream: TextIO | None = None) -> int | None:
    """The width to fit: COLUMNS when set, else the terminal's when `stream` (stdout) is one,
    else None: a pipe or a file has no width, and lines keep their natural length."""
    text = os.environ.get("COLUMNS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    stream = sys.stdout if stream is None else stream
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns if interactive else None


def longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def wrap_cell(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width`, broken at spaces only (a longer word keeps its line)."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def fit_widths(
    natural: list[int], least: list[int], width: int | None, gap: int = GAP
) -> list[int]:
    """Column widths: the natural ones, narrowed (widest first, never below `least`) until the
    row fits in `width` together with the gaps. A table that cannot fit even so keeps its
    natural widths: one line per row reads better than tall rows that overflow anyway."""
    widths = list(natural)
    if width is None or sum(least) + gap * (len(least) - 1) > width:
        return widths
    excess = sum(widths) + gap * (len(widths) - 1) - width
    while excess > 0:
        slack = [w - m for w, m in zip(widths, least, strict=True)]
        i = max(range(len(widths)), key=lambda j: (slack[j] > 0, widths[j]))
        widths[i] -= 1
        excess -= 1
    return widths


def column_widths(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None,
    nowrap: Collection[int] = (),
    gap: int = GAP,
) -> list[int]:
    """The width of each column so that the table fits `width` (`gap` between columns) by
    wrapping cells at spaces, or its natural widths when it cannot fit without splitting."""
    every = [headers, *rows]
    count = len(headers)
    natural = [max(len(r[i]) for r in every) for i in range(count)]
    least = [
        natural[i] if i in nowrap else max(longest_word(r[i]) for r in every) for i in range(count)
    ]
    return fit_widths(natural, least, width, gap)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Collection[int] = (),
    width: int | None = None,
    nowrap: Collection[int] = (),
    rule: bool = False,
    stack: int = 0,
) -> str:
    """Columns padded to their widest cell, right-aligned where `right` says. With `width`,
    cells wrap onto more lines at spaces until the table fits; a cell in `nowrap` never
    wraps, and no word or number is ever split. `rule` draws a line of dashes under the
    headers. With `stack`, a table that cannot fit becomes one block per row instead: its
    first `stack` cells, then `header value` pairs wrapped beneath."""
    widths = column_widths(headers, rows, width, nowrap)
    if stack and width is not None and sum(widths) + GAP * (len(widths) - 1) > width:
        return _blocks(headers, rows, width, stack)

    def lines(cells: Sequence[str]) -> list[str]:
        wrapped = [wrap_cell(c, w) for c, w in zip(cells, widths, strict=True)]
        out = []
        for k in range(max(len(w) for w in wrapped)):
            parts = [
                (part[k] if k < len(part) else "").rjust(w)
                if i in right
                else (part[k] if k < len(part) else "").ljust(w)
                for i, (part, w) in enumerate(zip(wrapped, widths, strict=True))
            ]
            out.append((" " * GAP).join(parts).rstrip())
        return out

    out = lines(headers)
    if rule:
        out.append((" " * GAP).join("-" * w for w in widths))
    for row in rows:
        out += lines(row)
    return "\n".join(out)


def _blocks(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, stack: int) -> str:
    out = []
    for row in rows:
        out.append(wrap_text("  ".join(cell for cell in row[:stack] if cell), width))
        pairs = [
            f"{h} {cell}" for h, cell in zip(headers[stack:], row[stack:], strict=True) if cell
        ]
        out += pack(pairs, width, "    ")
    return "\n".join(out)


def pack(items: Sequence[str], width: int, indent: str) -> list[str]:
    """`items` joined by "; " into lines of at most `width`, each item kept on one line when it
    fits on one (else wrapped at its spaces)."""
    lines: list[str] = []
    line = ""
    for i, item in enumerate(items):
        text = item + (";" if i < len(items) - 1 else "")
        if line and len(line) + 1 + len(text) <= width:
            line += " " + text
            continue
        if line:
            lines.append(line)
        pieces = wrap_cell(text, width - len(indent))
        lines += [indent + piece for piece in pieces[:-1]]
        line = indent + pieces[-1]
    return [*lines, line] if line else lines


def wrap_text(text: str, width: int | None, indent: int = 4) -> str:
    """Every line of `text` that is wider than `width` broken at spaces, its continuation
    lines indented `indent` more than the line itself."""
    if width is None:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        lead = " " * (len(line) - len(line.lstrip(" ")))
        out += textwrap.wrap(
            line.lstrip(" "),
            width,
            initial_indent=lead,
            subsequent_indent=lead + " " * indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [line]
    return "\n".join(out)
