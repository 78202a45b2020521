"""SARIF output validates against the SARIF 2.1.0 schema and carries what GitHub code scanning
reads: rules with help, results with a rule, a level and a relative location with a region.

tests/data/sarif/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata 01) schema, vendored
so that the test needs no network."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from typer.testing import CliRunner

from specc.cli import app
from specc.diagnostics import CATALOGUE
from specc.report.sarif import artifact_uri

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif" / "sarif-schema-2.1.0.json"
HEAD = "specc: 1\nname: t\ninputs:\n  x: [31, 31, 3]\nlayers:\n"
FILES = {
    "specs/strided.yaml": HEAD
    + "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}\n",
    "specs/deep/point wise.yaml": HEAD + "  - {name: conv1, type: conv2d, filters: 8, kernel: 1}\n",
    "specs/twice.yaml": HEAD + "  - {name: a, type: relu}\n  - {name: a, type: relu}\n",
    "specs/clean.yaml": HEAD
    + "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}\n",
}


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(app, ["check", "specs", "--format", "sarif", "--select", "ALL"])
    assert result.exit_code == 1  # twice.yaml has an error
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_sarif_validates_against_the_schema(
    log: dict[str, Any], validator: Draft4Validator
) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_an_empty_run_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: Draft4Validator
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(FILES["specs/clean.yaml"])
    data = json.loads(
        CliRunner().invoke(app, ["check", "a.yaml", "-f", "sarif", "--select", "ALL"]).output
    )
    validator.validate(data)
    assert data["runs"][0]["results"] == []


def test_the_validator_rejects_a_broken_log(
    log: dict[str, Any], validator: Draft4Validator
) -> None:
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log)


def test_tool_driver_lists_every_code_as_a_rule(log: dict[str, Any]) -> None:
    (run,) = log["runs"]
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    driver = run["tool"]["driver"]
    assert driver["name"] == "specc" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(CATALOGUE)
    w101 = next(r for r in rules if r["id"] == "W101")
    assert w101["name"] == "stride-skips-input"
    assert w101["defaultConfiguration"] == {"level": "warning"}
    assert w101["shortDescription"]["text"] == CATALOGUE["W101"].summary
    assert w101["fullDescription"]["text"] == CATALOGUE["W101"].why
    assert "Bad:" in w101["help"]["text"] and "```yaml" in w101["help"]["markdown"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert (levels["E001"], levels["S104"], levels["I102"]) == ("error", "error", "note")


def test_results_have_rule_level_message_and_relative_region(log: dict[str, Any]) -> None:
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    seen = []
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        seen.append(
            (
                result["ruleId"],
                result["level"],
                physical["artifactLocation"]["uri"],
                physical["region"]["startLine"],
                physical["region"]["startColumn"],
            )
        )
    assert seen == [
        ("I102", "note", "specs/deep/point%20wise.yaml", 6, 53),
        ("W101", "warning", "specs/strided.yaml", 6, 64),
        ("S003", "error", "specs/twice.yaml", 7, 12),
    ]


def test_notes_with_a_place_become_related_locations(log: dict[str, Any]) -> None:
    duplicate = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "S003")
    (related,) = duplicate["relatedLocations"]
    region = related["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (6, 5)
    assert related["message"]["text"]


def test_artifact_uri_is_relative_with_forward_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_uri("./specs/a.yaml") == "specs/a.yaml"
    assert artifact_uri(str(tmp_path / "specs" / "a.yaml")) == "specs/a.yaml"
    assert artifact_uri(os.path.join("specs", "b c.yml")) == "specs/b%20c.yml"
