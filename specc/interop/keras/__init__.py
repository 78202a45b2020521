"""Keras export: a spec as the source of a Keras 3 functional model, one module per family.

Importing this package registers every family's generator in `site.GENERATORS`. Generating
the source needs no Keras; running it does.
"""

from __future__ import annotations

from specc.interop.keras.generate import generate
from specc.interop.pysource import GenerateError
from specc.ops.parts import import_all

__all__ = ["GenerateError", "generate"]

import_all(__name__, __path__)  # every family module, without a list to keep
