"""The rule catalogue documents itself: every rule has docs and examples, each bad example
triggers its rule and each good one does not, and docs/linting.md matches the registry."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import specc.codes  # noqa: F401 - registers the E and S codes
from specc.api import check_text
from specc.diagnostics import CATALOGUE, Severity
from specc.lint import RULES, Rule, Settings
from specc.lint.settings import ALL
from specc.report import rules as render

DOCS = Path(__file__).resolve().parent.parent / "docs" / "linting.md"
BEGIN, END = "<!-- begin: rules -->", "<!-- end: rules -->"


def codes_of(text: str, rule: Rule) -> list[str]:
    result = check_text(
        text, "example.yaml", settings=Settings(**{"select": (ALL,), **rule.options})
    )
    return [d.code for d in result.diagnostics]


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_is_documented(code: str) -> None:
    entry = RULES[code].code
    assert CATALOGUE[code] is entry
    assert re.fullmatch(r"[WI]\d{3}", code)
    assert (code[0] == "I") == (entry.severity is Severity.INFO)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", entry.name)
    assert entry.summary.endswith(".") and "\n" not in entry.summary
    assert len(entry.why) > 80
    assert entry.bad and entry.good and entry.bad != entry.good


@pytest.mark.parametrize("code", sorted(RULES))
def test_bad_example_triggers_the_rule_and_good_example_does_not(code: str) -> None:
    rule = RULES[code]
    assert code in codes_of(rule.code.bad, rule)
    good = codes_of(rule.code.good, rule)
    assert code not in good
    assert [c for c in good if CATALOGUE[c].severity is not Severity.INFO] == []


def test_codes_are_unique_in_name_too() -> None:
    names = [entry.name for entry in CATALOGUE.values()]
    assert len(names) == len(set(names))


def test_rules_cover_every_family() -> None:
    families = {code[:2] for code in RULES}
    assert {"W1", "W2", "W3", "W4", "W5", "I1"} <= families


def test_docs_show_the_generated_catalogue() -> None:
    """docs/linting.md carries the output of `specc rules --format markdown` between markers.
    After adding or changing a code, regenerate it: SPECC_UPDATE_DOCS=1 pytest -k catalogue."""
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    fresh = render.markdown(render.catalogue())
    if os.environ.get("SPECC_UPDATE_DOCS"):
        DOCS.write_text(f"{text[:start]}\n{fresh}{text[end:]}", encoding="utf-8")
        return
    assert text[start:end].strip("\n") == fresh.strip("\n"), (
        "stale: SPECC_UPDATE_DOCS=1 pytest -k catalogue"
    )
