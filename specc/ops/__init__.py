"""Layer types, one module per family; importing this package registers them all."""

from __future__ import annotations

from specc.ops.base import REGISTRY, Op, Param, Problem
from specc.ops.parts import import_all

import_all(__name__, __path__)  # every family module, without a list to keep

__all__ = ["REGISTRY", "Op", "Param", "Problem"]
