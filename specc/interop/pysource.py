"""Writing Python source for the PyTorch and Keras exports: names, literals and line breaking.

The generated files are meant to be read and edited, so lines follow ruff's format: at most
100 columns, a call too long for one line gets its arguments on the next line, or one per line
when they do not fit there either.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Iterator, Sequence

from specc.dims import Dim

LINE = 100
INDENT = "    "


class GenerateError(Exception):
    """A spec the target cannot express; the message names the layer and what is missing."""


def camel(name: str) -> str:
    """The class name of a spec: `keras-question` -> `KerasQuestion`, `resnet18` -> `Resnet18`."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    text = "".join(p[0].upper() + p[1:] for p in parts) or "Model"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "Model" + text
    return text


class Names:
    """Unique Python identifiers made from spec names (which may hold '-' or be keywords)."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken = set(reserved)
        self._given: dict[str, str] = {}

    def of(self, name: str) -> str:
        """The identifier of a spec name: the same one every time it is asked."""
        if name not in self._given:
            self._given[name] = self.fresh(name)
        return self._given[name]

    def fresh(self, hint: str) -> str:
        """An identifier not used yet, made from `hint`."""
        base = re.sub(r"\W", "_", hint)
        if not base or base[0].isdigit():
            base = "_" + base
        if keyword.iskeyword(base) or keyword.issoftkeyword(base):
            base += "_"
        name, i = base, 1
        while name in self._taken:
            i += 1
            name = f"{base}_{i}"
        self._taken.add(name)
        return name


def window(values: Sequence[int]) -> str:
    """A per-axis int as PyTorch and Keras accept it: `3` when every axis agrees, else `(3, 5)`."""
    if len(set(values)) == 1:
        return str(values[0])
    return literal(tuple(values))


def literal(value: object) -> str:
    """Python source of ints, floats, strings, None and tuples of them."""
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def call(function: str, *args: object, **kwargs: object) -> str:
    """`function(args, key=value)`; arguments are source text already, or literals."""
    parts = [a if isinstance(a, str) else literal(a) for a in args]
    parts += [f"{k}={v if isinstance(v, str) else literal(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def static(dim: Dim, what: str) -> int:
    """A dim that the target needs as a number; GenerateError when it is symbolic."""
    if not isinstance(dim, int):
        raise GenerateError(f"{what} is {dim}: the target needs a number there")
    return dim


def fit(line: str, depth: int, after: str = "") -> list[str]:
    """`line` indented `depth` levels, broken as ruff's format breaks a call that is too long:
    at the last bracket whose opening line fits, its arguments on one line when they fit
    there, else one per line. `after` follows the line (a comma) and counts toward its width."""
    pad = INDENT * depth
    if len(pad) + len(line) + len(after) <= LINE:
        return [pad + line + after]
    splits = list(_trailing_brackets(line))
    if not splits:
        return [pad + line + after]
    head, args, tail = next((s for s in splits if len(pad) + len(s[0]) <= LINE), splits[0])
    one = pad + INDENT + ", ".join(args)
    if len(one) <= LINE:
        return [pad + head, one, pad + tail + after]
    if len(args) == 1:
        return [pad + head, *fit(args[0], depth + 1), pad + tail + after]
    parts = (part for a in args for part in fit(a, depth + 1, ","))
    return [pad + head, *parts, pad + tail + after]


def _trailing_brackets(line: str) -> Iterator[tuple[str, list[str], str]]:
    """(`head(`, the top-level arguments, `)tail`) for each bracket pair at the end of the line,
    the last one first: `f(a)(b)` gives the split at `(b)`, then at `(a)`."""
    end = len(line)
    while end and line[end - 1] in ")]}":
        start = _opening(line, end - 1)
        if start is None:
            return
        args = _split_args(line[start + 1 : end - 1])
        if args:
            yield line[: start + 1], args, line[end - 1 :]
        end = start
        while end and (line[end - 1].isalnum() or line[end - 1] in "_."):
            end -= 1  # a call's function name: only brackets directly after it count
        if end != start:
            return


def _opening(line: str, close: int) -> int | None:
    depth, quote = 0, ""
    for i in range(close, -1, -1):
        c = line[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in ")]}":
            depth += 1
        elif c in "([{":
            depth -= 1
            if depth == 0:
                return i
    return None


def _split_args(text: str) -> list[str]:
    out, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    if last:
        out.append(last)
    return out
