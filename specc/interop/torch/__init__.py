"""PyTorch export: a spec as the source of an nn.Module, one module per layer family.

Importing this package registers every family's generator in `site.GENERATORS`. Generating
the source needs no PyTorch; running it does.
"""

from __future__ import annotations

from specc.interop.pysource import GenerateError
from specc.interop.torch.generate import generate
from specc.ops.parts import import_all

__all__ = ["GenerateError", "generate"]

import_all(__name__, __path__)  # every family module, without a list to keep
