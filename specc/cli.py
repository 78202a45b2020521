"""The command line: parses arguments, calls the pipeline, renders, picks the exit code."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from specc import __version__

if TYPE_CHECKING:
    from specc.passes.costs import Costs

app = typer.Typer(
    name="specc",
    help="Compile, check and explain declarative YAML neural-network specs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecArg = Annotated[Path, typer.Argument(help="The spec file (YAML).", show_default=False)]


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Layout(str, Enum):
    keras = "keras"
    torch = "torch"


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("NO_COLOR") is None


def _load_or_exit(spec: Path):  # type: ignore[no-untyped-def]
    """Run the static pipeline; on errors print them to stderr and exit 1 (2 if unreadable)."""
    from specc import codes
    from specc.api import check_file
    from specc.report.text import format_text

    result = check_file(spec)
    if not result.ok:
        sources = {result.path: result.source}
        typer.echo(format_text(result.diagnostics, sources, color=sys.stderr.isatty()), err=True)
        _exit(2 if any(d.code == codes.IO_ERROR for d in result.diagnostics) else 1)
    return result


DimOption = Annotated[
    list[str] | None,
    typer.Option(
        "--dim",
        help="Bind a symbolic dim, e.g. --dim T=1000 (repeatable); every number is evaluated.",
        show_default=False,
    ),
]


def _parse_dims(values: list[str] | None) -> dict[str, int]:
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


def _bind_dims_or_exit(costs: Costs, dims: dict[str, int]) -> None:
    """Exit 1 when the values break the spec (a dim reaches zero, branches disagree)."""
    unknown = sorted(set(dims) - set(costs.symbols))
    if unknown:
        known = ", ".join(costs.symbols) or "none"
        raise typer.BadParameter(
            f"unknown symbol {', '.join(unknown)} (the spec's symbols: {known})", param_hint="--dim"
        )
    problems = costs.problems(dims)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        _exit(1)


@app.command()
def report(
    spec: SpecArg,
    format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.table,
    layout: Annotated[
        Layout, typer.Option(help="Kernel layout: keras (k..., C_in, C_out) or torch (C_out, C_in, k...).")
    ] = Layout.keras,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            "-c",
            help="Table columns, comma-separated, from: name,type,inputs,output,kernel,params,"
            "trainable,macs,flops,memory,rf (default: name,type,inputs,output,kernel,params). "
            "JSON always carries every column.",
            show_default=False,
        ),
    ] = None,
    dim: DimOption = None,
    batch: Annotated[
        int, typer.Option(min=1, help="Batch size for MACs and activation memory.")
    ] = 1,
) -> None:
    """Print every layer's output shape, kernel shape and parameter count, with totals;
    --columns adds MACs, FLOPs, activation memory, receptive fields and trainable flags."""
    from specc.passes.costs import measure
    from specc.report.summary import parse_columns, summarize, to_json

    dims = _parse_dims(dim)
    try:
        chosen = None if columns is None else parse_columns(columns)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--columns") from None
    result = _load_or_exit(spec)
    assert result.shapes is not None
    costs = measure(result.shapes)
    _bind_dims_or_exit(costs, dims)
    summary = summarize(result.shapes, layout.value, dims=dims, batch=batch, costs=costs)
    if format is ReportFormat.json:
        typer.echo(json.dumps(to_json(summary), indent=2))
    elif format is ReportFormat.markdown:
        from specc.report.tables import markdown

        typer.echo(markdown(summary, chosen), nl=False)
    else:
        from rich.console import Console

        from specc.report.tables import rich_table

        Console().print(rich_table(summary, chosen))


@app.command()
def check(
    specs: Annotated[list[Path], typer.Argument(help="Spec files to check.", show_default=False)],
) -> None:
    """Validate specs and infer their shapes; print each problem as path:line:col: CODE message."""
    from specc import codes
    from specc.api import check_file
    from specc.report.text import count_line, format_text

    diagnostics = []
    sources = {}
    for spec in specs:
        result = check_file(spec)
        diagnostics += result.diagnostics
        sources[result.path] = result.source
    if diagnostics:
        typer.echo(format_text(diagnostics, sources, color=_stdout_is_terminal()))
        typer.echo("")
    typer.echo(count_line(diagnostics, len(specs)))
    if any(d.code == codes.IO_ERROR for d in diagnostics):
        _exit(2)
    from specc.diagnostics import has_errors

    _exit(1 if has_errors(diagnostics) else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editors: yaml-language-server)."""
    from specc.schema import build_schema

    typer.echo(json.dumps(build_schema(), indent=2))


@app.command()
def layers(
    layer_type: Annotated[str | None, typer.Argument(help="One layer type to describe.", show_default=False)] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="The whole catalogue as markdown.")] = False,
) -> None:
    """List the layer types, or describe one with its attributes and defaults."""
    from specc.ops import REGISTRY
    from specc.report import layers as catalogue

    if markdown:
        typer.echo(catalogue.markdown(), nl=False)
    elif layer_type is None:
        for name in sorted(REGISTRY):
            typer.echo(f"{name:<18} {REGISTRY[name].summary}")
    elif layer_type in REGISTRY:
        typer.echo(catalogue.describe(REGISTRY[layer_type]))
    else:
        import difflib

        close = difflib.get_close_matches(layer_type, list(REGISTRY), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        typer.echo(f"specc: unknown layer type '{layer_type}'{hint}", err=True)
        _exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Compile, check and explain declarative YAML neural-network specs."""


def main() -> None:
    """Entry point: a bug in specc is one clear line unless SPECC_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the boundary where bugs become one line
        if os.environ.get("SPECC_DEBUG"):
            raise
        sys.stderr.write(
            f"specc: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in specc; run again with SPECC_DEBUG=1 for the traceback.\n"
        )
        sys.exit(3)
