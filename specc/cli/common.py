"""What every command shares: the Typer app, the spec argument, loading with exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from specc import exits

if TYPE_CHECKING:
    from specc.limits import Limits
    from specc.passes.costs import Costs

app = typer.Typer(
    name="specc",
    help="Compile, check and explain declarative YAML neural-network specs.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SpecArg = Annotated[
    Path,
    typer.Argument(help="The spec file (YAML), or - to read it from stdin.", show_default=False),
]
STDIN = "<stdin>"  # the name a spec read from stdin has in findings


def is_stdin(spec: Path) -> bool:
    return str(spec) == "-"


def read_stdin(limits: Limits) -> bytes:
    """The spec on stdin, up to one byte past the size limit (the loader reports that)."""
    from specc.loader import read_limited

    if sys.stdin is None:
        fail("`-` reads a spec from stdin, but there is no stdin", exits.USAGE)
    return read_limited(sys.stdin.buffer, limits.max_bytes)


def check_spec(spec: Path, limits: Limits):  # type: ignore[no-untyped-def]
    """The static pipeline on a spec file, or on stdin for `-`."""
    from specc.api import check_file, check_text

    if is_stdin(spec):
        return check_text(read_stdin(limits), STDIN, limits)
    return check_file(spec, limits)


def stop(code: int) -> NoReturn:
    raise typer.Exit(code)


def fail(message: str, code: int) -> NoReturn:
    """One error line on stderr, `specc: error: ...` as every error is, then exit `code`."""
    typer.echo(f"specc: error: {message}", err=True)
    stop(code)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")  # no-color.org: non-empty


def show_table(plain: Callable[[int | None], str], fancy: Callable[[int], tuple[Any, int]]) -> None:
    """A table on stdout: drawn with rich on a terminal, else as plain fixed-width text that
    keeps every column (wrapped to COLUMNS if set). Either way cells wrap at spaces only, and
    a table too wide for the width keeps its columns whole rather than split a number."""
    import shutil

    from specc.report.plain import output_width

    width = output_width()
    if not sys.stdout.isatty():
        typer.echo(plain(width), nl=False)
        return
    from rich.console import Console

    renderable, needed = fancy(width or 80)
    # Both sizes given, so that rich uses them whatever the terminal (TERM=dumb means 80).
    height = shutil.get_terminal_size().lines
    Console(width=max(width or 80, needed), height=height).print(renderable)


def limits_for(spec: Path) -> Limits:
    """The limits that the spec's `[tool.specc.limits]` sets, if any; exit 2 on a bad config."""
    from specc.config import ConfigError, Overrides, Resolver

    try:
        return Resolver(Overrides()).limits_for(STDIN if is_stdin(spec) else str(spec))
    except ConfigError as error:
        fail(str(error), exits.USAGE)


def files_read(spec: Path) -> list[Path]:
    """The files a command that reads `spec` reads: the spec and the configuration it finds."""
    from specc.config import ConfigError, Overrides, Resolver

    try:
        config = Resolver(Overrides()).config_for(str(spec)).path
    except ConfigError:
        config = None  # reported when the limits are read
    return [spec] if config is None else [spec, Path(config)]


def refuse_writing_inputs(
    command: str, outputs: list[tuple[Path | None, str]], inputs: list[Path | None]
) -> None:
    """Exit 2 when an output names a file the command reads (the spec included), or when two
    outputs name one file; specc never overwrites its inputs, even with --force."""
    from specc.files import same_file
    from specc.safe_text import printable

    named = [(path, what) for path, what in outputs if path is not None]
    for index, (target, what) in enumerate(named):
        for source in inputs:
            if source is not None and same_file(source, target):
                typer.echo(
                    f"specc: error: {what} {printable(str(target))} is also an input of the "
                    f"{command} ({printable(str(source))}); specc never overwrites its inputs",
                    err=True,
                )
                stop(exits.USAGE)
        for other, other_what in named[index + 1 :]:
            if same_file(target, other):
                typer.echo(
                    f"specc: error: the {what} and the {other_what} name the same file "
                    f"{printable(str(target))}",
                    err=True,
                )
                stop(exits.USAGE)


def load_or_exit(spec: Path):  # type: ignore[no-untyped-def]
    """Run the static pipeline; on errors print them to stderr and exit 1 (2 if unreadable)."""
    from specc import codes  # noqa: F401
    from specc.report.text import format_text

    result = check_spec(spec, limits_for(spec))
    if not result.ok:
        sources = {result.path: result.source}
        typer.echo(format_text(result.diagnostics, sources, color=sys.stderr.isatty()), err=True)
        stop(exits.for_diagnostics(result.diagnostics))
    return result


DimOption = Annotated[
    list[str] | None,
    typer.Option(
        "--dim",
        help="Bind a symbolic dim, e.g. --dim T=1000 (repeatable); every number is evaluated.",
        show_default=False,
    ),
]


def parse_dims(values: list[str] | None) -> dict[str, int]:
    """`["T=1000"]` -> {"T": 1000}; anything else is a usage error (exit 2)."""
    out: dict[str, int] = {}
    for text in values or []:
        name, sep, value = text.partition("=")
        if not sep or not name.strip().isidentifier() or not value.strip().isdigit():
            raise typer.BadParameter(
                f"{text!r}: expected NAME=POSITIVE_INT, e.g. T=1000", param_hint="--dim"
            )
        out[name.strip()] = int(value)
    return out


def bind_dims_or_exit(costs: Costs, dims: dict[str, int]) -> None:
    """Exit 1 when the values break the spec (a dim reaches zero, branches disagree)."""
    unknown = sorted(set(dims) - set(costs.symbols))
    if unknown:
        known = ", ".join(costs.symbols) or "none"
        raise typer.BadParameter(
            f"unknown symbol {', '.join(unknown)} (the spec's symbols: {known})", param_hint="--dim"
        )
    problems = costs.problems(dims)
    for problem in problems:
        typer.echo(f"specc: error: {problem}", err=True)
    if problems:
        stop(exits.FINDINGS)
