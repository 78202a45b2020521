"""`specc check` on awkward file trees and configurations, through the real CLI: links, pipes,
repeated paths, specs that only a careful sniff recognises, and output that cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specc.cli import app
from specc.discover import looks_like_spec

ROOT = Path(__file__).resolve().parent.parent
LAYER = "{name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}"  # W101 on its stride
STRIDED = f"specc: 1\nname: t\ninputs:\n  x: [31, 31, 3]\nlayers:\n  - {LAYER}\n"
FLOW = "{specc: 1, name: f, inputs: {x: [31, 31, 3]}, layers: [" + LAYER + "]}\n"


def check(root: Path, *args: str) -> tuple[int, list[str]]:
    """Exit code and the (path, line, col, code) of each finding of a concise check in `root`."""
    old = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, ["check", "--format", "concise", *args])
    finally:
        os.chdir(old)
    lines = result.stdout.splitlines()
    return result.exit_code, [line.split(" ")[0] + line.split(" ")[1] for line in lines[:-1]]


def at(path: str, text: str, token: str, code: str) -> str:
    """`path:line:col:CODE` for the first `token` of `text`, found independently of specc."""
    for number, line in enumerate(text.splitlines(), 1):
        if token in line:
            return f"{path}:{number}:{line.index(token) + 1}:{code}"
    raise AssertionError(token)


W101 = at("specs/w.yaml", STRIDED, "4}", "W101")


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "w.yaml").write_text(STRIDED)
    return tmp_path


def test_a_symlink_loop_is_a_file_that_cannot_be_read(specs: Path) -> None:
    (specs / "self.yaml").symlink_to("self.yaml")
    code, found = check(specs, "self.yaml")
    assert (code, found) == (2, ["self.yaml:1:1:E001"])
    assert check(specs, ".") == (2, ["self.yaml:1:1:E001", W101])  # a folder walk says so too


def test_a_link_to_nothing_in_a_folder_is_reported(specs: Path) -> None:
    (specs / "specs" / "gone.yaml").symlink_to("moved.yaml")
    assert check(specs, "specs") == (2, ["specs/gone.yaml:1:1:E001", W101])


def test_a_named_pipe_in_a_folder_is_never_opened(specs: Path) -> None:
    os.mkfifo(specs / "specs" / "pipe.yaml")
    # Opening the pipe would block for ever: run in a child process with a time limit.
    done = subprocess.run(
        [sys.executable, "-m", "specc", "check", "--format", "concise", "."],
        cwd=specs,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("specs/w.yaml:")


def test_the_same_file_named_twice_is_checked_once(specs: Path) -> None:
    code, found = check(specs, "specs", "./specs/w.yaml", "specs//w.yaml")
    assert (code, found) == (0, [W101])


def test_specs_with_a_bom_or_in_flow_style_are_found_in_folders(specs: Path) -> None:
    (specs / "specs" / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + STRIDED.encode())
    (specs / "specs" / "flow.yaml").write_text(FLOW)
    (specs / "specs" / "utf16.yaml").write_text(STRIDED, encoding="utf-16")  # with its BOM
    (specs / "specs" / "workflow.yml").write_text("on: [push]\njobs: {specc: 1}\n")
    code, found = check(specs, "specs")
    assert code == 0
    assert found == [
        at("specs/bom.yaml", STRIDED, "4}", "W101"),  # the BOM is not a column
        at("specs/flow.yaml", FLOW, "4}", "W101"),
        at("specs/utf16.yaml", STRIDED, "4}", "W101"),
        W101,
    ]


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        (b"specc: 1\n", True),
        (b"# header\nname: t\nspecc: 1\n", True),
        (b"\xef\xbb\xbfspecc: 1\n", True),
        (b"# header\n{name: t, specc: 1}\n", True),
        (b"{name: t,\n  'specc': 1}\n", True),
        (b"%YAML 1.2\n---\n{specc: 1}\n", True),
        (b"--- {name: t, specc: 1}\n", True),
        (b"{name: 'a, specc: 1', jobs: {specc: 1}, specc_x: 2}\n", False),  # quoted, nested
        (b'{name: "say \\"{\\" specc:", list: [{specc: 1}]}\n', False),
        (b'{name: "a\\", specc: 1", x: 1}\n', False),  # an escaped quote keeps the string open
        (b"{name: t}\n# {specc: 1}\n", False),  # after the mapping closes, nothing counts
        (b"name: t\nextra: {specc: 1}\n", False),  # a nested key, in block style
        (b"jobs:\n  specc: 1\n", False),
        (b"", False),
    ],
)
def test_the_spec_sniff(text: bytes, spec: bool) -> None:
    assert looks_like_spec(text) is spec


def test_a_recursive_glob_does_not_follow_links_to_folders(specs: Path) -> None:
    (specs / "specs" / "sub").mkdir()
    (specs / "specs" / "sub" / "up").symlink_to("..", target_is_directory=True)
    (specs / "specs" / ".hidden").mkdir()
    (specs / "specs" / ".hidden" / "h.yaml").write_text(STRIDED)
    assert check(specs, "specs/**/*.yaml") == (0, [W101])
    assert check(specs, "**/w.yaml") == (0, [W101])
    assert check(specs, "specs/**.yaml") == (0, [W101])  # not a whole component: one level, as *


def test_globs_keep_yaml_specs_that_are_not_excluded(specs: Path) -> None:
    (specs / "pyproject.toml").write_text('[tool.specc]\nexclude = ["specs/old/"]\n')
    (specs / "specs" / "old").mkdir()
    (specs / "specs" / "old" / "o.yaml").write_text(STRIDED)
    (specs / "specs" / "notes.txt").write_text(STRIDED)
    assert check(specs, "specs/*") == (0, [W101])
    assert check(specs, "specs/**/*.yaml") == (0, [W101])
    assert check(specs, "specs") == (0, [W101])


@pytest.mark.parametrize(
    "pattern", ["specs/old", "specs/old/", "./specs/old", "/specs/old", "**/old", "old", "o*"]
)
def test_exclude_and_per_file_ignores_take_folders_as_written(specs: Path, pattern: str) -> None:
    (specs / "specs" / "old").mkdir()
    (specs / "specs" / "old" / "o.yaml").write_text(STRIDED)
    (specs / "pyproject.toml").write_text(f'[tool.specc]\nexclude = ["{pattern}"]\n')
    assert check(specs, "specs") == (0, [W101])
    (specs / "pyproject.toml").write_text(
        f'[tool.specc]\nper-file-ignores = {{ "{pattern}" = ["W101"] }}\n'
    )
    assert check(specs, "specs/old/o.yaml", "specs/w.yaml") == (0, [W101])


def test_a_config_that_is_not_utf8_is_a_configuration_error(specs: Path) -> None:
    (specs / "bad.toml").write_bytes(b"select = ['\xff']\n")
    result = CliRunner().invoke(app, ["check", "--config", str(specs / "bad.toml"), str(specs)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_design_rules_wait_for_a_whole_graph_even_when_errors_are_ignored(specs: Path) -> None:
    broken = STRIDED.replace("filters: 8, ", "")  # E101: conv1 lacks `filters`
    (specs / "specs" / "w.yaml").write_text(broken)
    assert check(specs, "specs", "--ignore", "E1") == (0, [])
    (specs / "pyproject.toml").write_text('[tool.specc]\nseverity = { E101 = "warning" }\n')
    code, found = check(specs, "specs")
    assert (code, found) == (0, [at("specs/w.yaml", broken, "{name", "E101")])


def test_output_that_cannot_be_written_is_an_io_error(specs: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "specc", "check", "specs"],
            cwd=specs,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert done.returncode == 2
    assert done.stderr == "specc: error: I/O error: No space left on device\n"


def test_an_empty_no_color_leaves_colour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from specc.cli import common

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "")
    assert common.stdout_is_terminal()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not common.stdout_is_terminal()


def test_rules_all_lists_every_code() -> None:
    every = CliRunner().invoke(app, ["rules"])
    assert CliRunner().invoke(app, ["rules", "ALL"]).stdout == every.stdout
    assert every.exit_code == 0 and len(every.stdout.splitlines()) > 40


def test_stdin_filename_beside_paths_names_the_option(specs: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--stdin-filename", "x.yaml", str(specs)])
    assert result.exit_code == 2
    assert result.stderr.startswith("specc: error: --stdin-filename")


def test_a_glob_that_matches_nothing_says_so(specs: Path) -> None:
    old = os.getcwd()
    os.chdir(specs)
    try:
        result = CliRunner().invoke(app, ["check", "--format", "concise", "specs/*.yml"])
    finally:
        os.chdir(old)
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] == "specs/*.yml:1:1: E001 no file matches 'specs/*.yml'"


def test_patterns_never_match_folders_above_the_configuration(specs: Path) -> None:
    # The configuration lives in ci/ and the specs beside it: the folders above ci/ (where
    # pytest's own temporary folders are) must not count, whatever their names.
    (specs / "ci").mkdir()
    above = specs.name  # a folder name above ci/, e.g. "test_patterns_never_match0"
    (specs / "ci" / "cfg.toml").write_text(f'per-file-ignores = {{ "{above}" = ["W"] }}\n')
    assert check(specs, "--config", "ci/cfg.toml", "specs") == (0, [W101])


def test_a_pattern_with_a_slash_matches_files_outside_the_configuration_folder(specs: Path) -> None:
    (specs / "cfg").mkdir()
    (specs / "cfg" / "pyproject.toml").write_text('[tool.specc]\nexclude = ["*/legacy/*"]\n')
    (specs / "specs" / "legacy").mkdir()
    (specs / "specs" / "legacy" / "a.yaml").write_text(STRIDED)
    assert check(specs, "--config", "cfg/pyproject.toml", "specs") == (0, [W101])


def test_double_star_slash_may_match_no_folder(specs: Path) -> None:
    (specs / "pyproject.toml").write_text('[tool.specc]\nexclude = ["**/specs"]\n')
    assert check(specs, ".") == (0, [])  # specs/ itself, at the top, is excluded


def test_show_files_of_an_empty_folder_prints_nothing(tmp_path: Path) -> None:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["check", "--show-files", "."])
    finally:
        os.chdir(old)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
