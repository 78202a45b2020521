"""Which files are specs: the sniff for a top-level `specc:` key that tells a spec from other
YAML without parsing it, and the expansion of globs."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

# A spec carries the format version as a top-level key; other YAML files (CI workflows,
# pre-commit configs) do not, so a directory walk can tell them apart without parsing.
_SPEC_KEY = re.compile(rb"^(?:specc|'specc'|\"specc\")[ \t]*:", re.MULTILINE)
# ...or, in a document written as one flow mapping (`{specc: 1, name: ...}`), a key of it.
_FLOW_KEY = re.compile(rb"[ \t\r\n]*(?:specc|'specc'|\"specc\")[ \t\r\n]*:")
# Blank lines, comments, directives (`%YAML 1.2`) and the document marker before the document.
_PREAMBLE = re.compile(rb"(?:[ \t\r\n]+|#[^\n]*|%[^\n]*|---(?=[ \t\r\n]))*")
_WIDE_BOMS = {
    b"\xff\xfe\x00\x00": "utf-32-le", b"\x00\x00\xfe\xff": "utf-32-be",
    b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be",
}  # fmt: skip
_SNIFF_BYTES = 16 * 1024 * 1024  # past the loader's size limit: such a file is reported anyway


def is_spec(path: str) -> bool:
    """Whether a file looks like a spec (a top-level `specc:` key); unreadable files count, so
    that the check reports why they cannot be read."""
    try:
        with open(path, "rb") as stream:
            return looks_like_spec(stream.read(_SNIFF_BYTES))
    except OSError:
        return True


def looks_like_spec(data: bytes) -> bool:
    """Whether YAML bytes carry a top-level `specc:` key, in any encoding the loader reads."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    for bom, encoding in _WIDE_BOMS.items():  # longest first: UTF-32-LE starts like UTF-16-LE
        if data.startswith(bom):
            data = data[len(bom) :].decode(encoding, "replace").encode()
            break
    if _SPEC_KEY.search(data):
        return True
    preamble = _PREAMBLE.match(data)
    start = preamble.end() if preamble else 0
    return data[start : start + 1] == b"{" and _flow_has_key(data, start)


def _flow_has_key(data: bytes, start: int) -> bool:
    """Whether the flow mapping at `start` has `specc` among its own keys (not nested ones):
    a scan that keeps count of brackets and skips quoted text."""
    depth, quote = 0, 0
    for i in range(start, len(data)):
        c = data[i]
        if quote:
            if c == quote and not (quote == 0x22 and data[i - 1] == 0x5C):  # \" inside "..."
                quote = 0
            continue
        if c in b"'\"":
            quote = c
        elif c in b"{[":
            depth += 1
        elif c in b"}]":
            depth -= 1
            if depth == 0:
                return False
        if depth == 1 and c in b"{," and _FLOW_KEY.match(data, i + 1):
            return True
    return False


def expand_glob(pattern: str) -> list[str]:
    """The paths a glob matches, sorted. Like the shell, `*` skips hidden names; unlike
    `glob.glob`, `**` does not follow symbolic links to folders (a link to `..` would repeat
    the tree until the system gives up)."""
    parts = Path(pattern).parts
    if "**" not in parts or any("**" in part and part != "**" for part in parts):
        return sorted(os.path.normpath(p) for p in glob.glob(pattern))  # `a**b` is `a*b` here
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = Path(*parts[:fixed]) if fixed else Path()
    rest = parts[fixed:]
    dotted = any(part.startswith(".") for part in rest)
    found = []
    for match in root.glob(str(Path(*rest))):
        relative = match.relative_to(root).parts
        if dotted or not any(part.startswith(".") for part in relative):
            found.append(str(match))
    return sorted(found)
