"""YAML text -> plain data and a source map; every problem in the file becomes a diagnostic."""

from __future__ import annotations

import codecs
import errno
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode

from specc import codes
from specc.diagnostics import Diagnostic, Note, diag, sort_diagnostics
from specc.limits import DEFAULT_LIMITS, MAX_DEPTH, Limits
from specc.safe_text import clip, printable
from specc.source import NodePath, SourceMap, Span
from specc.units import format_bytes

__all__ = ["Limits", "Loaded", "load_file", "load_text", "read_limited"]

# Both loaders give the same events; libyaml's is several times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SAFE = SafeConstructor()
_CONSTRUCTORS: dict[str, Callable[[ScalarNode], object]] = {
    "tag:yaml.org,2002:" + name: getattr(_SAFE, "construct_yaml_" + name)
    for name in ("null", "bool", "int", "float")
}
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_KNOWN_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
# Plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 (editors, JSON) read differently; see
# `_plain` and docs/reliability.md for what specc makes of each.
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+\Z")  # 010: octal 8 in 1.1, decimal 10 in 1.2
_EXPONENT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+\Z")  # 1e3, 1.5e-3
_TRUTHY = frozenset({"yes", "no", "on", "off"})
_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # YAML's line breaks, as its marks count them
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPEC = "a mapping with `specc`, `name`, `inputs` and `layers`"
_REASONS = {
    errno.ENOENT: "no such file",
    errno.EISDIR: "it is a directory",
    errno.EACCES: "permission denied",
    errno.ENOTDIR: "a parent is not a directory",
}


@dataclass
class Loaded:
    """Plain data (None when loading failed), where each value stands, the problems found, and
    the limits it was loaded under (later stages check theirs too)."""

    data: object | None
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)
    limits: Limits = DEFAULT_LIMITS


def load_text(text: str | bytes, path: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Loaded:
    """Load one YAML document; every problem is returned as a diagnostic, never raised."""
    source = SourceMap(path)
    found: list[Diagnostic] = []
    try:
        decoded = _decode(text, path, limits)
        source.lines = decoded.splitlines()  # the same breaks as YAML's, once controls are refused
        data = _build(_check_root(_compose(decoded, source, limits, found), path), source)
    except _Stop as stop:
        return Loaded(None, source, sort_diagnostics([*found, stop.args[0]]), limits)
    return Loaded(data, source, sort_diagnostics(found), limits)


def load_file(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> Loaded:
    """Read and load a file, checking its size before reading it."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > limits.max_bytes:
                return Loaded(None, SourceMap(name), [_too_large(name, size, limits)], limits)
            data = read_limited(stream, limits.max_bytes)  # it may have grown since fstat
    except (OSError, ValueError) as error:  # ValueError: a path with a NUL in it
        message = f"cannot read '{name}': {_reason(error)}"
        if isinstance(error, FileNotFoundError) and any(c in name for c in "*?["):
            message = f"no file matches '{name}'"  # a glob that `specc check` found nothing for
        problem = diag(codes.IO_ERROR, message, Span(name, 1, 1))
        return Loaded(None, SourceMap(name), [problem], limits)
    return load_text(data, name, limits)


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """Everything up to `limit` + 1 bytes (one more tells an oversized input), in chunks, so
    that a generous limit never allocates that much up front."""
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _Stop(Exception):
    """A problem after which nothing more can be loaded; `args[0]` is its diagnostic."""


# -- bytes -> text ----------------------------------------------------------------------------
def _decode(text: str | bytes, path: str, limits: Limits) -> str:
    """Check the size and the encoding; return the text without its byte-order mark."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if len(raw) > limits.max_bytes:
        raise _Stop(_too_large(path, len(raw), limits))
    if isinstance(text, bytes):
        text = _utf8(text, path)
    text = text.removeprefix("\ufeff")
    if "\0" in text:
        where, message = text.index("\0"), "this looks like a binary file (it contains a NUL byte)"
    elif bad := _UNPRINTABLE.search(text):
        char = f"U+{ord(bad.group()):04X}"
        where, message = bad.start(), f"character {char} is not allowed; YAML holds printable text"
    else:
        return text
    raise _Stop(diag(codes.ENCODING, message, _span_after(path, text[:where])))


# YAML allows UTF-16 and UTF-32 with a byte-order mark (Windows PowerShell's `>` writes UTF-16);
# UTF-32's little-endian mark starts with UTF-16's, so it is tried first.
_WIDE_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _utf8(data: bytes, path: str) -> str:
    """The text of UTF-8 bytes (or UTF-16/32 ones with a byte-order mark)."""
    for mark, codec in _WIDE_MARKS:
        if data.startswith(mark):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                message = f"the file starts with a {codec} byte-order mark but is not {codec} text"
                raise _Stop(diag(codes.ENCODING, message, Span(path, 1, 1))) from None
    if b"\0" in data:  # a binary file; say so rather than where its first odd byte is
        even, odd = data[:64:2], data[1:64:2]
        if len(even) >= 2 and ((all(even) and not any(odd)) or (all(odd) and not any(even))):
            message = "this looks like UTF-16 text without a byte-order mark; save it as UTF-8"
            raise _Stop(diag(codes.ENCODING, message, Span(path, 1, 1)))
        return data.decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        head = data[: error.start].decode("utf-8").removeprefix("\ufeff")
        message = f"invalid UTF-8 byte 0x{data[error.start]:02x}; specc reads UTF-8 text only"
        raise _Stop(diag(codes.ENCODING, message, _span_after(path, head))) from None


def _span_after(path: str, head: str) -> Span:
    lines = _BREAK.split(head)
    return Span(path, len(lines), len(lines[-1]) + 1)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return _REASONS.get(error.errno or 0) or (error.strerror or str(error)).lower()
    return str(error).lower()


def _too_large(path: str, size: int, limits: Limits) -> Diagnostic:
    if size == limits.max_bytes + 1:  # read up to one byte past the limit: the size is unknown
        message = f"the file holds more than the limit of {format_bytes(limits.max_bytes)}"
    else:
        message = (
            f"the file is {format_bytes(size)}, over the limit of {format_bytes(limits.max_bytes)}"
        )
    return diag(codes.TOO_LARGE, message, Span(path, 1, 1))


# -- text -> nodes ----------------------------------------------------------------------------
def _compose(text: str, source: SourceMap, limits: Limits, found: list[Diagnostic]) -> _Node | None:
    loader = _Loader(text)
    try:
        return _Composer(loader, source, limits, found).compose()
    except yaml.MarkedYAMLError as error:
        raise _Stop(_syntax_error(error, source)) from None
    except yaml.YAMLError as error:  # a reader error, which carries no mark
        message = f"YAML error: {error}"
        raise _Stop(diag(codes.YAML_SYNTAX, message, Span(source.path, 1, 1))) from None
    finally:
        loader.dispose()


def _syntax_error(error: yaml.MarkedYAMLError, source: SourceMap) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line, mark.column) if mark is not None else (0, 0)
    text = source.line_text(line + 1) or ""
    if "escape" in (error.problem or "") and text[col - 1 : col] == "\\":
        col -= 1  # PyYAML's pure-Python parser points past the backslash, libyaml at it
    span = Span(source.path, line + 1, col + 1)
    char, problem = text[col : col + 1], error.problem or "invalid YAML"
    if "maximum nesting depth" in problem:  # libyaml >= 0.2.5 stops at 1,000 flow levels
        message = "the document is nested deeper than the YAML parser allows (1,000 levels)"
        return diag(codes.TOO_DEEP, message, span)
    if "tab character" in problem or (char == "\t" and not text[:col].strip(" \t-?:")):
        message = "tab character used for indentation; YAML allows only spaces"
        return diag(codes.TAB_INDENT, message, span)
    problem = problem.replace("found character that", f"found character {char!r} that")
    start = error.context_mark
    if not error.context or start is None or (start.line, start.column) == (line, col):
        return diag(codes.YAML_SYNTAX, f"YAML syntax error: {problem}", span)
    where = Span(source.path, start.line + 1, start.column + 1)
    message = f"YAML syntax error: {problem} ({error.context} at line {where.line})"
    return diag(codes.YAML_SYNTAX, message, span, Note(f"{error.context} started here", where))


@dataclass(slots=True, eq=False)
class _Node:
    """A composed node. `value` is a scalar's Python value, a sequence's list of nodes, or a
    mapping's dict of key -> (key span, value node); an alias is the very node it names."""

    span: Span
    value: Any
    size: int = 1  # nodes after alias expansion
    height: int = 0  # nested collections after alias expansion


class _MergeKey(_Node):
    """A `<<` key: the entries of its value are merged into the enclosing mapping."""

    __slots__ = ()


class _Composer:
    """Builds the node tree from parser events (typed Any: the stubs make every mark optional).

    It does not recurse, and it checks the depth and the alias expansion as each node arrives,
    so a hostile file fails fast instead of being expanded first.
    """

    def __init__(
        self, loader: Any, source: SourceMap, limits: Limits, found: list[Diagnostic]
    ) -> None:
        self.loader, self.limits, self.found = loader, limits, found
        self.path, self.hashed = source.path, source.hashed
        self.stack: list[tuple[_Node, str | None, int]] = []  # open: node, anchor, count at start
        self.anchors: dict[str, _Node] = {}
        self.plain: dict[str, tuple[type[_Node], object, tuple[str, str] | None]] = {}
        self.mapping: _Node | None = None  # the root, when it is a mapping
        self.layers: _Node | None = None  # the `layers:` list, counted as it fills
        self.root: _Node | None = None
        self.count, self.aliased, self.documents = 0, False, 0

    def compose(self) -> _Node | None:
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.AliasEvent: self._alias,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: self._end,
            yaml.SequenceEndEvent: self._end,
            yaml.DocumentStartEvent: self._document,
        }
        get_event = self.loader.get_event
        while type(event := get_event()) is not yaml.StreamEndEvent:
            handler = handlers.get(type(event))  # stream and document ends carry nothing
            if handler is not None:
                handler(event)
        return self.root

    def _span(self, event: Any) -> Span:
        return Span(self.path, event.start_mark.line + 1, event.start_mark.column + 1)

    def _stop(self, code: str, message: str, event: Any) -> _Stop:
        return _Stop(diag(code, message, self._span(event)))

    def _document(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            message = "YAML syntax error: expected a single YAML document, but another starts here"
            raise self._stop(codes.YAML_SYNTAX, message, event)

    def _tag(self, event: Any) -> None:
        """An explicit tag specc does not know (`!foo`, `!!python/name:...`) is an error: it
        would otherwise be dropped silently, and the value read as something it is not."""
        tag = event.tag
        if tag is not None and tag != "!" and tag not in _KNOWN_TAGS:
            shown = clip(printable(tag.replace("tag:yaml.org,2002:", "!!")), 80)
            message = f"YAML error: unknown tag '{shown}'; specs use plain YAML values only"
            self.found.append(diag(codes.YAML_SYNTAX, message, self._span(event)))

    def _scalar(self, event: Any) -> None:
        self._tag(event)
        text, tag = event.value, event.tag
        surprise = None
        try:
            if tag is None and event.implicit[0]:
                # Specs repeat the same few words and numbers: resolve each plain text only once.
                made = self.plain.get(text)
                if made is None:
                    tag = self.loader.resolve(ScalarNode, text, (True, False))
                    made = self.plain[text] = _plain(text, tag)
                kind, value, surprise = made
            else:  # quoted, or tagged explicitly
                kind, value = _Node, text if tag is None or tag == "!" else _construct(tag, text)
        except _Huge:
            message = (
                f"a number of {len(text):,} characters; a spec's numbers have at most "
                f"{_MAX_DIGITS} digits (dims and attributes stop at 2**31 - 1)"
            )
            raise self._stop(codes.SCHEMA_RANGE, message, event) from None
        self._count(1, event)
        span = self._span(event)
        if "#" in text:  # quoted or block text; a plain scalar cannot hold " #"
            end = event.end_mark
            # A block scalar's text starts on the line after its `|` or `>` header, which may
            # carry a comment of its own.
            start = (span.line + 1, 1) if event.style in ("|", ">") else (span.line, span.col)
            self.hashed.append((*start, end.line + 1, end.column + 1))
        if surprise is not None:
            self.found.append(diag(surprise[0], surprise[1], span))
        self._attach(kind(span, value), event.anchor)

    def _start(self, event: Any) -> None:
        self._tag(event)
        if len(self.stack) >= min(self.limits.max_depth, MAX_DEPTH):
            depth = min(self.limits.max_depth, MAX_DEPTH)
            message = f"the document is nested more than {depth} levels deep"
            raise self._stop(codes.TOO_DEEP, message, event)
        node = _Node(self._span(event), [], height=1)
        if not self.stack and type(event) is yaml.MappingStartEvent:
            self.mapping = node
        if type(event) is yaml.SequenceStartEvent and self._key_of_next_value() == "layers":
            self.layers = node
        self.stack.append((node, event.anchor, self.count))
        self._count(1, event)

    def _key_of_next_value(self) -> object:
        """The key whose value comes next, if it is a key of the root mapping."""
        if len(self.stack) != 1 or self.stack[0][0] is not self.mapping:
            return None
        items = self.stack[0][0].value
        return items[-1].value if len(items) % 2 == 1 else None

    def _end(self, event: Any) -> None:
        node, anchor, start = self.stack.pop()
        node.size = self.count - start
        if type(event) is yaml.MappingEndEvent:
            node.value = _entries(node.value, self.found)
        self._attach(node, anchor)

    def _alias(self, event: Any) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:  # including an alias inside its own anchor, which would be a cycle
            message = f"YAML syntax error: alias '*{event.anchor}' has no anchor defined before it"
            raise self._stop(codes.YAML_SYNTAX, message, event)
        depth = min(self.limits.max_depth, MAX_DEPTH)
        if len(self.stack) + node.height > depth:
            message = f"the alias nests the document more than {depth} levels deep"
            raise self._stop(codes.TOO_DEEP, message, event)
        self.aliased = True
        self._count(node.size, event)  # before anything is expanded
        if isinstance(node.value, list) and self._key_of_next_value() == "layers":
            self._check_layers(len(node.value))
        self._attach(node, None)

    def _count(self, nodes: int, event: Any) -> None:
        self.count += nodes
        if self.count > self.limits.max_nodes:
            what = "anchors and aliases expand to" if self.aliased else "the document has"
            message = f"{what} more than {self.limits.max_nodes:,} nodes"
            raise self._stop(codes.ALIAS_BOMB, message, event)

    def _attach(self, node: _Node, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = node
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1][0]
        parent.value.append(node)
        if node.height >= parent.height:
            parent.height = node.height + 1
        if parent is self.layers:
            self._check_layers(len(parent.value))

    def _check_layers(self, count: int) -> None:
        """Refuse a huge `layers:` list as soon as it passes the limit, at its key."""
        if count > self.limits.max_layers:
            key = self.stack[0][0].value[-1]
            message = f"`layers` has more than the limit of {self.limits.max_layers:,} layers"
            raise _Stop(diag(codes.TOO_MANY_LAYERS, message, key.span))


def _plain(text: str, tag: str) -> tuple[type[_Node], object, tuple[str, str] | None]:
    """A plain scalar's node kind, value, and the (code, message) of a YAML 1.1 surprise.

    specc reads YAML 1.1, as PyYAML does, except where 1.1 and 1.2 disagree in a way that
    changes a spec: a leading-zero or base-60 number is refused (E011), `yes`/`no`/`on`/`off`
    stay booleans with a warning (W001), and `1e3` is the float 1.2 and JSON make of it.
    """
    if tag == _MERGE:
        return _MergeKey, None, None
    value = _construct(tag, text)
    if _LEADING_ZERO.match(text):
        decimal = int(text.replace("_", ""), 10)
        read = f"octal {value}" if isinstance(value, int) else "text"
        message = (
            f"'{text}' is {read} in YAML 1.1 but {decimal} in YAML 1.2; "
            f"write {decimal} without the leading zero, or quote it"
        )
        return _Node, value, (codes.AMBIGUOUS_NUMBER, message)
    if ":" in text and isinstance(value, int | float) and not isinstance(value, bool):
        message = (
            f"'{text}' is {value} in YAML 1.1 (base 60) but text in YAML 1.2; "
            f"write {value}, or quote it"
        )
        return _Node, value, (codes.AMBIGUOUS_NUMBER, message)
    if isinstance(value, bool) and text.lower() in _TRUTHY:
        word = "true" if value else "false"
        message = (
            f"'{text}' is read as the boolean {word} (YAML 1.1); write {word}, or quote it for text"
        )
        return _Node, value, (codes.TRUTHY, message)
    if tag == _STR and _EXPONENT.match(text):
        return _Node, float(text), None
    return _Node, value, None


class _Huge(Exception):
    """An integer too long to be any number of a spec (and for Python to print)."""


_MAX_DIGITS = 100  # a spec's numbers stop at 2**63; Python cannot print an int of 4,300 digits


def _construct(tag: str, text: str) -> object:
    """A scalar's Python value; anything but null, bool, int and float stays source text."""
    construct = _CONSTRUCTORS.get(tag)
    if tag == _INT and len(text) > _MAX_DIGITS and sum(c.isalnum() for c in text) > _MAX_DIGITS:
        raise _Huge  # hex, binary and base-60 ones too, before any is computed
    try:
        return text if construct is None else construct(ScalarNode(tag, text))
    except (ValueError, KeyError):  # an explicit tag that does not fit, e.g. `!!int ten`
        return text


def _entries(items: list[_Node], found: list[Diagnostic]) -> dict[str, tuple[Span, _Node]]:
    """A mapping's entries from its alternating keys and values: the first of duplicate keys
    wins (the others are reported), then `<<` merges fill in the keys not given explicitly."""
    entries: dict[str, tuple[Span, _Node]] = {}
    merged: list[dict[str, tuple[Span, _Node]]] = []
    for key, value in zip(items[::2], items[1::2], strict=True):
        if isinstance(key, _MergeKey):
            merged.extend(_merge_sources(value, found))
        elif isinstance(key.value, list | dict):
            message = "YAML error: a mapping key must be a plain value, not a list or a mapping"
            found.append(diag(codes.YAML_SYNTAX, message, key.span))
        else:
            name = key.value if isinstance(key.value, str) else str(key.value)
            if name not in entries:
                entries[name] = (key.span, value)
                continue
            first = entries[name][0]
            message = f"duplicate key '{name}' (first defined at line {first.line})"
            note = Note(f"'{name}' is first defined here", first)
            found.append(diag(codes.DUPLICATE_KEY, message, key.span, note))
    for source in merged:
        for name, entry in source.items():
            entries.setdefault(name, entry)
    return entries


def _merge_sources(value: _Node, found: list[Diagnostic]) -> list[dict[str, tuple[Span, _Node]]]:
    items = value.value if isinstance(value.value, list) else [value]
    if all(isinstance(item.value, dict) for item in items):
        return [item.value for item in items]
    message = "YAML error: a `<<` merge key needs a mapping or a list of mappings"
    found.append(diag(codes.YAML_SYNTAX, message, value.span))
    return []


def _check_root(root: _Node | None, path: str) -> _Node:
    if root is None or root.value is None:
        message = f"the file is empty; a spec is {_SPEC}"
        raise _Stop(diag(codes.NOT_A_SPEC, message, Span(path, 1, 1)))
    if not isinstance(root.value, dict):
        kinds = {list: "a list", str: "a string", bool: "a boolean"}
        what = kinds.get(type(root.value), "a number")
        message = f"the document is {what}; a spec must be {_SPEC}"
        raise _Stop(diag(codes.NOT_A_SPEC, message, root.span))
    return root


# -- nodes -> data ----------------------------------------------------------------------------
def _build(root: _Node, source: SourceMap) -> object:
    """Expand the node tree into plain data, recording the span of every value and key.

    Iterative, so depth cannot exhaust Python's stack; the composer has bounded the size.
    Each container is created when its parent is filled and filled later, keeping key order.
    """
    values, keys = source.values, source.keys
    values[()] = root.span
    data = _shell(root)
    pending: list[tuple[_Node, NodePath, Any]] = [(root, (), data)]
    while pending:
        node, path, out = pending.pop()
        if isinstance(out, dict):
            for name, (key_span, child) in node.value.items():
                sub = (*path, name)
                keys[sub], values[sub] = key_span, child.span
                out[name] = value = _shell(child)
                if value is not child.value:
                    pending.append((child, sub, value))
        else:
            for index, child in enumerate(node.value):
                sub = (*path, index)
                values[sub] = child.span
                out.append(value := _shell(child))
                if value is not child.value:
                    pending.append((child, sub, value))
    return data


def _shell(node: _Node) -> object:
    """A scalar's value, or an empty container of the node's kind, to be filled later."""
    if isinstance(node.value, dict):
        return {}
    return [] if isinstance(node.value, list) else node.value
