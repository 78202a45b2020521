"""The explain derivations of each layer family; importing this package registers them all."""

from __future__ import annotations

from specc.explain.ops import conv, dense, merge, norm, pool, reshape, wrapper

__all__ = ["conv", "dense", "merge", "norm", "pool", "reshape", "wrapper"]
