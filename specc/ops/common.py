"""Attribute schemas shared by several layer families, and their normalisers."""

from __future__ import annotations

from typing import Any, Literal

from specc.ops.base import Json, Problem

# floor and ceil name the functions of symbolic dims, so they cannot name a dim themselves.
IDENTIFIER = r"^(?!(?:floor|ceil)$)[A-Za-z_][A-Za-z0-9_]*$"
NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"  # no dots: weights are keyed "<layer>.<param>"
MAX_DIM = 2**31 - 1
# NumPy arrays have at most 32 axes (64 since NumPy 2), one of which is the batch.
MAX_RANK = 31

POSITIVE_INT: Json = {"type": "integer", "minimum": 1, "maximum": MAX_DIM}
NONNEG_INT: Json = {"type": "integer", "minimum": 0, "maximum": MAX_DIM}
BOOL: Json = {"type": "boolean"}


def window_schema() -> Json:
    """An int, or a list with one positive int per spatial axis."""
    return {
        "description": "a positive integer, or a list with one per spatial axis",
        "oneOf": [
            POSITIVE_INT,
            {"type": "array", "items": POSITIVE_INT, "minItems": 1, "maxItems": 3},
        ],
    }


KERNEL = window_schema()
STRIDE = window_schema()
DILATION = window_schema()
POOL = window_schema()

PAIR: Json = {"type": "array", "items": NONNEG_INT, "minItems": 2, "maxItems": 2}
EXPLICIT_PADDING: Json = {
    "description": "a non-negative integer, or a list with one entry per spatial axis "
    "(an integer, or a [before, after] pair)",
    "oneOf": [
        NONNEG_INT,
        {"type": "array", "minItems": 1, "maxItems": 3, "items": {"oneOf": [NONNEG_INT, PAIR]}},
    ],
}
PADDING: Json = {
    "description": "'valid', 'same', a non-negative integer, or a list with one entry per "
    "spatial axis (an integer, or a [before, after] pair)",
    "oneOf": [{"enum": ["valid", "same"]}, *EXPLICIT_PADDING["oneOf"]],
}
MODE_PADDING: Json = {"description": "'valid' or 'same'", "enum": ["valid", "same"]}
CAUSAL_PADDING: Json = {
    "description": "'valid', 'same', 'causal', a non-negative integer, or a list with one entry "
    "per spatial axis (an integer, or a [before, after] pair)",
    "oneOf": [{"enum": ["valid", "same", "causal"]}, *EXPLICIT_PADDING["oneOf"]],
}

Window = int | tuple[int, ...]
PaddingValue = str | int | tuple[Any, ...]
Pads = tuple[tuple[int, int], ...] | Literal["same"]


def per_axis(value: Window, n: int, attr: str) -> tuple[int, ...]:
    """Spread an int over `n` spatial axes, or check a list has exactly `n` entries."""
    if isinstance(value, int):
        return (value,) * n
    if len(value) != n:
        raise Problem("S107", _length_message(attr, list(value), n), attr)
    return tuple(value)


def _length_message(attr: str, value: list[object], n: int) -> str:
    entries = "1 entry" if len(value) == 1 else f"{len(value)} entries"
    axes = "1 spatial axis" if n == 1 else f"{n} spatial axes"
    return f"{attr} has {entries} {value}; this layer has {axes}"


def explicit_pads(
    value: PaddingValue, n: int, attr: str = "padding"
) -> tuple[tuple[int, int], ...]:
    """Explicit padding as one (before, after) pair per spatial axis."""
    if isinstance(value, int):
        return ((value, value),) * n
    assert isinstance(value, tuple)
    if len(value) != n:
        raise Problem("S107", _length_message(attr, list(value), n), attr)
    return tuple((p, p) if isinstance(p, int) else (p[0], p[1]) for p in value)


def pads(value: PaddingValue, n: int) -> Pads:
    """Padding as 'same' or explicit pairs; 'valid' is zero padding."""
    if value == "same":
        return "same"
    if value == "valid":
        return ((0, 0),) * n
    return explicit_pads(value, n)


AXES: Json = {
    "description": "an axis, or a list of distinct axes, counted without the batch axis "
    "(negative from the end)",
    "oneOf": [
        {"type": "integer"},
        {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": MAX_RANK},
    ],
}


def sample_axes(
    value: int | tuple[int, ...], rank: int, op: str, attr: str = "axis"
) -> tuple[int, ...]:
    """Per-sample axes (an int or a list, negative from the end) as sorted non-negative ones;
    S106 for an axis out of range or listed twice."""
    given = (value,) if isinstance(value, int) else tuple(value)
    for axis in given:
        if not -rank <= axis < rank:
            # Keras counts the batch axis: its axis `rank` of a channels-last map is -1 here.
            meant = (
                f"; Keras's axis {axis}, which counts the batch axis, is axis {axis - 1} here "
                "(or -1), the last"
                if axis == rank
                else ""
            )
            raise Problem(
                "S106",
                f"{op}: axis {axis} is out of range for rank {rank}: axes are counted without "
                f"the batch axis, from 0 to {rank - 1} (or -{rank} to -1){meant}",
                attr,
            )
    axes = sorted(a % rank for a in given)
    if len(set(axes)) != len(axes):
        raise Problem("S106", f"{op}: axis {list(given)} names an axis twice", attr)
    return tuple(axes)
