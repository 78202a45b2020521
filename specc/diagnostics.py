"""Diagnostics as data: Severity, the code catalogue and Diagnostic."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from specc.safe_text import safe
from specc.source import Span


class Severity(enum.IntEnum):
    """How serious a finding is; ordered so that `max()` picks the worst."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


@dataclass(frozen=True)
class Code:
    """One entry of the catalogue: a stable code and what it means.

    `summary` is one line; `why` explains the reason for the check; `bad` and `good` are
    small spec fragments that do and do not trigger it.
    """

    code: str
    name: str
    severity: Severity
    summary: str
    why: str = ""
    bad: str = ""
    good: str = ""


CATALOGUE: dict[str, Code] = {}


def register(code: Code) -> Code:
    """Add a code to the catalogue; codes are an interface, so a clash is a bug."""
    if code.code in CATALOGUE and CATALOGUE[code.code] != code:
        raise ValueError(f"diagnostic code {code.code} registered twice")
    CATALOGUE[code.code] = code
    return code


@dataclass(frozen=True)
class Note:
    """A secondary message, optionally at a second location."""

    message: str
    span: Span | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", safe(self.message))


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in a spec: a stable code, a severity, a one-line message and a place."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    notes: tuple[Note, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Messages quote names and values from the file: bounded and printable from the start,
        # so that no output format can be flooded or injected through them.
        object.__setattr__(self, "message", safe(self.message))

    def sort_key(self) -> tuple[str, int, int, str, str]:
        if self.span is None:
            return ("", 0, 0, self.code, self.message)
        return (self.span.path, self.span.line, self.span.col, self.code, self.message)

    def with_span(self, span: Span) -> Diagnostic:
        return Diagnostic(self.code, self.severity, self.message, span, self.notes)

    def with_severity(self, severity: Severity) -> Diagnostic:
        return Diagnostic(self.code, severity, self.message, self.span, self.notes)


def diag(code: str, message: str, span: Span | None = None, *notes: Note) -> Diagnostic:
    """Make a diagnostic with the code's catalogued severity."""
    return Diagnostic(code, CATALOGUE[code].severity, message, span, tuple(notes))


def sort_diagnostics(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Deterministic order: by file, line, column, then code."""
    return sorted(items, key=Diagnostic.sort_key)


def has_errors(items: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in items)
