"""Lowering a checked spec to a plan of NumPy steps, and running it (the only numpy importer).

Importing this package stays cheap: the numpy-backed parts load on first use.
"""

from __future__ import annotations

from typing import Any

from specc.lower.errors import DataNote, DataWarning, RunError, SpecError

__all__ = ["DataNote", "DataWarning", "Plan", "RunError", "SpecError"]


def __getattr__(name: str) -> Any:
    if name == "Plan":
        from specc.lower.plan import Plan

        return Plan
    raise AttributeError(name)
