"""Source positions: Span(path, line, col) and the map from a node's path to its Span."""

from __future__ import annotations

from dataclasses import dataclass, field

# A node path: keys and list indices from the document root, e.g. ("layers", 3, "kernel").
NodePath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based position in a source file (line and column of a node's first character)."""

    path: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass
class SourceMap:
    """Where each node of a loaded document stands: its value and, for mapping entries, its key."""

    path: str
    lines: list[str] = field(default_factory=list)
    values: dict[NodePath, Span] = field(default_factory=dict)
    keys: dict[NodePath, Span] = field(default_factory=dict)
    # Where scalars that contain a `#` stand, (line, col) to (line, col) with the end excluded:
    # a `#` in there is text, not a comment.
    hashed: list[tuple[int, int, int, int]] = field(default_factory=list)

    def value(self, node: NodePath) -> Span:
        """The span of the value at `node`, or of its nearest ancestor that has one."""
        return self._nearest(self.values, node)

    def key(self, node: NodePath) -> Span:
        """The span of the key that introduces `node` (falls back to the value's span)."""
        if node in self.keys:
            return self.keys[node]
        return self.value(node)

    def line_text(self, line: int) -> str | None:
        """The text of a 1-based line, without its newline, if the file has it."""
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return None

    def in_scalar(self, line: int, col: int) -> bool:
        """Whether the 1-based position is inside a scalar (so a `#` there starts no comment)."""
        return any((a, b) <= (line, col) < (c, d) for a, b, c, d in self.hashed)

    def _nearest(self, table: dict[NodePath, Span], node: NodePath) -> Span:
        while True:
            if node in table:
                return table[node]
            if not node:
                return Span(self.path, 1, 1)
            node = node[:-1]
