"""What each op family needs to run on NumPy: importing this package registers every lowering."""

from specc.lower.ops import activation, conv, dense, merge, norm, pool, reshape, wrapper

__all__ = ["activation", "conv", "dense", "merge", "norm", "pool", "reshape", "wrapper"]
