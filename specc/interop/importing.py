"""`specc import`: another framework's model as a spec (YAML text) and its weights.

The format is chosen by the file's suffix (.onnx; .keras, or .json for a Keras config without
weights); each importer gives a `specc.ir.Model`, which is checked as any spec is
(`specc.api.check_model`) before the text is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from specc.interop.onnx.reader import ImportFailed

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from specc.api import Checked
    from specc.interop.onnx.importer import Imported


@dataclass(frozen=True)
class ImportResult:
    """The spec's text, its weights (keyed `<layer>.<param>`, Keras layouts) and its check;
    `has_weights` is False when the source holds none (a Keras JSON config)."""

    text: str
    weights: dict[str, NDArray]
    checked: Checked
    has_weights: bool = True


def import_model(
    path: str | os.PathLike[str], *, name: str | None = None, weights_name: str | None = None
) -> ImportResult:
    """Import an ONNX or Keras model file; ImportFailed says why it cannot be."""
    source = Path(path)
    suffix = source.suffix.lower()
    spec_name = name or _model_name(source.stem)
    if suffix == ".onnx":
        imported, origin = _onnx(source, spec_name)
    elif suffix in (".keras", ".json"):
        imported, origin = _keras(source, spec_name)
    elif suffix == ".h5":
        raise ImportFailed(
            f"{source.name}: specc imports Keras 3's .keras files (model.save('model.keras')), "
            "not legacy .h5 ones"
        )
    else:
        raise ImportFailed(
            f"{source.name}: specc imports ONNX models (.onnx) and Keras models (.keras, or a "
            "model.to_json() config as .json)"
        )
    has_weights = suffix != ".json"
    return _finish(imported, spec_name, source, origin, weights_name if has_weights else None)


def _onnx(source: Path, spec_name: str) -> tuple[Imported, str]:
    from specc.interop.onnx.importer import import_graph
    from specc.interop.onnx.reader import read_model

    graph = read_model(source)
    origin = f"ONNX opset {graph.opset}" + (f", made by {graph.producer}" if graph.producer else "")
    return import_graph(graph, spec_name), origin


def _keras(source: Path, spec_name: str) -> tuple[Imported, str]:
    from specc.interop.keras.imports.importer import import_keras
    from specc.interop.keras.imports.reader import parse, read_config
    from specc.interop.keras.imports.weights import WeightsFile

    config, version = read_config(source)
    graph = parse(config, version)
    weights = WeightsFile(source) if source.suffix.lower() == ".keras" else None
    try:
        imported = import_keras(graph, spec_name, weights)
    finally:
        if weights is not None:
            weights.close()
    kind = str(config.get("class_name"))
    origin = f"a Keras {kind} model" + (f", Keras {version}" if version else "")
    return imported, origin


def _finish(
    imported: Imported, spec_name: str, source: Path, origin: str, weights_name: str | None
) -> ImportResult:
    from specc.api import check_model
    from specc.diagnostics import has_errors
    from specc.interop.spec_yaml import dump_spec

    checked = check_model(imported.model, path=f"{spec_name}.yaml")
    if has_errors(checked.diagnostics):  # a bug in an importer: the user cannot fix this
        problems = "; ".join(f"{d.code} {d.message}" for d in checked.diagnostics[:3])
        raise ImportFailed(f"the imported spec does not check: {problems}")
    comments = [f"Imported from {source.name} ({origin}) by `specc import`."]
    if weights_name:
        comments.append(f"Weights: {weights_name} (specc run SPEC --weights {weights_name}).")
    elif source.suffix.lower() == ".json":
        comments.append("Weights: none (a Keras JSON config holds none; specc run seeds its own).")
    comments += [f"Note: {n}." for n in imported.notes]
    layers = [(e.name, e.type, e.attrs, e.inputs) for e in imported.layers]
    text = dump_spec(
        spec_name,
        imported.inputs,
        layers,
        imported.outputs,
        comments,
        imported.dtypes,
        [str(a) for a in imported.assume.entries],
    )
    return ImportResult(text, imported.weights, checked, source.suffix.lower() != ".json")


def _model_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-") or "model"


__all__ = ["ImportFailed", "ImportResult", "import_model"]
