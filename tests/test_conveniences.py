"""What people expect of a command line: -h, shell completion, diff --exit-code, stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KERAS = EXAMPLES / "keras_question.yaml"
runner = CliRunner()


def specc(*args: object, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "specc", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
    )


@pytest.mark.parametrize("args", [["-h"], ["report", "-h"], ["check", "-h"]])
def test_dash_h_is_help(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "Usage:" in result.output and "--help" in result.output


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _specc_completion specc"),
        ("zsh", "#compdef specc"),
        ("fish", "complete --command specc"),
    ],
)
def test_show_completion_for_each_shell(shell: str, marker: str) -> None:
    # Typer detects the running shell; this variable lets the test name it instead.
    done = specc("--show-completion", shell, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert done.returncode == 0 and marker in done.stdout


def test_completion_completes_command_names() -> None:
    done = specc(_SPECC_COMPLETE="complete_bash", COMP_WORDS="specc rep", COMP_CWORD="1")
    assert done.stdout.split() == ["report"]


def test_diff_exit_code_says_whether_the_specs_differ(tmp_path: Path) -> None:
    same = runner.invoke(app, ["diff", str(KERAS), str(KERAS), "--exit-code"])
    assert same.exit_code == 0 and "no differences" in same.output
    other = str(EXAMPLES / "mnist_two_convs.yaml")
    assert runner.invoke(app, ["diff", str(KERAS), other, "--exit-code"]).exit_code == 1
    assert runner.invoke(app, ["diff", str(KERAS), other]).exit_code == 0
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(KERAS.read_text().replace("name: keras-question", "name: other"))
    named = runner.invoke(app, ["diff", str(KERAS), str(renamed), "--exit-code"])
    assert named.exit_code == 1 and "no layer changed" in named.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "-"], "6,288"),  # 16 x (7 x 7 x 8 + 1)
        (["explain", "-", "conv2"], "16 x (7 x 7 x 8 + 1) = 6,288"),
        (["graph", "-"], "kernel (7, 7, 8, 16)"),
        (["plan", "-"], "im2col+gemm"),
        (["diff", str(KERAS), "-"], "no differences"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else "",
)
def test_commands_that_read_one_spec_read_stdin(args: list[str], expected: str) -> None:
    done = specc(*args, stdin=KERAS.read_text())
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def test_a_broken_spec_on_stdin_is_reported_as_stdin() -> None:
    done = specc("report", "-", stdin="specc: 1\nname: t\ninputs: {x: [4]}\nlayers: 3\n")
    assert done.returncode == 1 and done.stderr.startswith("<stdin>:4:")


@pytest.mark.parametrize(
    "args",
    [
        ["rules", "Q999"],
        ["layers", "nothing"],
        ["graph", str(KERAS), "-o", "g.png", "--format", "mermaid"],
        ["check", "-", "examples"],
    ],
)
def test_every_error_line_starts_the_same_way(args: list[str]) -> None:
    done = specc(*args, stdin="")
    assert done.returncode in (1, 2)
    assert done.stderr.startswith("specc: error: "), done.stderr


@pytest.mark.parametrize(
    ("args", "usage", "message"),
    [
        (["reprt", KERAS], "Usage: specc [OPTIONS] COMMAND [ARGS]...", "No such command 'reprt'."),
        (["report"], "Usage: specc report [OPTIONS] {spec}", "Missing argument 'spec'."),
        (
            ["check", "--bogus"],
            "Usage: specc check [OPTIONS] [paths]...",
            "No such option: --bogus",
        ),
        (
            ["report", KERAS, "--batch", "0"],
            "Usage: specc report [OPTIONS] {spec}",
            "Invalid value for '--batch': 0 is not in the range x>=1.",
        ),
        (
            ["report", KERAS, "--dim", "T"],
            "Usage: specc report [OPTIONS] {spec}",
            "Invalid value for --dim: 'T': expected NAME=POSITIVE_INT, e.g. T=1000",
        ),
    ],
)
def test_usage_errors_keep_the_usage_line_and_speak_as_specc(
    args: list[object], usage: str, message: str
) -> None:
    done = specc(*args)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0] == usage and lines[1].startswith("Try 'specc") and lines[2] == ""
    assert lines[3].startswith(f"specc: error: {message}")
    assert not any(line.startswith("Error:") for line in lines)


def test_specc_alone_still_prints_the_help() -> None:
    done = specc()
    assert done.returncode == 2 and "Commands" in done.stdout + done.stderr
    assert "error" not in done.stdout + done.stderr
