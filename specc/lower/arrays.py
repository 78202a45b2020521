"""Arrays coming from users: which dtypes are accepted, converted (with a note) or refused."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def refusal(dtype: np.dtype) -> str | None:
    """Why arrays of `dtype` cannot be used as real numbers, or None when they can."""
    if dtype.kind == "c":
        return f"complex values ({dtype}) cannot be used as real numbers"
    if dtype.kind not in "biuf":
        return f"{dtype} is not a numeric type (use float32 or float64)"
    return None


def noted(dtype: np.dtype) -> bool:
    """Whether converting `dtype` to a float is worth a note (integers, booleans, float16)."""
    return dtype.kind in "biu" or dtype.itemsize < 4


def as_float(array: NDArray, dtype: np.dtype) -> NDArray:
    """A C-contiguous array of `dtype` (the same array when it already is one)."""
    return np.ascontiguousarray(array, dtype=dtype)


def nonfinite(array: NDArray) -> bool:
    return not bool(np.isfinite(array).all())
