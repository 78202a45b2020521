"""ONNX import mappings, one module per layer family (kept apart from the exporters in
`specc/interop/onnx/<family>.py` so that both grow without touching each other's files).

Importing this package registers every family's importers in `site.IMPORTS`, keyed by ONNX
operator type (fused patterns by `specc.<Type>`).
"""

from __future__ import annotations

from specc.ops.parts import import_all

import_all(__name__, __path__)  # every family module, without a list to keep
