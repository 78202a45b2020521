"""Lint: design rules over the IR and inferred shapes, and the settings that filter findings.

Importing this package registers every rule (W and I codes) in the catalogue.
"""

from __future__ import annotations

from specc.lint import budgets, dense, graph, order, windows
from specc.lint.engine import apply, lint
from specc.lint.registry import RULES, Context, Finding, Rule, rule
from specc.lint.settings import ALL, DEFAULT, Settings

__all__ = [
    "ALL",
    "DEFAULT",
    "RULES",
    "Context",
    "Finding",
    "Rule",
    "Settings",
    "apply",
    "budgets",
    "dense",
    "graph",
    "lint",
    "order",
    "rule",
    "windows",
]
