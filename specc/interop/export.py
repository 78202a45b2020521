"""`specc export`: a checked spec and its weights as an ONNX model, or PyTorch or Keras source.

The weights are the ones given, or the seeded ones `specc run --seed S` uses, so that the
exported model and `specc run` agree from the start. Each target loads only when asked for.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from specc.api import Checked

Target = Literal["onnx", "pytorch", "keras"]
TARGETS: tuple[Target, ...] = ("onnx", "pytorch", "keras")
SUFFIX: dict[Target, str] = {"onnx": ".onnx", "pytorch": ".py", "keras": ".py"}
LayoutName = Literal["channels-last", "channels-first"]


class ExportFailed(Exception):
    """The spec cannot be exported to the target, or the target's package is missing."""


@dataclass(frozen=True)
class Exported:
    """What an export made: the main file's bytes, and the weights that go beside source code."""

    target: Target
    data: bytes
    weights: Mapping[str, NDArray] | None = None  # for pytorch and keras: the .npz to write


def need(module: str, extra: str) -> None:
    """Fail with the install command when an optional package is missing."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise ExportFailed(
            f"the {module} package is needed for this: pip install 'specc[{extra}]'"
        ) from None


def export(
    checked: Checked,
    to: Target,
    *,
    weights: Mapping[str, NDArray] | str | os.PathLike[str] | None = None,
    seed: int = 0,
    opset: int | None = None,
    layout: LayoutName = "channels-last",
    dtype: str = "float32",
) -> Exported:
    """Export a checked spec; RunError for bad weights, ExportFailed for what cannot be done."""
    from specc.lower import Plan

    plan = Plan(checked, dtype=dtype, max_memory=None)
    used = plan.weights(weights, seed=seed)
    assert checked.shapes is not None
    if to == "onnx":
        need("onnx", "onnx")
        from specc.interop.onnx import DEFAULT_OPSET, ExportError, export_model

        try:
            model = export_model(
                checked.shapes,
                used,
                opset=opset or DEFAULT_OPSET,
                layout="first" if layout == "channels-first" else "last",
                dtype=dtype,
            )
        except ExportError as exc:
            raise ExportFailed(str(exc)) from None
        return Exported(to, model.SerializeToString())
    module = importlib.import_module(f"specc.interop.{'torch' if to == 'pytorch' else to}")
    try:
        source: str = module.generate(checked.shapes)
    except module.GenerateError as exc:
        raise ExportFailed(str(exc)) from None
    return Exported(to, source.encode(), used)
