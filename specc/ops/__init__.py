"""Layer types, one module per family; importing this package registers them all."""

from __future__ import annotations

from specc.ops import (
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
from specc.ops.base import REGISTRY, Op, Param, Problem

__all__ = [
    "REGISTRY",
    "Op",
    "Param",
    "Problem",
    "activation",
    "conv",
    "dense",
    "merge",
    "norm",
    "pool",
    "preprocess",
    "reshape",
    "wrapper",
]
