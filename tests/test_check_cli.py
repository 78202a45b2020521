"""`specc check` and `specc rules` through the real CLI: paths, formats, configuration,
suppression comments and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import specc.cli
from specc.cli import app

runner = CliRunner()

HEAD = "specc: 1\nname: t\ninputs:\n  x: [31, 31, 3]\nlayers:\n"
STRIDED = HEAD + "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}\n"
CLEAN = HEAD + "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}\n"
POINTWISE = HEAD + "  - {name: conv1, type: conv2d, filters: 8, kernel: 1}\n"
BROKEN = HEAD + "  - {name: conv1, type: conv2d, filters: 8, kernel: 40}\n"  # S104
NOT_A_SPEC = "on: [push]\njobs: {}\n"


def col(text: str, line: int, token: str) -> int:
    """The 1-based column where `token` first appears on `line`."""
    return text.splitlines()[line - 1].index(token) + 1


W101_COL = col(STRIDED, 6, "4}")  # W101 points at the stride's value
I102_COL = col(POINTWISE, 6, "1}")  # I102 at the kernel's value
LAYER_COL = col(CLEAN, 6, "{")  # the budgets point at the layer's mapping


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if name.endswith(".toml") else text)


def check(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["check", *args])


def found(output: str) -> list[tuple[str, int, int, str]]:
    """(path, line, column, code) from concise output."""
    rows = []
    for line in output.splitlines():
        head, sep, _ = line.partition(": ")
        parts = head.rsplit(":", 2)
        if sep and len(parts) == 3 and parts[1].isdigit():
            rows.append((parts[0], int(parts[1]), int(parts[2]), _.split(" ", 1)[0]))
    return rows


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- output and exit codes --------------------------------------------------------------------
def test_clean_file_exits_0_with_a_summary(tree: Path) -> None:
    write(tree, {"a.yaml": CLEAN})
    result = check("a.yaml")
    assert result.exit_code == 0, result.output
    assert result.output == "1 file, no problems\n"


def test_text_shows_relative_path_source_line_and_caret(tree: Path) -> None:
    write(tree, {"specs/a.yaml": STRIDED})
    result = check("specs/a.yaml")
    assert result.exit_code == 0  # a warning does not fail by default
    lines = result.output.splitlines()
    assert lines[0].startswith(f"specs/a.yaml:6:{W101_COL}: W101 conv1: stride 4 exceeds")
    assert lines[2] == " 6 |   - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}"
    assert lines[3] == "   | " + " " * (W101_COL - 1) + "^"
    assert lines[-1] == "1 file, 1 warning"
    assert "\x1b[" not in result.output


@pytest.mark.parametrize(
    ("text", "fail_on", "code"),
    [
        (STRIDED, None, 0),
        (STRIDED, "warning", 1),
        (STRIDED, "error", 0),
        (POINTWISE, "warning", 0),
        (POINTWISE, "info", 1),
        (BROKEN, None, 1),
        (CLEAN, "info", 0),
    ],
)
def test_fail_on_sets_the_exit_code(tree: Path, text: str, fail_on: str | None, code: int) -> None:
    write(tree, {"a.yaml": text})
    result = check("--select", "ALL", "a.yaml", *(["--fail-on", fail_on] if fail_on else []))
    assert result.exit_code == code, result.output


def test_unreadable_file_exits_2_and_still_checks_the_others(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED})
    result = check("a.yaml", "missing.yaml", "-f", "concise")
    assert result.exit_code == 2
    assert found(result.output) == [("a.yaml", 6, W101_COL, "W101"), ("missing.yaml", 1, 1, "E001")]
    assert result.output.splitlines()[-1] == "2 files, 1 error, 1 warning"


@pytest.mark.parametrize(
    "args",
    [
        ["--select", "W9"],
        ["--ignore", "X1"],
        ["--format", "xml"],
        ["--fail-on", "never"],
        ["--max-params", "-1"],
        ["--config", "nope.toml"],
    ],
)
def test_usage_errors_exit_2(tree: Path, args: list[str]) -> None:
    write(tree, {"a.yaml": CLEAN})
    result = check(*args, "a.yaml")
    assert result.exit_code == 2, result.output


def test_no_path_checks_the_current_folder(tree: Path) -> None:
    write(tree, {"specs/a.yaml": STRIDED, "b.yaml": CLEAN})
    result = check("-f", "concise")
    assert found(result.output) == [("specs/a.yaml", 6, W101_COL, "W101")]
    assert result.output.splitlines()[-1] == "2 files, 1 warning"


def test_summary_counts_files_errors_warnings_and_info(tree: Path) -> None:
    write(tree, {"a.yaml": BROKEN, "b.yaml": STRIDED, "c.yaml": POINTWISE})
    result = check("--select", "ALL", "a.yaml", "b.yaml", "c.yaml", "-f", "concise")
    assert result.output.splitlines()[-1] == "3 files, 1 error, 1 warning, 1 info"


def test_concise_is_one_line_per_finding_sorted_by_path(tree: Path) -> None:
    write(tree, {"b.yaml": STRIDED, "a.yaml": POINTWISE})
    result = check("--select", "ALL", "b.yaml", "a.yaml", "--format", "concise")
    assert found(result.output) == [
        ("a.yaml", 6, I102_COL, "I102"),
        ("b.yaml", 6, W101_COL, "W101"),
    ]
    assert len(result.output.splitlines()) == 3


def test_json_format(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED})
    result = check("a.yaml", "--format", "json")
    data = json.loads(result.output)
    assert [(d["code"], d["severity"], d["path"], d["line"], d["column"]) for d in data] == [
        ("W101", "warning", "a.yaml", 6, W101_COL)
    ]
    assert set(data[0]) == {"code", "severity", "message", "path", "line", "column", "notes"}


def test_json_notes_carry_their_position(tree: Path) -> None:
    write(tree, {"a.yaml": HEAD + "  - {name: a, type: relu}\n  - {name: a, type: relu}\n"})
    data = json.loads(check("a.yaml", "-f", "json").output)
    assert [(d["code"], d["line"]) for d in data] == [("S003", 7)]
    assert [(n["path"], n["line"], n["column"]) for n in data[0]["notes"]] == [("a.yaml", 6, 5)]


def test_github_format(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED, "b.yaml": POINTWISE, "c.yaml": BROKEN})
    lines = check(
        "--select", "ALL", "a.yaml", "b.yaml", "c.yaml", "-f", "github"
    ).output.splitlines()
    assert lines[0].startswith(
        f"::warning file=a.yaml,line=6,col={W101_COL},title=W101::conv1: stride 4"
    )
    assert lines[1].startswith(f"::notice file=b.yaml,line=6,col={I102_COL},title=I102::")
    assert lines[2].startswith("::error file=c.yaml,line=6,")
    assert lines[3] == "3 files, 1 error, 1 warning, 1 info"


def test_github_format_escapes_newlines_and_percent() -> None:
    from specc.diagnostics import Diagnostic, Note, Severity
    from specc.report.formats import github
    from specc.source import Span

    d = Diagnostic("E002", Severity.ERROR, "50% bad", Span("a,b.yaml", 2, 3), (Note("see: here"),))
    assert github(d) == "::error file=a%2Cb.yaml,line=2,col=3,title=E002::50%25 bad%0Asee: here"


def test_colour_only_on_a_terminal(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tree, {"a.yaml": STRIDED})
    monkeypatch.setattr(specc.cli.check, "stdout_is_terminal", lambda: True)
    assert "\x1b[" in check("a.yaml").output
    assert "\x1b[" not in check("a.yaml", "--no-color").output


def test_no_color_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert specc.cli.common.stdout_is_terminal()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not specc.cli.common.stdout_is_terminal()


# -- paths ------------------------------------------------------------------------------------
TREE = {
    "specs/a.yaml": STRIDED,
    "specs/deep/b.yml": POINTWISE,
    "specs/deep/workflow.yaml": NOT_A_SPEC,
    "specs/notes.txt": STRIDED,
    "specs/.hidden/c.yaml": STRIDED,
    "other/d.yaml": STRIDED,
}


def test_directories_are_searched_for_specs(tree: Path) -> None:
    write(tree, TREE)
    result = check("--select", "ALL", "specs", "-f", "concise")
    assert found(result.output) == [
        ("specs/a.yaml", 6, W101_COL, "W101"),
        ("specs/deep/b.yml", 6, I102_COL, "I102"),
    ]
    assert result.output.splitlines()[-1] == "2 files, 1 warning, 1 info"


def test_dot_is_the_whole_tree(tree: Path) -> None:
    write(tree, TREE)
    paths = [p for p, *_ in found(check("--select", "ALL", ".", "-f", "concise").output)]
    assert paths == ["other/d.yaml", "specs/a.yaml", "specs/deep/b.yml"]


def test_globs_match_specs_only(tree: Path) -> None:
    write(tree, TREE)
    result = check("specs/**/*.yaml", "-f", "concise")
    assert [p for p, *_ in found(result.output)] == ["specs/a.yaml"]
    assert result.output.splitlines()[-1] == "1 file, 1 warning"


def test_a_glob_that_matches_nothing_is_an_io_error(tree: Path) -> None:
    result = check("nothing/*.yaml", "-f", "concise")
    assert result.exit_code == 2
    assert found(result.output) == [("nothing/*.yaml", 1, 1, "E001")]


def test_a_file_given_twice_is_checked_once(tree: Path) -> None:
    write(tree, TREE)
    result = check("--select", "ALL", "specs/a.yaml", "specs", "-f", "concise")
    assert result.output.splitlines()[-1] == "2 files, 1 warning, 1 info"


def test_explicit_non_spec_files_are_checked_unless_specs_only(tree: Path) -> None:
    write(tree, TREE)
    assert check("specs/deep/workflow.yaml").exit_code == 1
    result = check("specs/deep/workflow.yaml", "specs/a.yaml", "--specs-only", "-f", "concise")
    assert result.exit_code == 0
    assert [p for p, *_ in found(result.output)] == ["specs/a.yaml"]


def test_an_empty_directory_checks_nothing(tree: Path) -> None:
    (tree / "empty").mkdir()
    result = check("empty")
    assert result.exit_code == 0
    assert "no spec files found" in result.output
    assert result.output.splitlines()[-1] == "0 files, no problems"


# -- configuration ----------------------------------------------------------------------------
PYPROJECT = """\
    [project]
    name = "models"

    [tool.specc]
    ignore = ["I"]
    fail-on = "warning"
    """


def test_pyproject_is_found_by_walking_up_from_the_file(tree: Path) -> None:
    write(tree, {"repo/pyproject.toml": PYPROJECT, "repo/specs/deep/a.yaml": STRIDED})
    write(tree, {"repo/specs/pyproject.toml": "[project]\nname = 'no specc table'\n"})
    write(tree, {"repo/specs/deep/b.yaml": POINTWISE})
    result = check("repo/specs", "-f", "concise")
    assert found(result.output) == [("repo/specs/deep/a.yaml", 6, W101_COL, "W101")]  # I ignored
    assert result.exit_code == 1  # fail-on warning


def test_the_nearest_table_wins(tree: Path) -> None:
    write(tree, {"pyproject.toml": PYPROJECT, "a.yaml": POINTWISE})
    write(
        tree, {"sub/pyproject.toml": "[tool.specc]\nselect = ['W', 'I']\n", "sub/b.yaml": POINTWISE}
    )
    result = check("a.yaml", "sub/b.yaml", "-f", "concise")
    assert found(result.output) == [("sub/b.yaml", 6, I102_COL, "I102")]
    assert result.exit_code == 0  # sub's table does not set fail-on


def test_command_line_wins_over_the_configuration(tree: Path) -> None:
    write(tree, {"pyproject.toml": PYPROJECT, "a.yaml": STRIDED, "b.yaml": POINTWISE})
    assert check("a.yaml", "b.yaml", "--fail-on", "error").exit_code == 0
    result = check("a.yaml", "b.yaml", "--select", "I", "-f", "concise")
    assert [c for *_, c in found(result.output)] == ["I102"]
    assert result.exit_code == 0  # info is below the configured fail-on warning
    result = check("a.yaml", "b.yaml", "--ignore", "W101", "-f", "concise")
    assert found(result.output) == []  # --ignore adds to the configured ignore
    assert result.output.splitlines()[-1] == "2 files, no problems" and result.exit_code == 0


def test_each_file_fails_by_its_own_fail_on(tree: Path) -> None:
    write(tree, {
        "strict/pyproject.toml": "[tool.specc]\nfail-on = 'warning'\n",
        "strict/clean.yaml": CLEAN,
        "strict/strided.yaml": STRIDED,
        "lax/pyproject.toml": "[tool.specc]\nfail-on = 'error'\n",
        "lax/strided.yaml": STRIDED,
    })  # fmt: skip
    # lax's warning does not fail the run, whichever file comes first.
    result = check("strict/clean.yaml", "lax/strided.yaml", "-f", "concise")
    assert found(result.output) == [("lax/strided.yaml", 6, W101_COL, "W101")]
    assert result.exit_code == 0
    # strict's warning does.
    result = check("lax/strided.yaml", "strict/strided.yaml", "-f", "concise")
    assert [p for p, *_ in found(result.output)] == ["lax/strided.yaml", "strict/strided.yaml"]
    assert result.exit_code == 1


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_codes_on_the_command_line_may_be_lower_case(tree: Path, option: str) -> None:
    # As in the configuration (and `specc rules w101`), codes are read without regard to case.
    write(tree, {"a.yaml": STRIDED, "b.yaml": POINTWISE})
    lower = check("a.yaml", "b.yaml", option, "w1,i", "-f", "concise")
    upper = check("a.yaml", "b.yaml", option, "W1,I", "-f", "concise")
    assert lower.exit_code == upper.exit_code == 0
    assert found(lower.output) == found(upper.output)
    expected = (
        [("a.yaml", 6, W101_COL, "W101"), ("b.yaml", 6, I102_COL, "I102")]
        if option == "--select"
        else []
    )
    assert found(upper.output) == expected


def test_explicit_config_file(tree: Path) -> None:
    write(tree, {"pyproject.toml": PYPROJECT, "ci.toml": "ignore = ['W1']\n", "a.yaml": STRIDED})
    result = check("a.yaml", "--config", "ci.toml", "-f", "concise")
    assert found(result.output) == []
    assert result.output.splitlines()[-1] == "1 file, no problems"
    assert result.exit_code == 0  # nor does the pyproject's fail-on warning apply


# CLEAN's conv1 has 8 * (3 * 3 * 3 + 1) = 224 parameters and a (15, 15, 8) output:
# 15 * 15 * 8 * 4 bytes = 7200 bytes = 0.00687 MiB.
@pytest.mark.parametrize(
    ("config", "args", "expected"),
    [
        ("", ["--max-params", "224"], []),
        ("", ["--max-params", "223"], ["W501"]),
        ("max-params = 223", [], ["W501"]),
        ("max-params = 224", [], []),
        ("max-params = 223", ["--max-params", "224"], []),  # the command line wins
        ("", ["--max-activation-mb", "0.006"], ["W502"]),
        ("", ["--max-activation-mb", "0.007"], []),
        ("max-activation-mb = 0.006", [], ["W502"]),
        ("max-activation-mb = 0.006", ["--max-activation-mb", "0.007"], []),
        ("max-activation-mb = 0.007", ["--max-activation-mb", "0.006"], ["W502"]),
    ],
)
def test_budgets_from_the_command_line_and_the_configuration(
    tree: Path, config: str, args: list[str], expected: list[str]
) -> None:
    write(tree, {"a.yaml": CLEAN, "pyproject.toml": f"[tool.specc]\n{config}\n"})
    result = check("a.yaml", *args, "-f", "concise")
    assert found(result.output) == [("a.yaml", 6, LAYER_COL, code) for code in expected]
    assert result.exit_code == 0  # budgets are warnings
    assert result.output.splitlines()[-1] == (
        "1 file, 1 warning" if expected else "1 file, no problems"
    )


def test_severity_and_per_file_ignores_and_exclude(tree: Path) -> None:
    config = """\
        [tool.specc]
        severity = { W101 = "error" }
        per-file-ignores = { "legacy/*.yaml" = ["W1"] }
        exclude = ["broken"]
        """
    files = {"pyproject.toml": config, "new/a.yaml": STRIDED, "legacy/b.yaml": STRIDED}
    write(tree, {**files, "broken/c.yaml": BROKEN})
    result = check(".", "-f", "concise")
    assert found(result.output) == [("new/a.yaml", 6, W101_COL, "W101")]
    assert result.output.splitlines()[-1] == "2 files, 1 error"
    assert result.exit_code == 1


def test_patterns_match_the_file_name_alone(tree: Path) -> None:
    # Neither pattern matches a path relative to the pyproject.toml: only the file's name.
    config = """\
        [tool.specc]
        per-file-ignores = { "old.yaml" = ["W101"] }
        exclude = ["draft.yaml"]
        """
    files = {"pyproject.toml": config, "specs/deep/old.yaml": STRIDED, "specs/new.yaml": STRIDED}
    write(tree, {**files, "specs/deep/draft.yaml": BROKEN})
    result = check("specs", "-f", "concise")
    assert found(result.output) == [("specs/new.yaml", 6, W101_COL, "W101")]
    assert result.output.splitlines()[-1] == "2 files, 1 warning"
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("selct = ['W']", "unknown key 'selct'; did you mean 'select'?"),
        ("select = ['W9']", "'W9' matches no code"),
        ("fail-on = 'never'", "'fail-on' must be error, warning or info"),
        ("max-params = 1.5", "'max-params' must be a whole number"),
        ("severity = { W101 = 'fatal' }", "'fatal' is not a severity"),
        ("ignore = 3", "'ignore' must be a list of strings"),
        ("select = [", "invalid TOML"),
        ("limits = { max-layer = 3 }", "unknown limit 'max-layer'; did you mean 'max-layers'?"),
        ("limits = { max-bytes = 0 }", "'max-bytes' must be a positive whole number"),
        ("limits = { max-depth = true }", "'max-depth' must be a positive whole number"),
        ("limits = 5", "'limits' must be a table"),
    ],
)
def test_configuration_mistakes_exit_2_with_a_reason(tree: Path, table: str, words: str) -> None:
    write(tree, {"pyproject.toml": f"[tool.specc]\n{table}\n", "a.yaml": CLEAN})
    result = check("a.yaml")
    assert result.exit_code == 2
    assert words in result.output


def test_a_tool_specc_value_that_is_not_a_table(tree: Path) -> None:
    write(tree, {"pyproject.toml": "[tool]\nspecc = 1\n", "a.yaml": CLEAN})
    result = check("a.yaml")
    assert result.exit_code == 2
    assert "pyproject.toml: [tool.specc]: must be a table of settings" in result.output


@pytest.mark.parametrize("command", ["check", "report"])
def test_a_tool_value_that_is_not_a_table(tree: Path, command: str) -> None:
    write(tree, {"pyproject.toml": "tool = 1\n", "a.yaml": CLEAN})
    result = runner.invoke(app, [command, "a.yaml"])
    assert result.exit_code == 2 and "pyproject.toml: [tool] must be a table" in result.output
    write(tree, {"other.toml": "tool = 1\n"})  # a plain settings file: `tool` is no setting
    other = runner.invoke(app, ["check", "--config", "other.toml", "a.yaml"])
    assert other.exit_code == 2 and "unknown key 'tool'" in other.output


# -- stdin ------------------------------------------------------------------------------------
def test_a_spec_on_stdin(tree: Path) -> None:
    result = runner.invoke(app, ["check", "-", "-f", "concise"], input=STRIDED)
    assert found(result.output) == [("<stdin>", 6, W101_COL, "W101")]
    assert result.output.splitlines()[-1] == "1 file, 1 warning" and result.exit_code == 0
    result = runner.invoke(app, ["check", "-"], input=BROKEN)
    assert result.exit_code == 1 and "<stdin>:6:" in result.output


def test_stdin_filename_names_the_spec_and_picks_its_configuration(tree: Path) -> None:
    write(tree, {"sub/pyproject.toml": """
        [tool.specc]
        per-file-ignores = { "legacy/*.yaml" = ["W101"] }
        fail-on = "warning"
    """})  # fmt: skip
    args = ["check", "--stdin-filename", "sub/legacy/a.yaml", "-f", "concise"]
    quiet = runner.invoke(app, args, input=STRIDED)
    assert (quiet.exit_code, found(quiet.output)) == (0, [])
    assert quiet.output.splitlines()[-1] == "1 file, no problems"
    args[2] = "sub/new/a.yaml"
    loud = runner.invoke(app, args, input=STRIDED)
    assert (loud.exit_code, found(loud.output)) == (1, [("sub/new/a.yaml", 6, W101_COL, "W101")])


def test_stdin_is_read_only_alone_and_within_the_size_limit(tree: Path) -> None:
    write(tree, {"a.yaml": CLEAN})
    mixed = runner.invoke(app, ["check", "-", "a.yaml"], input=CLEAN)
    assert mixed.exit_code == 2 and "cannot be combined" in mixed.output
    named = runner.invoke(app, ["check", "--stdin-filename", "b.yaml", "a.yaml"], input=CLEAN)
    assert named.exit_code == 2
    huge = "# padding\n" * (1_100_000)  # 11 MB of comments, over the 10 MiB limit
    result = runner.invoke(app, ["check", "-", "-f", "concise"], input=huge)
    assert found(result.output) == [("<stdin>", 1, 1, "E005")] and result.exit_code == 1


# -- limits -----------------------------------------------------------------------------------
THREE_RELUS = "specc: 1\nname: t\ninputs:\n  x: [4]\nlayers:\n" + "  - {type: relu}\n" * 3


def test_configured_limits_apply_to_check_and_to_every_command(tree: Path) -> None:
    write(tree, {"a.yaml": THREE_RELUS, "pyproject.toml": """
        [tool.specc.limits]
        max-layers = 2
    """})  # fmt: skip
    result = check("a.yaml", "-f", "concise")
    assert found(result.output) == [("a.yaml", 5, 1, "E010")] and result.exit_code == 1
    stdin = runner.invoke(app, ["check", "--stdin-filename", "b.yaml"], input=THREE_RELUS)
    assert "E010" in stdin.output
    for command in (["report"], ["explain"], ["graph"], ["plan"]):
        done = runner.invoke(app, [*command, "a.yaml"])
        assert done.exit_code == 1 and "limit of 2 layers" in done.output, command
    (tree / "pyproject.toml").write_text("[tool.specc.limits]\nmax-layers = 3\n")
    assert runner.invoke(app, ["report", "a.yaml"]).exit_code == 0


def test_a_huge_size_limit_reads_only_what_is_there(tree: Path) -> None:
    from conftest import FAST_PEAK, peak_bytes

    write(tree, {"a.yaml": CLEAN, "pyproject.toml": """
        [tool.specc.limits]
        max-bytes = 1_000_000_000_000
    """})  # fmt: skip
    result, peak = peak_bytes(lambda: check("a.yaml"))
    assert result.exit_code == 0, result.output
    piped, peak_stdin = peak_bytes(lambda: runner.invoke(app, ["check", "-"], input=CLEAN))
    assert piped.exit_code == 0, piped.output
    assert max(peak, peak_stdin) < FAST_PEAK  # not a terabyte, nor a read buffer of one


def test_a_limit_can_be_raised_past_its_default(tree: Path) -> None:
    body = "specc: 1\nname: t\ninputs:\n  x: [4]\nlayers:\n" + "  - {type: relu}\n" * 10_001
    write(tree, {"big.yaml": body})
    assert found(check("big.yaml", "-f", "concise").output) == [("big.yaml", 5, 1, "E010")]
    (tree / "pyproject.toml").write_text("[tool.specc.limits]\nmax_layers = 10_001\n")
    result = check("big.yaml")
    assert result.exit_code == 0, result.output


# -- suppression ------------------------------------------------------------------------------
def test_suppression_comments_through_the_cli(tree: Path) -> None:
    line = "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}"
    write(tree, {
        "a.yaml": HEAD + line + "  # specc: ignore[W101]\n",
        "b.yaml": HEAD + line + "  # specc: ignore[W102]\n",
        "c.yaml": HEAD + line + "  # specc: ignore\n",
    })  # fmt: skip
    result = check("a.yaml", "b.yaml", "c.yaml", "--fail-on", "warning", "-f", "concise")
    # b's comment suppresses nothing (W002, at its code: after the line, 2 spaces and 16
    # characters of `# specc: ignore[`).
    unused_col = len(line) + 2 + len("# specc: ignore[") + 1
    assert found(result.output) == [
        ("b.yaml", 6, W101_COL, "W101"),
        ("b.yaml", 6, unused_col, "W002"),
    ]
    assert result.exit_code == 1
    assert check("a.yaml", "c.yaml", "--fail-on", "warning").exit_code == 0


# -- rules ------------------------------------------------------------------------------------
def test_rules_lists_every_code() -> None:
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0
    codes = [line.split()[0] for line in result.output.splitlines()]
    assert {"E001", "E102", "S001", "S104", "W101", "W501", "I101", "I102"} <= set(codes)
    assert codes.index("E001") < codes.index("S001") < codes.index("W101") < codes.index("I101")
    row = next(line for line in result.output.splitlines() if line.startswith("W101"))
    assert row.split()[1:3] == ["stride-skips-input", "warning"]


def test_rules_explains_one_code_with_examples() -> None:
    result = runner.invoke(app, ["rules", "w101"])
    assert result.exit_code == 0
    assert result.output.startswith("W101 stride-skips-input (warning)\n")
    for heading in ("Why:", "Bad:", "Good:"):
        assert f"\n{heading}\n" in result.output


def test_rules_by_prefix_and_as_json() -> None:
    listed = runner.invoke(app, ["rules", "W2"]).output.splitlines()
    assert [line.split()[0] for line in listed] == ["W201", "W202", "W203", "W204", "W205"]
    data = json.loads(runner.invoke(app, ["rules", "I", "--format", "json"]).output)
    assert [d["code"] for d in data] == ["I101", "I102"]
    assert set(data[0]) == {"code", "name", "severity", "summary", "why", "bad", "good"}


def test_rules_unknown_code_exits_2() -> None:
    result = runner.invoke(app, ["rules", "W1O1"])
    assert result.exit_code == 2
    assert "unknown code 'W1O1'; did you mean 'W101'?" in result.output


# -- one real process, as pre-commit and CI run it ----------------------------------------------
def test_real_process_exit_code_and_output(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED, "workflow.yml": NOT_A_SPEC})
    command = [sys.executable, "-m", "specc", "check", "--specs-only", "--fail-on", "warning"]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [*command, "a.yaml", "workflow.yml"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"a.yaml:6:{W101_COL}: W101 ")
    assert done.stdout.endswith("1 file, 1 warning\n")


def test_the_hook_definition_and_the_documented_local_hook_agree() -> None:
    import re

    import yaml

    root = Path(__file__).resolve().parent.parent
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    docs = (root / "docs" / "linting.md").read_text()
    found = re.findall(r"```yaml\n(.*?)```", docs, re.S)
    blocks = [yaml.safe_load(b) for b in found if "\nrepos:" in f"\n{b}"]  # pre-commit configs
    local = [
        h
        for b in blocks
        if isinstance(b, dict)
        for r in b.get("repos", [])
        if r.get("repo") == "local"
        for h in r["hooks"]
    ]
    assert len(local) == 1
    for key in ("id", "entry", "files", "require_serial"):
        assert local[0][key] == hook[key], key
    assert hook["entry"].split()[:2] == ["specc", "check"]
    assert re.search(hook["files"], "models/net.yml") and not re.search(hook["files"], "a.json")


def test_no_stdin_at_all_is_a_usage_error(tree: Path) -> None:
    # The shell closes stdin (`<&-`): no preexec_fn, which is unsafe in a threaded test process.
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m specc check - <&-', sys.executable],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 2 and "there is no stdin" in done.stderr, done.stderr


def _workflows(text: str) -> list[dict]:  # type: ignore[type-arg]
    import re

    import yaml

    found = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return [yaml.safe_load(b) for b in found if "\njobs:" in b]  # not the rules' bad examples


@pytest.mark.parametrize("doc", ["README.md", "docs/linting.md"])
def test_the_documented_actions_workflow_writes_the_sarif_it_uploads(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    root = Path(__file__).resolve().parent.parent
    (workflow,) = _workflows((root / doc).read_text())
    steps = workflow["jobs"]["check"]["steps"]
    assert workflow["permissions"]["security-events"] == "write"
    (run,) = [s["run"] for s in steps if "specc check" in s.get("run", "")]
    args, _, target = run.partition(">")
    (upload,) = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    assert upload["if"] == "always()" and upload["with"]["sarif_file"] == target.strip()
    write(tmp_path / "specs", {"net.yaml": STRIDED})
    monkeypatch.chdir(tmp_path)
    result = check(*shlex.split(args)[2:])
    assert result.exit_code == 0  # a warning does not fail the default run
    sarif = json.loads(result.stdout)
    (found,) = sarif["runs"][0]["results"]
    assert found["ruleId"] == "W101"
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "specs/net.yaml"


def test_checking_valid_specs_imports_no_heavy_module() -> None:
    # The start-up target of a one-file check (docs/performance.md) rests on this: numpy, rich
    # and jsonschema (with referencing) are imported only by the commands and errors that use them.
    code = (
        "import sys\n"
        "from specc.cli import main\n"
        "sys.argv = ['specc', 'check', '--format', 'sarif', 'examples']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = ('numpy', 'rich', 'jsonschema', 'referencing')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy), file=sys.stderr)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("config", "args", "expected"),
    [
        ("", ["--extend-select", "I102"], ["I102", "W101"]),  # added to the default E, S, W
        ('extend-select = ["I1"]\n', [], ["I102", "W101"]),
        ('select = ["W"]\nextend-select = ["I102"]\n', [], ["I102", "W101"]),
        # --select starts afresh, as in ruff: the configured extend-select goes with it...
        ('extend-select = ["I102"]\n', ["--select", "W"], ["W101"]),
        # ...but the command line's own extend-select adds to it.
        ("", ["--select", "W", "--extend-select", "i"], ["I102", "W101"]),
        ('extend-select = ["I102"]\nignore = ["I"]\n', [], ["I102", "W101"]),  # the longer wins
    ],
)
def test_extend_select_adds_to_the_selection(
    tree: Path, config: str, args: list[str], expected: list[str]
) -> None:
    both = STRIDED + "  - {name: conv2, type: conv2d, filters: 8, kernel: 1}\n"  # W101, I102
    write(tree, {"a.yaml": both, "pyproject.toml": f"[tool.specc]\n{config}"})
    result = check("a.yaml", "--output-format", "concise", *args)
    assert result.exit_code == 0, result.output
    assert sorted(code for *_, code in found(result.output)) == expected


def test_an_unknown_extend_select_code_is_a_usage_error(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED})
    assert check("a.yaml", "--extend-select", "X999").exit_code == 2
    write(tree, {"pyproject.toml": '[tool.specc]\nextend-select = ["W9"]\n'})
    assert check("a.yaml").exit_code == 2


def test_the_documented_configuration_is_valid(tree: Path) -> None:
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "linting.md").read_text()
    (example,) = re.findall(r"```toml\n(.*?)```", docs, re.S)
    write(tree, {"pyproject.toml": example, "a.yaml": STRIDED})
    result = check("a.yaml")
    assert result.exit_code == 1, result.output  # fail-on = "warning" there, and W101 fires
    assert found(result.output) == [("a.yaml", 6, W101_COL, "W101")]


def test_statistics_count_each_code_most_first(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED, "b.yaml": STRIDED, "c.yaml": POINTWISE})
    result = check(".", "--statistics", "--select", "ALL")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "2  W101  stride-skips-input (warning)",  # a.yaml and b.yaml
        "1  I102  pointwise-conv (info)",
        "3 files, 2 warnings, 1 info",
    ]
    as_json = json.loads(check(".", "--statistics", "-f", "json").stdout)
    assert as_json == [
        {"code": "W101", "name": "stride-skips-input", "severity": "warning", "count": 2}
    ]
    assert check(".", "--statistics", "--fail-on", "warning").exit_code == 1


def test_show_files_lists_what_would_be_checked(tree: Path) -> None:
    write(
        tree,
        {
            "specs/a.yaml": STRIDED,
            "specs/old/b.yaml": STRIDED,
            "specs/ci.yml": NOT_A_SPEC,
            "pyproject.toml": '[tool.specc]\nexclude = ["old"]\n',
        },
    )
    result = check("specs", "specs/a.yaml", "--show-files")
    assert (result.exit_code, result.stdout) == (0, "specs/a.yaml\n")


def test_the_readme_shows_what_specc_check_prints_on_the_examples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    (shown,) = re.findall(r"\$ specc check examples/\n(.*?)\n\$ ", readme, re.S)
    monkeypatch.chdir(root)
    result = check("examples/")
    assert result.exit_code == 0
    assert result.stdout.rstrip("\n") == shown.rstrip("\n")


def test_every_comment_of_the_documented_suppression_example_is_needed(tree: Path) -> None:
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "linting.md").read_text()
    (example,) = [
        b for b in re.findall(r"```yaml\n(.*?)```", docs, re.S) if "name: suppressed" in b
    ]
    bare = re.sub(r"  # specc:.*", "", example)
    write(tree, {"with.yaml": example, "without.yaml": bare})
    assert check("with.yaml", "--select", "ALL").stdout == "1 file, no problems\n"
    lines = example.splitlines()
    hidden = {
        (number, code)
        for number, line in enumerate(lines, 1)
        for code in re.findall(r"[A-Z]\d{3}", line.partition("#")[2])
    }
    shown = {
        (line, code) for _, line, _, code in found(check("without.yaml", "--select", "ALL").output)
    }
    assert hidden <= shown  # each listed code is found there once its comment is gone
    bare_line = next(n for n, line in enumerate(lines, 1) if re.search(r"ignore(?!\[)", line))
    assert any(line == bare_line for line, _ in shown)  # and the bare ignore hides something


def test_force_exclude_applies_exclude_to_named_files(tree: Path) -> None:
    write(
        tree,
        {
            "specs/a.yaml": STRIDED,
            "legacy/b.yaml": STRIDED,
            "pyproject.toml": '[tool.specc]\nexclude = ["/legacy/"]\n',
        },
    )
    named = ("specs/a.yaml", "legacy/b.yaml", "--format", "concise")
    assert [p for p, *_ in found(check(*named).output)] == ["legacy/b.yaml", "specs/a.yaml"]
    assert [p for p, *_ in found(check(*named, "--force-exclude").output)] == ["specs/a.yaml"]


def test_statistics_are_no_sarif_or_github(tree: Path) -> None:
    write(tree, {"a.yaml": STRIDED})
    for fmt in ("sarif", "github"):
        result = check("a.yaml", "--statistics", "--format", fmt)
        assert result.exit_code == 2 and "--statistics" in result.stderr


@pytest.mark.parametrize(
    ("table", "level"),
    [
        ('{ W1 = "error" }', "error"),
        ('{ W = "info", W101 = "error" }', "error"),  # the most specific wins
        ('{ W101 = "info", W = "error" }', "info"),
        ('{ w1 = "info" }', "info"),
        ('{ W2 = "error" }', "warning"),  # another family: the default stays
    ],
)
def test_severity_takes_codes_and_families(tree: Path, table: str, level: str) -> None:
    write(tree, {"a.yaml": STRIDED, "pyproject.toml": f"[tool.specc]\nseverity = {table}\n"})
    (result,) = json.loads(check("a.yaml", "--format", "json").stdout)
    assert (result["code"], result["severity"]) == ("W101", level)


def test_severity_for_a_family_that_does_not_exist_is_a_config_error(tree: Path) -> None:
    write(
        tree, {"a.yaml": STRIDED, "pyproject.toml": '[tool.specc]\nseverity = { W9 = "error" }\n'}
    )
    assert check("a.yaml").exit_code == 2


def test_statistics_show_the_worst_configured_severity_and_align_counts(tree: Path) -> None:
    files = {f"b/s{i}.yaml": STRIDED for i in range(10)}
    files["a/x.yaml"] = STRIDED.replace(
        "stride: 4", "stride: 4}\n  - {name: p, type: max_pool2d, pool: 3"
    )
    files["a/pyproject.toml"] = '[tool.specc]\nseverity = { W101 = "error" }\n'
    write(tree, files)
    lines = check("a", "b", "--statistics").stdout.splitlines()
    # 11 W101 (one of them made an error in a/), and a W102 in a/x.yaml: conv1 gives
    # floor((31 - 3) / 4) + 1 = 8 rows, and a 3-wide pool stepping by 3 drops (8 - 3) % 3 = 2.
    assert lines[:2] == [
        "11  W101  stride-skips-input (error)",
        " 1  W102  unread-trailing-input (warning)",
    ]


def test_an_os_error_names_its_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(argv: list[str]) -> object:
        raise PermissionError(13, "Permission denied", "out.sarif")

    monkeypatch.setattr(specc.cli, "only_invoked", refuse)
    with pytest.raises(SystemExit) as stopped:
        specc.cli.main()
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "specc: error: I/O error: Permission denied (out.sarif)\n"
