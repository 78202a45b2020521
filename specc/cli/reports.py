"""The static reports of one spec: `report`, `explain`, `diff` and `graph`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from specc import exits
from specc.cli.common import (
    DimOption,
    SpecArg,
    app,
    bind_dims_or_exit,
    check_spec,
    fail,
    files_read,
    limits_for,
    load_or_exit,
    parse_dims,
    refuse_writing_inputs,
    show_table,
    stop,
)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Layout(StrEnum):
    keras = "keras"
    torch = "torch"


@app.command()
def report(
    spec: SpecArg,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.table,
    layout: Annotated[
        Layout,
        typer.Option(help="Kernel layout: keras (k..., C_in, C_out) or torch (C_out, C_in, k...)."),
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

    dims = parse_dims(dim)
    try:
        chosen = None if columns is None else parse_columns(columns)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--columns") from None
    result = load_or_exit(spec)
    assert result.shapes is not None
    costs = measure(result.shapes)
    bind_dims_or_exit(costs, dims)
    summary = summarize(result.shapes, layout.value, dims=dims, batch=batch, costs=costs)
    if format is ReportFormat.json:
        typer.echo(json.dumps(to_json(summary), indent=2))
    elif format is ReportFormat.markdown:
        from specc.report.tables import markdown

        typer.echo(markdown(summary, chosen), nl=False)
    else:
        from specc.report.tables import plain, rich_table

        show_table(
            lambda width: plain(summary, chosen, width),
            lambda width: rich_table(summary, chosen, width),
        )


@app.command()
def explain(
    spec: SpecArg,
    layer: Annotated[
        str | None,
        typer.Argument(
            help="The layer to explain (default: every layer, compactly).", show_default=False
        ),
    ] = None,
    dim: DimOption = None,
) -> None:
    """Show where a layer's numbers come from: C_in, the kernel shape in words, the parameter
    formula, each output axis, MACs, memory, receptive field and per-channel alternatives."""
    from specc.explain import bind, explain_model, render_layer
    from specc.passes.costs import constraints, measure
    from specc.report.plain import output_width, wrap_text
    from specc.report.text import format_text
    from specc.suggest import did_you_mean

    dims = parse_dims(dim)
    result = check_spec(spec, limits_for(spec))
    broken = not result.ok
    if broken:
        # Explain what could be inferred: the errors above say why the rest is missing.
        sources = {result.path: result.source}
        typer.echo(format_text(result.diagnostics, sources, color=sys.stderr.isatty()), err=True)
        if result.shapes is None:
            stop(exits.for_diagnostics(result.diagnostics))
    assert result.shapes is not None
    if dims:  # checked against the symbolic shapes; the costs shown are those of the bound ones
        bind_dims_or_exit(constraints(result.shapes), dims)
    costs = measure(bind(result.shapes, dims))
    width = output_width()
    if layer is None:
        typer.echo(wrap_text(explain_model(costs), width), nl=False)
        stop(exits.FINDINGS if broken else exits.OK)
    names = [x.name for x in result.shapes.model.layers]
    if layer not in names:
        hint = did_you_mean(layer, names) or f"; the layers are {', '.join(names)}"
        raise typer.BadParameter(f"no layer named '{layer}'{hint}", param_hint="LAYER")
    if layer not in costs.layers:
        fail(f"{layer}: its shapes are unknown because of the errors above", exits.FINDINGS)
    typer.echo(wrap_text(render_layer(costs, layer), width), nl=False)
    stop(exits.FINDINGS if broken else exits.OK)


class DiffFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The old spec.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The new spec.", show_default=False)],
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiffFormat.table,
    dim: DimOption = None,
    all_layers: Annotated[bool, typer.Option("--all", help="List unchanged layers too.")] = False,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 1 when the specs differ (as git diff does)."),
    ] = False,
) -> None:
    """Compare two specs layer by layer (matched by name): shapes, kernels, parameters and
    MACs, with totals and percentages; --format markdown for a pull-request comment."""
    from specc.diff import diff as compare
    from specc.passes.costs import measure

    dims = parse_dims(dim)
    sides = []
    for spec in (old, new):
        result = load_or_exit(spec)
        assert result.shapes is not None
        costs = measure(result.shapes)
        bind_dims_or_exit(costs, {k: v for k, v in dims.items() if k in costs.symbols})
        sides.append(costs)
    changes = compare(sides[0], sides[1], dims)
    if format is DiffFormat.json:
        from specc.diff import to_json

        typer.echo(json.dumps(to_json(changes, all_layers), indent=2))
    elif format is DiffFormat.markdown:
        from specc.report.tables import diff_markdown

        typer.echo(diff_markdown(changes, all_layers), nl=False)
    else:
        from specc.report.tables import diff_plain, diff_table

        show_table(
            lambda width: diff_plain(changes, all_layers, width),
            lambda width: diff_table(changes, all_layers, width),
        )
    stop(exits.FINDINGS if exit_code and not changes.identical else exits.OK)


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"


@app.command()
def graph(
    spec: SpecArg,
    format: Annotated[
        GraphFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="mermaid, dot, svg or png (these two run Graphviz's dot). Default: from the -o "
            "suffix (.svg, .png, .dot/.gv, .mmd/.md), else mermaid; a suffix that names "
            "another format is refused.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here (a regular file or a new one) instead of stdout; - is stdout.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing -o file.")] = False,
) -> None:
    """Draw the layer graph: a node per input and layer (type, output shape, kernel shape) and
    an edge per input. Mermaid renders on GitHub; -o model.svg needs Graphviz."""
    from specc.files import FileRefused, refuse_special
    from specc.graph import GraphError, format_for, render, write

    if output is not None and str(output) == "-":
        output = None
    refuse_writing_inputs("graph", [(output, "graph file")], [*files_read(spec)])
    try:
        if output is not None:
            refuse_special(output, "graph file")
    except FileRefused as exc:
        fail(f"{exc}; -o - writes to stdout", exits.IO_ERROR)
    result = load_or_exit(spec)
    assert result.shapes is not None
    try:
        fmt = format_for(output, None if format is None else format.value)
        if output is None and fmt == "png" and sys.stdout.isatty():
            raise GraphError("PNG is binary: write it with -o FILE.png or redirect stdout")
        content = render(result.shapes, fmt, output)
        if output is not None:
            write(output, content, force)
        elif isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            typer.echo(content, nl=False)
    except GraphError as exc:
        fail(str(exc), exits.USAGE)
