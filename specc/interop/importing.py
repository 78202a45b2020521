"""`specc import`: another framework's model as a spec (YAML text) and its weights.

The format is chosen by the file's suffix; each importer gives a `specc.ir.Model`, which is
checked as any spec is (`specc.api.check_model`) before the text is written.
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


@dataclass(frozen=True)
class ImportResult:
    """The spec's text, its weights (keyed `<layer>.<param>`, Keras layouts) and its check."""

    text: str
    weights: dict[str, NDArray]
    checked: Checked


def import_model(
    path: str | os.PathLike[str], *, name: str | None = None, weights_name: str | None = None
) -> ImportResult:
    """Import an ONNX model file; ImportFailed says why it cannot be."""
    from specc.api import check_model
    from specc.diagnostics import has_errors
    from specc.interop.onnx.importer import import_graph
    from specc.interop.onnx.reader import read_model
    from specc.interop.spec_yaml import dump_spec

    source = Path(path)
    if source.suffix.lower() != ".onnx":
        raise ImportFailed(f"{source.name}: specc imports ONNX models (.onnx)")
    graph = read_model(source)
    spec_name = name or _model_name(source.stem)
    imported = import_graph(graph, spec_name)
    checked = check_model(imported.model, path=f"{spec_name}.yaml")
    if has_errors(checked.diagnostics):  # a bug in an importer: the user cannot fix this
        problems = "; ".join(f"{d.code} {d.message}" for d in checked.diagnostics[:3])
        raise ImportFailed(f"the imported spec does not check: {problems}")
    origin = f"ONNX opset {graph.opset}" + (f", made by {graph.producer}" if graph.producer else "")
    comments = [f"Imported from {source.name} ({origin}) by `specc import`."]
    if weights_name:
        comments.append(f"Weights: {weights_name} (specc run SPEC --weights {weights_name}).")
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
    return ImportResult(text, imported.weights, checked)


def _model_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-") or "model"


__all__ = ["ImportFailed", "ImportResult", "import_model"]
