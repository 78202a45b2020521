"""Hostile input, round 2, through the real `specc` process: the cost of any input is bounded,
no output format can be injected into, and no file is ever lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import assert_bounded, specc

FORMATS = ("text", "concise", "json", "sarif", "github")


# -- 1. output linear in the input ------------------------------------------------------------
def _duplicate_keys(n: int) -> str:
    """One long flow mapping with `n` duplicate keys on one line."""
    keys = ", ".join("a: 1" for _ in range(n))
    return (
        f"specc: 1\nname: t\ninputs: {{x: [4]}}\nlayers:\n  - {{type: relu}}\nextra: {{{keys}}}\n"
    )


def _unknown_attributes(n: int) -> str:
    """`n` layers on one line, each with an unknown attribute: many codes, one line."""
    layers = ", ".join(f"{{type: relu, bogus{i}: 1}}" for i in range(n))
    return f"specc: 1\nname: t\ninputs: {{x: [4]}}\nlayers: [{layers}]\n"


def _aliased_long_value(n: int) -> str:
    """A 100,000-character reference, aliased by `n` layers: each finding quotes it."""
    layers = "".join("  - {type: relu, inputs: *far}\n" for _ in range(n))
    return f"specc: 1\nname: t\ninputs: {{x: [4]}}\nfar: &far {'z' * 100_000}\nlayers:\n{layers}"


HOSTILE = {
    "duplicate_keys": lambda: _duplicate_keys(20_000),
    "unknown_attributes": lambda: _unknown_attributes(4_000),
    "aliased_long_value": lambda: _aliased_long_value(2_000),
}
CASES = [
    *[("duplicate_keys", fmt) for fmt in FORMATS],
    ("unknown_attributes", "text"),
    ("aliased_long_value", "json"),
]


@pytest.mark.parametrize(("case", "fmt"), CASES)
def test_check_output_stays_linear(case: str, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HOSTILE[case](), encoding="utf-8")
    done = specc("check", path, "--format", fmt)
    assert_bounded(done, (case, fmt))
    assert done.code == 1
    assert len(done.stdout) < 600_000, len(done.stdout)  # each finding's text is bounded


@pytest.mark.parametrize("command", ["report", "explain", "graph", "plan", "run"])
def test_every_spec_command_stays_linear(command: str, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(_duplicate_keys(20_000), encoding="utf-8")
    done = specc(command, path)
    assert_bounded(done, command)
    assert done.code == 1
    assert len(done.stderr) < 100_000, len(done.stderr)


def test_a_long_line_is_clipped_around_the_column(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(_duplicate_keys(20_000), encoding="utf-8")
    done = specc("check", path)
    shown = [line for line in done.stdout.splitlines() if line.startswith(" 6 | ")]
    assert shown and all(len(line) < 200 for line in shown)
    carets = [line for line in done.stdout.splitlines() if line.strip().endswith("^")]
    findings = [line for line in done.stdout.splitlines() if ": E003 " in line]
    assert len(findings) == 10 == len(carets)  # at most ten findings of one line are shown
    for finding, source, caret in zip(findings, shown, carets, strict=True):
        col = int(finding.split(":")[2])
        # the caret points at the `a` of the duplicate key in the clipped line
        at = caret.index("^")
        assert source[at] == "a", (col, source, caret)
    assert "19,989 more findings on line 6 not shown" in done.stdout
    assert done.stdout.rstrip().endswith("1 file, 19999 errors")
