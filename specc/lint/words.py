"""Phrases that rule messages share: axes, their units, counts and kernel sizes."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

# What one index of each spatial axis is called, by the number of spatial axes.
_UNITS = {1: ("step",), 2: ("row", "column"), 3: ("slice", "row", "column")}


def unit(spatial: int, axis: int, count: int = 2) -> str:
    """`row`, `rows`, `column` ... for axis `axis` of a layer with `spatial` axes."""
    word = _UNITS.get(spatial, ())[axis] if axis < len(_UNITS.get(spatial, ())) else "position"
    return word if count == 1 else word + "s"


def units(spatial: int, axes: Sequence[int], count: int = 2) -> str:
    """`rows`, `rows and columns`, `slices, rows and columns`."""
    return join([unit(spatial, axis, count) for axis in axes])


def axes_label(axes: Sequence[int]) -> str:
    """`axis 0`, `axes 0 and 1`, `axes 0, 1 and 2`."""
    if len(axes) == 1:
        return f"axis {axes[0]}"
    return "axes " + join([str(axis) for axis in axes])


def join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def is_are(count: int) -> str:
    return "is" if count == 1 else "are"


def size_label(sizes: Sequence[int]) -> str:
    """A window's size as people write it: `3-wide` in 1-D, `3x3`, `1x1x1`."""
    if len(sizes) == 1:
        return f"{sizes[0]}-wide"
    return "x".join(str(size) for size in sizes)


def group_axes(keys: Sequence[K | None]) -> list[tuple[K, list[int]]]:
    """Axes that share the same facts, so one sentence can describe them (None: no finding)."""
    groups: dict[K, list[int]] = {}
    for axis, key in enumerate(keys):
        if key is not None:
            groups.setdefault(key, []).append(axis)
    return list(groups.items())
