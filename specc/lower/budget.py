"""The executor's memory budget: sizes written by people, and the default (half of the RAM)."""

from __future__ import annotations

import os
import re

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*\Z", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from '800M', '1.5GiB', '2g', '4096' (binary units); ValueError otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(
            f"invalid size {text!r}: write a number of bytes with an optional unit "
            "(K, M, G, T), e.g. 800M or 2GiB"
        )
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if value >= 2.0**63:  # far beyond any machine; and float('1' * 400) is infinite
        raise ValueError(f"invalid size {text[:40]!r}: it must be below 8 EiB")
    if value < 1:
        raise ValueError(f"invalid size {text!r}: it must be at least one byte")
    return int(value)


def default_budget() -> int | None:
    """Half of the machine's physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return None
