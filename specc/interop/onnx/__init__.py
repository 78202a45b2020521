"""ONNX export (and, in time, import), one module per layer family; needs the `onnx` package.

Importing this package registers every family's exporter in `site.EXPORTS`.
"""

from __future__ import annotations

from specc.interop.onnx import (  # noqa: F401  (registers the exporters)
    activation,
    conv,
    dense,
    merge,
    norm,
    pool,
    preprocess,
    reshape,
    wrapper,
)
from specc.interop.onnx.export import DEFAULT_OPSET, export_model, unsupported
from specc.interop.onnx.site import ExportError

__all__ = ["DEFAULT_OPSET", "ExportError", "export_model", "unsupported"]
