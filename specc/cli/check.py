"""`specc check`: the linter, for files, folders, globs or stdin."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from specc import exits
from specc.cli.common import app, fail, stdout_is_terminal, stop

if TYPE_CHECKING:
    from specc.limits import Limits


class CheckFormat(StrEnum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"


def _codes(values: list[str] | None) -> tuple[str, ...] | None:
    """`--select W,S1 --select I101` -> ("W", "S1", "I101"); None when the option is absent."""
    if values is None:
        return None
    return tuple(c.strip().upper() for value in values for c in value.split(",") if c.strip())


def _a_number(value: float | None) -> float | None:
    """Refuse NaN, which click's range check lets through (every comparison with it is false)."""
    if value is not None and value != value:
        raise typer.BadParameter("nan is not a number of MiB")
    return value


CodesOption = Annotated[
    list[str] | None,
    typer.Option(help="Codes or prefixes (W, S1, W101), comma-separated.", show_default=False),
]


@app.command()
def check(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Spec files, directories (searched for *.yaml/*.yml with a top-level `specc:` "
            "key) or globs, or - for a spec on stdin [default: the current folder].",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        CheckFormat, typer.Option("--format", "--output-format", "-f", help="Output format.")
    ] = CheckFormat.text,
    select: CodesOption = None,
    extend_select: Annotated[
        list[str] | None,
        typer.Option(
            help="Codes or prefixes to add to the selection (I102), comma-separated.",
            show_default=False,
        ),
    ] = None,
    ignore: CodesOption = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            help="Exit 1 on findings at or above this severity [default: error].",
            show_default=False,
        ),
    ] = None,
    max_params: Annotated[
        int | None,
        typer.Option(min=0, help="Warn (W501) above this many parameters.", show_default=False),
    ] = None,
    max_activation_mb: Annotated[
        float | None,
        typer.Option(
            min=0,
            callback=_a_number,
            help="Warn (W502) above this much activation memory per sample, in MiB.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A TOML file to read instead of the nearest pyproject.toml.", show_default=False
        ),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Never colour the output.")] = False,
    specs_only: Annotated[
        bool,
        typer.Option(
            "--specs-only", help="Skip given files without a top-level `specc:` key (for hooks)."
        ),
    ] = False,
    statistics: Annotated[
        bool,
        typer.Option(
            "--statistics", help="Count the findings of each code instead of listing them."
        ),
    ] = False,
    force_exclude: Annotated[
        bool,
        typer.Option(
            "--force-exclude",
            help="Apply `exclude` to files named on the command line too (for hooks).",
        ),
    ] = False,
    show_files: Annotated[
        bool,
        typer.Option("--show-files", help="List the files that would be checked, and check none."),
    ] = False,
    stdin_filename: Annotated[
        str | None,
        typer.Option(
            help="The path a spec read from stdin stands for: shown in findings, and used to "
            "find its pyproject.toml and per-file-ignores. Implies reading stdin.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check specs (schema, shapes, design rules); print findings as path:line:col: CODE message.

    Exit codes: 0 nothing at or above the fail level, 1 findings, 2 usage or I/O error.
    """
    from specc.api import Checked, check_file, check_text
    from specc.config import ConfigError, Overrides, Resolver
    from specc.diagnostics import Severity
    from specc.lint.settings import Settings
    from specc.loader import read_limited
    from specc.report.formats import render, render_statistics

    overrides = Overrides(
        select=_codes(select),
        extend_select=_codes(extend_select) or (),
        ignore=_codes(ignore) or (),
        fail_on=Severity.parse(fail_on.value) if fail_on else None,
        max_params=max_params,
        max_activation_mb=max_activation_mb,
        config=config,
    )
    if statistics and format in (CheckFormat.sarif, CheckFormat.github):
        fail(f"--statistics prints a table or json, not {format.value}", exits.USAGE)
    stdin = paths == ["-"] or (stdin_filename is not None and not paths)
    if not stdin and (stdin_filename is not None or "-" in (paths or [])):
        what = "--stdin-filename (which reads stdin)" if stdin_filename is not None else "`-`"
        fail(f"{what} cannot be combined with other paths", exits.USAGE)
    if stdin and sys.stdin is None:
        fail("`-` reads a spec from stdin, but there is no stdin", exits.USAGE)
    try:
        resolver = Resolver(overrides)
        names = (
            [stdin_filename or "<stdin>"]
            if stdin
            else resolver.files(paths or ["."], specs_only, force_exclude)
        )
        plan = [(p, resolver.settings_for(p), resolver.limits_for(p)) for p in names]
    except ConfigError as error:
        fail(str(error), exits.USAGE)
    except RecursionError:  # os.walk and glob's `**` recurse once per folder level
        fail(
            "the folders under the given paths are nested too deeply to search; "
            "name the spec files instead",
            exits.USAGE,
        )
    if show_files:
        if names:
            typer.echo("\n".join(names))
        stop(exits.OK)
    if not plan:
        typer.echo("specc: warning: no spec files found under the given paths", err=True)

    def checked(path: str, settings: Settings, limits: Limits) -> Checked:
        if not stdin:
            return check_file(path, limits, settings)
        # Read one byte past the size limit, so that the loader reports an oversized spec
        # without this holding all of it.
        return check_text(read_limited(sys.stdin.buffer, limits.max_bytes), path, limits, settings)

    results = [(checked(path, settings, limits), settings) for path, settings, limits in plan]
    diagnostics = sorted((d for r, _ in results for d in r.diagnostics), key=lambda d: d.sort_key())
    sources = {r.path: r.source for r, _ in results}
    color = not no_color and stdout_is_terminal()
    if statistics:
        typer.echo(render_statistics(format.value, diagnostics, len(plan)))
    else:
        typer.echo(render(format.value, diagnostics, sources, len(plan), color), color=color)
    if exits.for_diagnostics(diagnostics) == exits.IO_ERROR:
        stop(exits.IO_ERROR)
    failed = any(d.severity >= s.fail_on for r, s in results for d in r.diagnostics)
    stop(exits.FINDINGS if failed else exits.OK)
