"""What lowering and running report to the user: exceptions and warning categories (no numpy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from specc.diagnostics import Diagnostic
from specc.exits import FINDINGS
from specc.source import SourceMap


class SpecError(Exception):
    """The spec has errors, so it cannot be compiled; `diagnostics` says which and where."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceMap]) -> None:
        first = diagnostics[0] if diagnostics else None
        where = f"{first.span}: " if first is not None and first.span else ""
        summary = f"{where}{first.code} {first.message}" if first else "the spec has errors"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(summary + more)
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources)


class RunError(Exception):
    """A user mistake found while planning or running: wrong data, weights, files or limits.

    The message is complete and may span several lines (one per problem). `exit_code` is what
    the CLI exits with: IO_ERROR (2) when a file cannot be read or written, FINDINGS (1)
    otherwise.
    """

    def __init__(self, message: str, *, exit_code: int = FINDINGS) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class DataWarning(UserWarning):
    """Suspicious data that still runs, such as NaN or Inf in weights or inputs."""


class DataNote(UserWarning):
    """A harmless change made to the data, such as integers converted to floats."""
