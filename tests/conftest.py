"""Shared helpers: check a YAML snippet and look at what came back."""

from __future__ import annotations

import textwrap
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from specc.api import Checked, check_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# Values for the examples' symbolic dims when they run (H and W multiples of 16 for the U-Net).
EXAMPLE_DIMS = {"T": 37, "H": 32, "W": 48}


def example_dims(path: Path) -> dict[str, int]:
    """EXAMPLE_DIMS for the symbols the example at `path` has."""
    from specc.dims import symbols

    checked = check_text(path.read_text(), str(path))
    assert checked.shapes is not None, path
    found = {s for t in checked.shapes.types.values() if t for d in t.shape for s in symbols(d)}
    assert found <= set(EXAMPLE_DIMS), f"give the symbols {found - set(EXAMPLE_DIMS)} values"
    return {k: v for k, v in EXAMPLE_DIMS.items() if k in found}


def spec(body: str, inputs: str = "x: [28, 28, 3]") -> str:
    """A complete spec around a `layers:` body (the body is dedented and indented under layers)."""
    layers = textwrap.indent(textwrap.dedent(body).strip("\n"), "  ")
    return f"specc: 1\nname: t\ninputs:\n  {inputs}\nlayers:\n{layers}\n"


def run(text: str) -> Checked:
    return check_text(text, "t.yaml")


def codes_at(text: str) -> list[tuple[str, int, int]]:
    """The (code, line, col) of every diagnostic, in order."""
    result = run(text)
    return [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span]


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


# "Fails fast" is asserted as memory, not time: Python allocations (NumPy's included) count the
# same on a loaded machine, and doing the guarded work would allocate far more than this.
FAST_PEAK = 64 * 1024 * 1024


def peak_bytes(fn: Callable[[], Any]) -> tuple[Any, int]:
    """`fn()` and the peak of the Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
