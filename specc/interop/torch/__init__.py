"""PyTorch export: a spec as the source of an nn.Module, one module per layer family.

Importing this package registers every family's generator in `site.GENERATORS`. Generating
the source needs no PyTorch; running it does.
"""

from __future__ import annotations

from specc.interop.pysource import GenerateError
from specc.interop.torch import (  # noqa: F401  (registers the generators)
    activation,
    conv,
    dense,
    merge,
    norm,
    pool,
    reshape,
    wrapper,
)
from specc.interop.torch.generate import generate

__all__ = ["GenerateError", "generate"]
