"""Lowering and running: `specc plan` and `specc run`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from specc import exits
from specc.cli.common import (
    DimOption,
    SpecArg,
    app,
    files_read,
    is_stdin,
    limits_for,
    parse_dims,
    read_stdin,
    refuse_writing_inputs,
    stop,
)

if TYPE_CHECKING:
    import warnings
    from collections.abc import Callable

    from numpy.typing import NDArray

    from specc.lower.plan import Plan


class PlanFormat(StrEnum):
    table = "table"
    json = "json"


class Engine(StrEnum):
    numpy = "numpy"
    onnxruntime = "onnxruntime"


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
    from specc.api import compile
    from specc.lower import RunError, SpecError
    from specc.lower.budget import parse_size
    from specc.report.text import format_text

    try:
        budget: int | str | None = "default" if max_memory is None else parse_size(max_memory)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-memory") from None
    limits = limits_for(spec)
    source: Path | str = spec
    if is_stdin(spec):
        source = read_stdin(limits).decode("utf-8", "replace") + "\n"  # text, not a path
    try:
        return compile(
            source, batch=batch, dtype=dtype, dims=dims, max_memory=budget, limits=limits
        )
    except SpecError as exc:
        typer.echo(format_text(exc.diagnostics, exc.sources, color=sys.stderr.isatty()), err=True)
        stop(exits.for_diagnostics(exc.diagnostics))
    except RunError as exc:
        _fail(exc)


def _fail(exc: Exception) -> NoReturn:
    """A RunError as `specc: error: ...` on stderr, with its exit code."""
    typer.echo(f"specc: error: {exc}", err=True)
    stop(getattr(exc, "exit_code", exits.FINDINGS))


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

    plan = _compile_or_exit(spec, batch or 1, dtype.value, parse_dims(dim), None)
    try:
        program = plan.program()
    except RunError as exc:
        _fail(exc)
    from specc.lower import render
    from specc.report.plain import output_width

    if format is PlanFormat.json:
        typer.echo(json.dumps(render.plan_json(program), indent=2))
    else:
        typer.echo(render.plan_text(program, output_width()))


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
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the random input and weights (0 or more).")
    ] = 0,
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
    engine: Annotated[
        Engine,
        typer.Option(
            help="numpy (specc's own plan) or onnxruntime (the spec exported to ONNX in memory; "
            "needs pip install 'specc[onnxruntime]')."
        ),
    ] = Engine.numpy,
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
                    engine,
                )
            finally:
                _echo_warnings(caught)
    except RunError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        typer.echo("specc: interrupted", err=True)
        stop(exits.INTERRUPTED)


def _onnxruntime(
    plan: Plan, weights: dict[str, NDArray], dtype: str, profile: bool
) -> Callable[[dict[str, NDArray]], dict[str, NDArray]]:
    """The run function of the onnxruntime engine; RunError for what it cannot do."""
    from specc.interop.export import ExportFailed, need
    from specc.lower import RunError

    if dtype != "float32":
        raise RunError("--engine onnxruntime runs float32 only", exit_code=exits.USAGE)
    if profile:
        raise RunError("--profile times the numpy engine's steps", exit_code=exits.USAGE)
    try:
        need("onnx", "onnx")
        need("onnxruntime", "onnxruntime")
        from specc.interop.onnx import ExportError
        from specc.interop.onnx.runtime import OnnxRuntime

        return OnnxRuntime(plan.shapes, weights).run
    except (ExportFailed, ExportError) as exc:
        raise RunError(str(exc)) from None


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
    engine: Engine = Engine.numpy,
) -> None:
    import time

    from specc.lower import RunError, io, render

    for target, what in ((output, "output file"), (save_weights, "weights file")):
        if target is not None:
            io.check_target(
                target, force, what, suffixes=(".npz",) if target is save_weights else io.SUFFIXES
            )
    refuse_writing_inputs(
        "run",
        [(output, "output file"), (save_weights, "weights file")],
        [*files_read(spec), input, weights],
    )
    plan = _compile_or_exit(spec, batch or 1, dtype, parse_dims(dim), max_memory)
    if output is not None and output.suffix.lower() == ".npy" and len(plan.output_names) > 1:
        names = ", ".join(plan.output_names)
        raise RunError(
            f"output file {output}: the spec has {len(plan.output_names)} outputs "
            f"({names}); use a .npz file",
            exit_code=exits.IO_ERROR,
        )
    prepared = plan.prepare(input, weights, seed=seed, batch=batch)
    program, data = prepared.program, prepared.inputs
    if save_weights is not None:
        io.save_arrays(save_weights, prepared.weights, force, "weights file")
    executable = prepared.executable
    run: Callable[[dict[str, NDArray]], dict[str, NDArray]] = executable.run
    how = f"{len(program.steps)} steps"
    if engine is Engine.onnxruntime:
        run, how = _onnxruntime(plan, prepared.weights, dtype, profile), "onnxruntime"
    start = time.perf_counter()
    outputs = run(data.arrays)
    wall = time.perf_counter() - start
    for line in render.output_lines(outputs):
        typer.echo(line)
    typer.echo(f"wall time: {wall * 1e3:.2f} ms (batch {data.batch}, {dtype}, {how})")
    if profile:
        seconds: list[float] = []
        executable.run(data.arrays, seconds)
        typer.echo("")
        typer.echo(render.profile_text(program, seconds))
    if output is not None:
        io.save_arrays(output, outputs, force, "output file")
        typer.echo(f"wrote {output}")
