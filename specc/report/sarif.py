"""Diagnostics as SARIF 2.1.0, the format GitHub code scanning reads."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from specc import __version__
from specc.diagnostics import CATALOGUE, Code, Diagnostic, Severity
from specc.report.rules import help_markdown, help_text
from specc.source import Span

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """One run of specc: every catalogued code as a rule, every diagnostic as a result."""
    codes = sorted(CATALOGUE)
    index = {code: i for i, code in enumerate(codes)}
    driver = {
        "name": "specc",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_rule(CATALOGUE[code]) for code in codes],
    }
    results = [_result(d, index) for d in diagnostics]
    run = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(code: Code) -> dict[str, Any]:
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": code.why or code.summary},
        "help": {"text": help_text(code), "markdown": help_markdown(code)},
        "defaultConfiguration": {"level": LEVELS[code.severity]},
        "properties": {"tags": [_family(code.code)]},
    }


def _family(code: str) -> str:
    return {"E": "schema", "S": "shape", "W": "design", "I": "info"}.get(code[:1], "other")


def _result(d: Diagnostic, index: dict[str, int]) -> dict[str, Any]:
    plain = [note.message for note in d.notes if note.span is None]
    text = "\n".join([d.message, *(f"note: {message}" for message in plain)])
    result: dict[str, Any] = {
        "ruleId": d.code,
        "level": LEVELS[d.severity],
        "message": {"text": text},
        "locations": [_location(d.span)],
    }
    if d.code in index:
        result["ruleIndex"] = index[d.code]
    related = [
        {"id": i, "message": {"text": note.message}, **_location(note.span)}
        for i, note in enumerate(d.notes)
        if note.span is not None
    ]
    if related:
        result["relatedLocations"] = related
    return result


def _location(span: Span | None) -> dict[str, Any]:
    if span is None:
        return {"physicalLocation": {"artifactLocation": {"uri": "."}}}
    region = {"startLine": span.line, "startColumn": span.col}
    artifact = {"uri": artifact_uri(span.path), "uriBaseId": "%SRCROOT%"}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def artifact_uri(path: str) -> str:
    """A relative URI with forward slashes: code scanning resolves it against the checkout."""
    if os.path.isabs(path):
        with contextlib.suppress(ValueError):  # another drive on Windows: keep it as given
            path = os.path.relpath(path)
    path = os.path.normpath(path).replace(os.sep, "/")
    return quote(path.removeprefix("./"), safe="/")
