"""Lint: design rules over the IR and inferred shapes, and the settings that filter findings.

Importing this package registers every rule (W and I codes) in the catalogue.
"""

from __future__ import annotations

from specc.lint import budgets, dense, graph, order, windows
from specc.lint.engine import apply, findings, lint
from specc.lint.registry import RULES, Context, Finding, Rule, rule
from specc.lint.settings import ALL, DEFAULT, Settings
from specc.lint.suppress import unused_suppressions

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
    "findings",
    "graph",
    "lint",
    "order",
    "rule",
    "unused_suppressions",
    "windows",
]
