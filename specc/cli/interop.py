"""Bridges to other frameworks: `specc export`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from specc import exits
from specc.cli.common import SpecArg, app, fail, files_read, load_or_exit, refuse_writing_inputs


class To(StrEnum):
    onnx = "onnx"
    pytorch = "pytorch"
    keras = "keras"


class LayoutChoice(StrEnum):
    last = "channels-last"
    first = "channels-first"


@app.command("export")
def export_command(
    spec: SpecArg,
    to: Annotated[
        To, typer.Option("--to", "-t", help="The target: onnx, pytorch or keras.")
    ] = To.onnx,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The file to write (default: the spec's name with .onnx or .py, beside it). "
            "PyTorch and Keras source also get their weights as a .npz beside it.",
            show_default=False,
        ),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            "-w",
            help="Weights to carry: .npz keyed '<layer>.<param>'.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the weights, as `specc run --seed`.")] = 0,
    opset: Annotated[
        int | None, typer.Option(help="ONNX opset (default 17).", min=17, show_default=False)
    ] = None,
    layout: Annotated[
        LayoutChoice,
        typer.Option(
            help="ONNX inputs and outputs: channels-last (as the spec) or channels-first."
        ),
    ] = LayoutChoice.last,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files.")] = False,
) -> None:
    """Export a spec to ONNX, or to PyTorch or Keras source, with its weights (given, or the
    seeded ones `specc run --seed` uses, so both agree from the start)."""
    from specc.files import FileRefused, atomic_write
    from specc.interop.export import SUFFIX, ExportFailed, export
    from specc.lower import RunError

    target = output or spec.with_suffix(SUFFIX[to.value])
    npz = target.with_suffix(".npz") if to is not To.onnx else None
    outputs = [(target, "output file"), (npz, "weights file")]
    refuse_outputs("export", outputs, [*files_read(spec), weights], force)
    checked = load_or_exit(spec)
    try:
        done = export(
            checked, to.value, weights=weights, seed=seed, opset=opset, layout=layout.value
        )
    except ExportFailed as exc:
        fail(str(exc), exits.FINDINGS)
    except RunError as exc:
        fail(str(exc), exc.exit_code)
    try:
        if npz is not None and done.weights is not None:
            import numpy as np

            arrays = dict(done.weights)
            atomic_write(npz, lambda f: np.savez(f, **arrays), force, "weights file")  # type: ignore[arg-type]
        atomic_write(target, lambda f: f.write(done.data), force, "output file")
    except FileRefused as exc:
        fail(str(exc), exits.USAGE)
    typer.echo(f"wrote {target}" + (f" and {npz}" if npz is not None else ""))


@app.command("import")
def import_command(
    model: Annotated[
        Path,
        typer.Argument(
            help="The model to import: an ONNX file, a Keras .keras file, or a Keras "
            "model.to_json() config (.json, no weights).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The spec to write (default: the model's name with .yaml).",
            show_default=False,
        ),
    ] = None,
    weights_out: Annotated[
        Path | None,
        typer.Option(
            "--weights-out",
            help="The weights to write (default: the spec's name with .npz).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The spec's name (default: the model file's).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files.")] = False,
) -> None:
    """Import an ONNX model (PyTorch: via torch.onnx.export) or a Keras model (.keras, or a
    model.to_json() config without weights) as a spec with its weights."""
    from specc.files import FileRefused, atomic_write
    from specc.interop.importing import ImportFailed, import_model

    if model.suffix.lower() not in (".onnx", ".keras", ".json", ".h5"):
        fail(
            f"{model}: specc imports ONNX models (.onnx), Keras models (.keras) and Keras "
            "configs (.json)",
            exits.USAGE,
        )
    target = output or model.with_suffix(".yaml")
    config_only = model.suffix.lower() == ".json"  # a Keras config: no weights to write
    npz = None if config_only else weights_out or target.with_suffix(".npz")
    refuse_outputs("import", [(target, "spec file"), (npz, "weights file")], [model], force)
    if not model.is_file():
        fail(f"cannot read {model}: no such file", exits.IO_ERROR)
    try:
        done = import_model(model, name=name, weights_name=npz.name if npz else None)
    except ImportFailed as exc:
        fail(str(exc), exits.FINDINGS)
    try:
        import numpy as np

        arrays = done.weights
        if npz is not None:
            atomic_write(npz, lambda f: np.savez(f, **arrays), force, "weights file")  # type: ignore[arg-type]
        atomic_write(target, lambda f: f.write(done.text.encode()), force, "spec file")
    except FileRefused as exc:
        fail(str(exc), exits.USAGE)
    if npz is None:
        typer.echo(f"wrote {target} (no weights: a Keras JSON config holds none)")
    else:
        typer.echo(f"wrote {target} and {npz}")


def refuse_outputs(
    command: str, outputs: list[tuple[Path | None, str]], inputs: list[Path | None], force: bool
) -> None:
    """Exit 2, before any work, for an output that is a file the command reads, is not a
    regular file, or exists without --force."""
    from specc.files import FileRefused, refuse_special

    refuse_writing_inputs(command, outputs, inputs)
    for path, what in outputs:
        if path is None:
            continue
        try:
            refuse_special(path, what)
        except FileRefused as exc:
            fail(str(exc), exits.USAGE)
        if path.exists() and not force:
            fail(f"{what} {path} already exists; pass --force to replace it", exits.USAGE)
