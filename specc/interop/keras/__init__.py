"""Keras export: a spec as the source of a Keras 3 functional model, one module per family.

Importing this package registers every family's generator in `site.GENERATORS`. Generating
the source needs no Keras; running it does.
"""

from __future__ import annotations

from specc.interop.keras import (  # noqa: F401  (registers the generators)
    activation,
    conv,
    dense,
    merge,
    norm,
    pool,
    reshape,
    wrapper,
)
from specc.interop.keras.generate import generate
from specc.interop.pysource import GenerateError

__all__ = ["GenerateError", "generate"]
