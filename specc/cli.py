"""The command line: parses arguments, calls the pipeline, renders, picks the exit code."""

from __future__ import annotations

import copy
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from specc import __version__

if TYPE_CHECKING:
    from specc.limits import Limits
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


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Layout(StrEnum):
    keras = "keras"
    torch = "torch"


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("NO_COLOR") is None


def _limits_for(spec: Path) -> Limits:
    """The limits that the spec's `[tool.specc.limits]` sets, if any; exit 2 on a bad config."""
    from specc.config import ConfigError, Overrides, Resolver

    try:
        return Resolver(Overrides()).limits_for(str(spec))
    except ConfigError as error:
        typer.echo(f"specc: {error}", err=True)
        _exit(2)


def _load_or_exit(spec: Path):  # type: ignore[no-untyped-def]
    """Run the static pipeline; on errors print them to stderr and exit 1 (2 if unreadable)."""
    from specc import codes
    from specc.api import check_file
    from specc.report.text import format_text

    result = check_file(spec, _limits_for(spec))
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
    import difflib

    from specc import codes
    from specc.api import check_file
    from specc.explain import bind, explain_model, render_layer
    from specc.passes.costs import measure
    from specc.report.text import format_text

    dims = _parse_dims(dim)
    result = check_file(spec, _limits_for(spec))
    broken = not result.ok
    if broken:
        # Explain what could be inferred: the errors above say why the rest is missing.
        sources = {result.path: result.source}
        typer.echo(format_text(result.diagnostics, sources, color=sys.stderr.isatty()), err=True)
        if result.shapes is None:
            _exit(2 if any(d.code == codes.IO_ERROR for d in result.diagnostics) else 1)
    assert result.shapes is not None
    costs = measure(result.shapes)
    if dims:
        _bind_dims_or_exit(costs, dims)
        costs = measure(bind(result.shapes, dims))
    if layer is None:
        typer.echo(explain_model(costs), nl=False)
        _exit(1 if broken else 0)
    names = [x.name for x in result.shapes.model.layers]
    if layer not in names:
        close = difflib.get_close_matches(layer, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; the layers are {', '.join(names)}"
        raise typer.BadParameter(f"no layer named '{layer}'{hint}", param_hint="LAYER")
    if layer not in costs.layers:
        typer.echo(f"error: {layer}: its shapes are unknown because of the errors above", err=True)
        _exit(1)
    typer.echo(render_layer(costs, layer), nl=False)
    _exit(1 if broken else 0)


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
) -> None:
    """Compare two specs layer by layer (matched by name): shapes, kernels, parameters and
    MACs, with totals and percentages; --format markdown for a pull-request comment."""
    from specc.diff import diff as compare
    from specc.passes.costs import measure

    dims = _parse_dims(dim)
    sides = []
    for spec in (old, new):
        result = _load_or_exit(spec)
        assert result.shapes is not None
        costs = measure(result.shapes)
        _bind_dims_or_exit(costs, {k: v for k, v in dims.items() if k in costs.symbols})
        sides.append(costs)
    changes = compare(sides[0], sides[1], dims)
    if format is DiffFormat.json:
        from specc.diff import to_json

        typer.echo(json.dumps(to_json(changes, all_layers), indent=2))
    elif format is DiffFormat.markdown:
        from specc.report.tables import diff_markdown

        typer.echo(diff_markdown(changes, all_layers), nl=False)
    else:
        from rich.console import Console

        from specc.report.tables import diff_table

        Console().print(diff_table(changes, all_layers))


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"


@app.command()
def graph(
    spec: SpecArg,
    format: Annotated[
        GraphFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="mermaid, dot, or svg (runs Graphviz's dot). Default: from the -o suffix "
            "(.svg, .dot/.gv, .mmd/.md), else mermaid.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of stdout.", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing -o file.")] = False,
) -> None:
    """Draw the layer graph: a node per input and layer (type, output shape, kernel shape) and
    an edge per input. Mermaid renders on GitHub; -o model.svg needs Graphviz."""
    from specc.files import same_file
    from specc.graph import GraphError, format_for, render, write

    if output is not None and same_file(output, spec):
        typer.echo(
            f"error: {output} is the spec itself; specc never overwrites its inputs", err=True
        )
        _exit(2)
    result = _load_or_exit(spec)
    assert result.shapes is not None
    fmt = format_for(output, None if format is None else format.value)
    try:
        text = render(result.shapes, fmt, output)
        if output is None:
            typer.echo(text, nl=False)
        else:
            write(output, text, force)
    except GraphError as exc:
        typer.echo(f"error: {exc}", err=True)
        _exit(2)


def _codes(values: list[str] | None) -> tuple[str, ...] | None:
    """`--select W,S1 --select I101` -> ("W", "S1", "I101"); None when the option is absent."""
    if values is None:
        return None
    return tuple(c.strip().upper() for value in values for c in value.split(",") if c.strip())


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
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.text,
    select: CodesOption = None,
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
    from specc import codes
    from specc.api import Checked, check_file, check_text
    from specc.config import ConfigError, Overrides, Resolver
    from specc.diagnostics import Severity
    from specc.lint.settings import Settings
    from specc.report.formats import render

    overrides = Overrides(
        select=_codes(select),
        ignore=_codes(ignore) or (),
        fail_on=Severity.parse(fail_on.value) if fail_on else None,
        max_params=max_params,
        max_activation_mb=max_activation_mb,
        config=config,
    )
    stdin = paths == ["-"] or (stdin_filename is not None and not paths)
    if not stdin and (stdin_filename is not None or "-" in (paths or [])):
        typer.echo("specc: `-` (stdin) cannot be combined with other paths", err=True)
        _exit(2)
    if stdin and sys.stdin is None:
        typer.echo("specc: `-` reads a spec from stdin, but there is no stdin", err=True)
        _exit(2)
    try:
        resolver = Resolver(overrides)
        names = (
            [stdin_filename or "<stdin>"] if stdin else resolver.files(paths or ["."], specs_only)
        )
        plan = [(p, resolver.settings_for(p), resolver.limits_for(p)) for p in names]
    except ConfigError as error:
        typer.echo(f"specc: {error}", err=True)
        _exit(2)
    if not plan:
        typer.echo("specc: no spec files found under the given paths", err=True)

    def checked(path: str, settings: Settings, limits: Limits) -> Checked:
        if not stdin:
            return check_file(path, limits, settings)
        # Read one byte past the size limit, so that the loader reports an oversized spec
        # without this holding all of it.
        return check_text(sys.stdin.buffer.read(limits.max_bytes + 1), path, limits, settings)

    results = [(checked(path, settings, limits), settings) for path, settings, limits in plan]
    diagnostics = sorted((d for r, _ in results for d in r.diagnostics), key=lambda d: d.sort_key())
    sources = {r.path: r.source for r, _ in results}
    color = not no_color and _stdout_is_terminal()
    typer.echo(render(format.value, diagnostics, sources, len(plan), color), color=color)
    if any(d.code == codes.IO_ERROR for d in diagnostics):
        _exit(2)
    failed = any(d.severity >= s.fail_on for r, s in results for d in r.diagnostics)
    _exit(1 if failed else 0)


class RulesFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


@app.command()
def rules(
    code: Annotated[
        str | None,
        typer.Argument(
            help="A code to explain (W101), or a prefix to list (W, S1).", show_default=False
        ),
    ] = None,
    format: Annotated[
        RulesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RulesFormat.text,
) -> None:
    """List every diagnostic code with its severity and summary, or explain one with examples."""
    import specc.codes
    import specc.lint  # noqa: F401 - both register their codes
    from specc.diagnostics import CATALOGUE
    from specc.report import rules as render

    wanted = (code or "").strip().upper()
    chosen = [CATALOGUE[wanted]] if wanted in CATALOGUE else render.catalogue(wanted)
    if not chosen:
        import difflib

        close = difflib.get_close_matches(wanted, list(CATALOGUE), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        typer.echo(f"specc: unknown code '{code}'{hint} (`specc rules` lists them all)", err=True)
        _exit(2)
    if format is RulesFormat.json:
        typer.echo(json.dumps(render.to_json(chosen), indent=2))
    elif format is RulesFormat.markdown:
        typer.echo(render.markdown(chosen), nl=False)
    elif wanted in CATALOGUE:
        typer.echo(render.help_text(chosen[0]))
    else:
        typer.echo(render.table(chosen))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editors: yaml-language-server)."""
    from specc.schema import build_schema

    typer.echo(json.dumps(build_schema(), indent=2))


@app.command()
def layers(
    layer_type: Annotated[
        str | None, typer.Argument(help="One layer type to describe.", show_default=False)
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The whole catalogue as markdown.")
    ] = False,
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


class PlanFormat(StrEnum):
    table = "table"
    json = "json"


class DType(StrEnum):
    float32 = "float32"
    float64 = "float64"


BatchOption = Annotated[
    int | None, typer.Option("--batch", "-b", min=1, help="Batch size (default 1).")
]
MaxMemoryOption = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        help="Refuse to run when the plan's peak memory exceeds this, e.g. 800M or 4GiB "
        "(default: half the RAM).",
        show_default=False,
    ),
]


def _compile_or_exit(
    spec: Path, batch: int, dtype: str, dims: dict[str, int], max_memory: str | None
) -> Plan:
    """specc.compile, with spec errors printed as diagnostics (exit 1, or 2 if unreadable)."""
    from specc import codes
    from specc.api import compile
    from specc.lower import RunError, SpecError
    from specc.lower.budget import parse_size
    from specc.report.text import format_text

    try:
        budget: int | str | None = "default" if max_memory is None else parse_size(max_memory)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-memory") from None
    try:
        return compile(
            spec, batch=batch, dtype=dtype, dims=dims, max_memory=budget, limits=_limits_for(spec)
        )
    except SpecError as exc:
        typer.echo(format_text(exc.diagnostics, exc.sources, color=sys.stderr.isatty()), err=True)
        _exit(2 if any(d.code == codes.IO_ERROR for d in exc.diagnostics) else 1)
    except RunError as exc:
        _fail(exc)


def _fail(exc: Exception) -> NoReturn:
    """A RunError as `specc: error: ...` on stderr, with its exit code."""
    typer.echo(f"specc: error: {exc}", err=True)
    _exit(getattr(exc, "exit_code", 1))


def _echo_warnings(caught: list[warnings.WarningMessage]) -> None:
    from specc.lower import DataNote

    for w in caught:
        label = "note" if issubclass(w.category, DataNote) else "warning"
        typer.echo(f"specc: {label}: {w.message}", err=True)


@app.command("plan")
def plan_command(
    spec: SpecArg,
    batch: BatchOption = None,
    format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PlanFormat.table,
    dim: DimOption = None,
    dtype: Annotated[DType, typer.Option(help="Element type of the run.")] = DType.float32,
) -> None:
    """Show the lowered plan step by step (pad, im2col+gemm, gemm, depthwise, in-place
    activations, pools ...) with FLOPs, bytes and the peak memory after buffer reuse."""
    from specc.lower import RunError

    plan = _compile_or_exit(spec, batch or 1, dtype.value, _parse_dims(dim), None)
    try:
        program = plan.program()
    except RunError as exc:
        _fail(exc)
    from specc.lower import render

    if format is PlanFormat.json:
        typer.echo(json.dumps(render.plan_json(program), indent=2))
    else:
        typer.echo(render.plan_text(program))


@app.command("run")
def run_command(
    spec: SpecArg,
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="Input data: .npy for one input, .npz keyed by input name.",
            show_default=False,
        ),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            "-w",
            help="Weights: .npz keyed '<layer>.<param>' (Keras layouts).",
            show_default=False,
        ),
    ] = None,
    batch: BatchOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the random input and weights.")] = 0,
    dtype: Annotated[DType, typer.Option(help="Element type of the run.")] = DType.float32,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the output: .npy (one output) or .npz (by output name).",
            show_default=False,
        ),
    ] = None,
    save_weights: Annotated[
        Path | None,
        typer.Option("--save-weights", help="Write the weights used, as .npz.", show_default=False),
    ] = None,
    profile: Annotated[
        bool, typer.Option("--profile", help="Time every step (after a warm-up run).")
    ] = False,
    dim: DimOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files.")] = False,
    max_memory: MaxMemoryOption = None,
) -> None:
    """Run a spec with NumPy on a seeded random batch (or --input) and seeded He-normal weights
    (or --weights); print each output's shape, dtype and min/mean/max, and the wall time."""
    import warnings

    from specc.lower import DataNote, DataWarning, RunError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            warnings.simplefilter("always", DataNote)
            try:
                _run(
                    spec,
                    input,
                    weights,
                    batch,
                    seed,
                    dtype.value,
                    output,
                    save_weights,
                    profile,
                    dim,
                    force,
                    max_memory,
                )
            finally:
                _echo_warnings(caught)
    except RunError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        typer.echo("specc: interrupted", err=True)
        _exit(130)


def _run(
    spec: Path,
    input: Path | None,
    weights: Path | None,
    batch: int | None,
    seed: int,
    dtype: str,
    output: Path | None,
    save_weights: Path | None,
    profile: bool,
    dim: list[str] | None,
    force: bool,
    max_memory: str | None,
) -> None:
    import time

    from specc.files import same_file
    from specc.lower import RunError, io, render

    for target, what in ((output, "output file"), (save_weights, "weights file")):
        if target is not None:
            io.check_target(
                target, force, what, suffixes=(".npz",) if target is save_weights else io.SUFFIXES
            )
            for source in (input, weights):
                if source is not None and same_file(source, target):
                    raise RunError(
                        f"{what} {target} is also an input of the run; "
                        "specc never overwrites its inputs",
                        exit_code=2,
                    )
    if output and save_weights and same_file(output, save_weights):
        raise RunError(f"--output and --save-weights name the same file {output}", exit_code=2)
    plan = _compile_or_exit(spec, batch or 1, dtype, _parse_dims(dim), max_memory)
    if output is not None and output.suffix.lower() == ".npy" and len(plan.output_names) > 1:
        names = ", ".join(plan.output_names)
        raise RunError(
            f"output file {output}: the spec has {len(plan.output_names)} outputs "
            f"({names}); use a .npz file",
            exit_code=2,
        )
    data = plan.inputs(input, seed=seed)
    if input is not None and batch is not None and data.batch != batch:
        raise RunError(f"--batch {batch} contradicts the input data, whose batch is {data.batch}")
    program = plan.program(data.batch, data.dims)
    program.check_budget(plan.max_memory)
    used = plan.weights(weights, seed=seed, dims=data.dims)
    if save_weights is not None:
        io.save_arrays(save_weights, used, force, "weights file")
    executable = program.bind(used, plan.max_memory)
    del used
    start = time.perf_counter()
    outputs = executable.run(data.arrays)
    wall = time.perf_counter() - start
    for line in render.output_lines(outputs):
        typer.echo(line)
    typer.echo(
        f"wall time: {wall * 1e3:.2f} ms (batch {data.batch}, {dtype}, {len(program.steps)} steps)"
    )
    if profile:
        seconds: list[float] = []
        executable.run(data.arrays, seconds)
        typer.echo("")
        typer.echo(render.profile_text(program, seconds))
    if output is not None:
        io.save_arrays(output, outputs, force, "output file")
        typer.echo(f"wrote {output}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Compile, check and explain declarative YAML neural-network specs."""


def only_invoked(argv: list[str]) -> typer.Typer:
    """`app` with only the command named in `argv` registered (all of them for anything else).

    Typer builds every registered command's options on each start (it inspects each signature
    and evaluates its annotations), about a third of a one-file `specc check`. The group, its
    callback and the command are the same objects either way, so usage, help and errors read
    the same; `specc --help` and a mistyped command still see every command.
    """
    wanted = argv[0] if argv else None
    chosen = [
        info
        for info in app.registered_commands
        if wanted == (info.name or getattr(info.callback, "__name__", "").replace("_", "-"))
    ]
    if not chosen:
        return app
    lean = copy.copy(app)
    lean.registered_commands = chosen
    return lean


def main() -> None:
    """Entry point: a bug in specc is one clear line unless SPECC_DEBUG is set."""
    try:
        only_invoked(sys.argv[1:])()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except MemoryError:
        sys.stderr.write(
            "specc: out of memory; try a smaller --batch, "
            "or a --max-memory below this machine's RAM\n"
        )
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("SPECC_DEBUG"):
            raise
        sys.stderr.write(
            f"specc: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in specc; run again with SPECC_DEBUG=1 for the traceback.\n"
        )
        sys.exit(3)


# -- lowering and running: `specc plan` and `specc run` ---------------------------------------


if TYPE_CHECKING:
    import warnings

    from specc.lower.plan import Plan
