"""Limits: the bounds that keep a hostile or broken spec from exhausting time or memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Every bound is checked before the work it guards, so going over one costs little.

    The loader checks the first four while it reads; shape inference checks `max_elements`
    for every input, output and weight tensor whose size is a known number.
    """

    max_bytes: int = 10 * 1024 * 1024  # file size
    max_nodes: int = 1_000_000  # YAML nodes after alias expansion (billion-laughs guard)
    max_depth: int = 64  # nesting depth of lists and mappings
    max_layers: int = 10_000  # entries of `layers:`
    max_elements: int = 2**40  # elements of one per-sample tensor (4 TiB of float32)


DEFAULT_LIMITS = Limits()
# The deepest nesting any configuration may allow: the schema's walks recurse once or twice per
# level, and Python's stack holds about a thousand frames.
MAX_DEPTH = 256
