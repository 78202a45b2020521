"""SARIF output validates against the SARIF 2.1.0 schema and carries what GitHub code scanning
reads: rules with help, results with a rule, a level and a relative location with a region.

tests/data/sarif/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata 01) schema, vendored
so that the test needs no network. jsonschema checks the schema's `uri` and `uri-reference`
formats only with the optional rfc3987 package, so the validator here registers its own strict
RFC 3986 checkers for them."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker
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

# RFC 3986, appendix A: URI and relative-ref (a URI-reference is either).
_PCT = r"%[0-9A-Fa-f]{2}"
_NC = rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|{_PCT})"  # a pchar other than ':'
_PCHAR = rf"(?:{_NC}|:)"
_AUTHORITY = (
    rf"(?:(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|{_PCT})*@)?"  # userinfo
    rf"(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|{_PCT})*)"  # host
    r"(?::[0-9]*)?"  # port
)
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?://{_AUTHORITY}(?:/{_PCHAR}*)*|(?:{_PCHAR}|/)*){_TAIL}"
)
# A relative reference: `//authority/path`, an absolute path, or a path whose first segment
# has no ':' (so that it cannot be read as a scheme).
_RELATIVE = re.compile(
    rf"(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/(?:{_PCHAR}|/)*|{_NC}+(?:/(?:{_PCHAR}|/)*)?|){_TAIL}"
)


def strict_format_checker() -> FormatChecker:
    checker = FormatChecker()  # an instance's own table: registering here changes no other
    checker.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.fullmatch(value)))
    checker.checks("uri-reference")(
        lambda value: (
            not isinstance(value, str) or bool(_URI.fullmatch(value) or _RELATIVE.fullmatch(value))
        )
    )
    return checker


def col(text: str, line: int, token: str) -> int:
    """The 1-based column where `token` first appears on `line`."""
    return text.splitlines()[line - 1].index(token) + 1


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=strict_format_checker())


def sarif(*args: str, code: int) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["check", *args, "--format", "sarif"])
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text) if name.endswith(".toml") else text)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, FILES)
    return sarif("specs", "--select", "ALL", code=1)  # twice.yaml has an error


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
    data = sarif("a.yaml", "--select", "ALL", code=0)
    validator.validate(data)
    assert data["runs"][0]["results"] == []


def test_the_validator_rejects_a_broken_log(
    log: dict[str, Any], validator: Draft4Validator
) -> None:
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log)


@pytest.mark.parametrize(
    "uri",
    [
        "specs/a b.yaml",
        "specs\\a.yaml",
        "specs/é.yaml",
        "specs/a%2.yaml",
        "specs/a%zz.yaml",
        "1a:b",
    ],
)
def test_the_validator_rejects_an_artifact_uri_that_is_no_uri_reference(
    log: dict[str, Any], validator: Draft4Validator, uri: str
) -> None:
    assert validator.is_valid(log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    artifact["artifactLocation"]["uri"] = uri
    assert not validator.is_valid(log)


def test_the_uri_checkers_accept_and_reject_by_rfc_3986() -> None:
    checker = strict_format_checker()
    good = ["specs/a.yaml", "specs/point%20wise.yaml", "../a.yaml", "/a", "", "a?q=1#f", "."]
    assert all(checker.conforms(uri, "uri-reference") for uri in good)
    assert checker.conforms("https://json.schemastore.org/sarif-2.1.0.json", "uri")
    assert checker.conforms("file:///C:/specs/a.yaml", "uri")
    assert not checker.conforms("specs/a.yaml", "uri")  # a uri needs a scheme
    assert not checker.conforms("https://example.com/a b", "uri")
    assert not checker.conforms("ex ample:a", "uri-reference")


def test_a_path_with_a_space_and_a_non_ascii_letter_is_percent_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: Draft4Validator
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"spécs/a b.yaml": FILES["specs/strided.yaml"]})
    data = sarif("spécs", code=0)
    validator.validate(data)
    (result,) = data["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    # é is U+00E9, C3 A9 in UTF-8; a space is 20.
    assert uri == "sp%C3%A9cs/a%20b.yaml"


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


def locations(result: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """(uri, uriBaseId, line, column) of each of a result's locations."""
    rows = []
    for location in result["locations"]:
        physical = location["physicalLocation"]
        artifact, region = physical["artifactLocation"], physical["region"]
        rows.append(
            (artifact["uri"], artifact["uriBaseId"], region["startLine"], region["startColumn"])
        )
    return rows


def test_results_have_rule_level_message_and_relative_region(log: dict[str, Any]) -> None:
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    seen = []
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (location,) = locations(result)
        seen.append((result["ruleId"], result["level"], *location))
    pointwise, strided, twice = (
        FILES[f"specs/{name}.yaml"] for name in ("deep/point wise", "strided", "twice")
    )
    # The findings point at the kernel of the 1x1 convolution, the stride of the strided one and
    # the second use of the name `a`; paths are relative to the run's folder, whose URI base
    # code scanning resolves to the checkout.
    assert seen == [
        ("I102", "note", "specs/deep/point%20wise.yaml", "%SRCROOT%", 6, col(pointwise, 6, "1}")),
        ("W101", "warning", "specs/strided.yaml", "%SRCROOT%", 6, col(strided, 6, "4}")),
        ("S003", "error", "specs/twice.yaml", "%SRCROOT%", 7, col(twice, 7, "a,")),
    ]


def test_notes_with_a_place_become_related_locations(log: dict[str, Any]) -> None:
    duplicate = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "S003")
    (related,) = duplicate["relatedLocations"]
    physical = related["physicalLocation"]
    region = physical["region"]
    # The first `a` is the layer on line 6, whose mapping starts at its `{`.
    assert (region["startLine"], region["startColumn"]) == (
        6,
        col(FILES["specs/twice.yaml"], 6, "{"),
    )
    assert physical["artifactLocation"] == {"uri": "specs/twice.yaml", "uriBaseId": "%SRCROOT%"}
    assert related["message"]["text"]
    # SARIF 3.28.2: a location's id is a non-negative integer, unique within its result.
    ids = [r["id"] for r in duplicate["relatedLocations"]]
    assert all(isinstance(i, int) and i >= 0 for i in ids) and len(set(ids)) == len(ids)


def test_notes_without_a_place_are_part_of_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A skip connection over a halving: the branches agree only for even T, a note with no
    # place of its own.
    text = "specc: 1\nname: t\ninputs:\n  x: [T, 8, 4]\nlayers:\n"
    text += "  - {name: down, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}\n"
    text += "  - {name: up, type: upsample2d}\n  - {name: skip, type: add, inputs: [x, up]}\n"
    write(tmp_path, {"m.yaml": text})
    monkeypatch.chdir(tmp_path)
    listed = json.loads(CliRunner().invoke(app, ["check", "m.yaml", "-f", "json"]).output)
    (finding,) = listed
    assert finding["code"] == "S102" and len(finding["notes"]) == 2
    assert [n["line"] for n in finding["notes"]] == [None, None]
    (result,) = sarif("m.yaml", code=1)["runs"][0]["results"]
    assert result["ruleId"] == "S102" and "relatedLocations" not in result
    notes = [f"note: {n['message']}" for n in finding["notes"]]
    assert result["message"]["text"].splitlines() == [finding["message"], *notes]


def test_a_configured_severity_is_the_result_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: Draft4Validator
) -> None:
    # 28 - 3 = 25 is odd, so a stride of 2 leaves the last row and column unread: W102.
    text = "specc: 1\nname: t\ninputs:\n  x: [28, 28, 1]\nlayers:\n"
    text += "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}\n"
    config = '[tool.specc]\nseverity = { W102 = "error" }\n'
    write(tmp_path, {"pyproject.toml": config, "a.yaml": text})
    monkeypatch.chdir(tmp_path)
    data = sarif("a.yaml", code=1)  # an error fails the run
    validator.validate(data)
    (result,) = data["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("W102", "error")
    assert locations(result) == [("a.yaml", "%SRCROOT%", 6, col(text, 6, "2}"))]
    rules = data["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["defaultConfiguration"] == {"level": "warning"}


def test_artifact_uri_is_relative_with_forward_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_uri("./specs/a.yaml") == "specs/a.yaml"
    assert artifact_uri(str(tmp_path / "specs" / "a.yaml")) == "specs/a.yaml"
    assert artifact_uri(os.path.join("specs", "b c.yml")) == "specs/b%20c.yml"
