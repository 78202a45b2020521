"""Byte counts as text, one way everywhere: 512 B, 3.10 KiB, 44.7 MiB, or `40*H*W B`."""

from __future__ import annotations

from specc.dims import Dim, format_dim

_UNITS = ("KiB", "MiB", "GiB", "TiB")


def format_bytes(size: Dim) -> str:
    """Binary units with three significant digits or more (1.52 MiB, 958.0 KiB, 24.0 GiB);
    under 1 KiB the exact count (1,000 B); a symbolic count as its expression in bytes."""
    if not isinstance(size, int):
        return f"{format_dim(size)} B"
    if abs(size) < 1024:
        return f"{size:,} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if abs(value) < 1024 or unit == _UNITS[-1]:
            break
    return f"{value:.2f} {unit}" if abs(value) < 10 else f"{value:,.1f} {unit}"
