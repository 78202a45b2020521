"""The process exit codes, defined once: the CLI exits with them and errors carry them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specc.diagnostics import Diagnostic

OK = 0
FINDINGS = 1  # the spec or the data has errors (or, for `check`, findings at the fail level)
IO_ERROR = 2  # a file cannot be read or written, or the command line is wrong
USAGE = IO_ERROR  # a wrong command line; click exits 2 for its own usage errors too
BUG = 3  # an exception escaped: a bug in specc
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
TERMINATED = 143  # SIGTERM (128 + SIGTERM)


def for_diagnostics(diagnostics: Iterable[Diagnostic]) -> int:
    """IO_ERROR when a file could not be read (E001), else FINDINGS."""
    from specc import codes

    return IO_ERROR if any(d.code == codes.IO_ERROR for d in diagnostics) else FINDINGS


class Terminated(BaseException):
    """SIGTERM arrived; raised like KeyboardInterrupt, so that the same clean-up runs."""


def terminate_on_sigterm() -> None:
    """Turn SIGTERM into `Terminated` (the main thread only; a no-op where that fails)."""
    import contextlib
    import signal

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    with contextlib.suppress(ValueError, OSError, AttributeError):
        signal.signal(signal.SIGTERM, handler)
