"""Text from a spec made safe to print: control characters escaped, very long text clipped.

Names, keys and values come from files that may be hostile. Printed raw, a newline could start
a line that GitHub Actions reads as a workflow command (`::error ...`), or a Mermaid statement;
an escape sequence could rewrite the terminal. Every output format passes such text through
`printable`; diagnostics do so for their messages when they are made.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional controls
# that can make text read differently from what it is ("Trojan Source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A message longer than this keeps its head and its tail: a value quoted in it may be a
# megabyte long, and the same value may be reported many times.
MAX_MESSAGE = 1_000


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character written as an escape (\\n becomes `\\x0a`)."""
    return _CONTROL.sub(_escape, text)


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` if it is at most `limit` characters long, else its head and tail around a mark
    that says how much was left out."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3) :]
    return f"{head}... ({len(text) - len(head) - len(tail):,} characters left out) ...{tail}"


def safe(text: str, limit: int = MAX_MESSAGE) -> str:
    """Clipped, then with its controls escaped: bounded and printable."""
    return printable(clip(text, limit))
