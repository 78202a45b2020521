"""ONNX export, one module per layer family; needs the `onnx` package.

Importing this package registers every family's exporter in `site.EXPORTS`.
"""

from __future__ import annotations

from specc.interop.onnx.export import DEFAULT_OPSET, export_model, unsupported
from specc.interop.onnx.site import ExportError
from specc.ops.parts import import_all

import_all(__name__, __path__)  # every family module, without a list to keep

__all__ = ["DEFAULT_OPSET", "ExportError", "export_model", "unsupported"]
