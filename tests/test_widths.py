"""Tables and text at any width: report, diff, plan and explain through the real command, piped
and on a terminal, never drop a column nor split a number, and keep to COLUMNS where they can."""

from __future__ import annotations

import functools
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MOBILENET = EXAMPLES / "mobilenet_v2.yaml"
EVERY = "name,type,inputs,output,kernel,params,trainable,macs,flops,memory,rf"
HEADERS = ["Layer", "Type", "Inputs", "Output", "Kernel", "Params", "Trainable", "MACs", "FLOPs"]
HEADERS += ["Memory", "Receptive"]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def environment(columns: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["PYTHONPATH"] = str(ROOT)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return env


def piped(columns: int | None, *args: object) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "specc", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment(columns),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def on_terminal(columns: int, *args: object) -> str:
    """The output of specc with a pseudo-terminal as stdout, escape codes removed."""
    leader, follower = pty.openpty()
    env = environment(columns) | {"TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "specc", *map(str, args)],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # the terminal closes when specc exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait() == 0
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@functools.cache
def report_json(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(piped(None, "report", path, "--format", "json"))  # type: ignore[no-any-return]


def numbers(path: Path) -> list[str]:
    """Every layer's parameter and MAC count as it must appear, from the JSON report."""
    data = report_json(path)
    return [f"{layer[key]:,}" for layer in data["layers"] for key in ("params", "macs")]


def words(text: str) -> set[str]:
    return set(re.split(r"[\s│┃|]+", text))


@pytest.mark.parametrize("columns", [60, 80, 120, None])
def test_a_piped_report_keeps_every_column_and_number(columns: int | None) -> None:
    out = piped(columns, "report", MOBILENET, "--columns", EVERY)
    assert set(HEADERS) <= words(out)
    assert set(numbers(MOBILENET)) <= words(out)
    # 3,538,984 parameters in all: 3,504,872 trainable plus 34,112 batch-norm statistics
    assert "3,538,984" in words(out)


@pytest.mark.parametrize("columns", [80, None])
def test_the_default_piped_report_has_its_params_column(columns: int | None) -> None:
    out = piped(columns, "report", MOBILENET)
    assert "Params" in words(out) and set(numbers(MOBILENET)[::2]) <= words(out)


def test_a_piped_report_without_columns_is_one_line_per_layer() -> None:
    out = piped(None, "report", MOBILENET, "--columns", EVERY)
    data = report_json(MOBILENET)
    for layer in data["layers"]:
        rows = [line for line in out.splitlines() if line.startswith(layer["name"] + " ")]
        field = layer["receptive_field"]
        if isinstance(field, dict):
            size, jump = ("x".join(map(str, field[k])) for k in ("size", "jump"))
            assert len(rows) == 1 and rows[0].endswith(f"{size} jump {jump}")


@pytest.mark.parametrize("columns", [120])
def test_a_piped_report_that_can_fit_keeps_to_the_width(columns: int) -> None:
    out = piped(columns, "report", MOBILENET)
    assert max(len(line) for line in out.splitlines()) <= columns


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_a_report_on_a_terminal_splits_no_word(columns: int) -> None:
    out = on_terminal(columns, "report", MOBILENET, "--columns", EVERY)
    assert set(HEADERS) <= words(out)
    assert set(numbers(MOBILENET)) <= words(out)


def test_a_report_on_a_wide_terminal_fits_it() -> None:
    out = on_terminal(120, "report", MOBILENET)
    assert max(len(line) for line in out.splitlines()) <= 120
    assert "Params" in words(out)


@pytest.fixture
def two_specs(tmp_path: Path) -> tuple[Path, Path]:
    old = MOBILENET.read_text()
    new = old.replace("filters: 1280", "filters: 1536")
    assert new != old
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "new.yaml").write_text(new)
    return tmp_path / "old.yaml", tmp_path / "new.yaml"


@pytest.mark.parametrize("columns", [60, 80, 120, None])
def test_a_diff_keeps_every_column_and_number(
    columns: int | None, two_specs: tuple[Path, Path]
) -> None:
    old, new = two_specs
    for out in [piped(columns, "diff", old, new)] + (
        [on_terminal(columns, "diff", old, new)] if columns else []
    ):
        assert {"Layer", "Change", "Type", "Output", "Kernel", "Params", "MACs"} <= words(out)
        # head: 1 x 1 x 320 x 1280 weights, then 1536 filters; the total changes by the same
        assert {"409,600", "491,520", "3,538,984"} <= words(out)


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize(
    "args",
    [
        ("plan", EXAMPLES / "resnet18.yaml"),
        ("explain", EXAMPLES / "resnet18.yaml"),
        ("explain", EXAMPLES / "keras_question.yaml", "conv2"),
    ],
    ids=["plan", "explain", "explain-layer"],
)
def test_plan_and_explain_keep_to_the_width(columns: int, args: tuple[object, ...]) -> None:
    out = piped(columns, *args)
    assert max(len(line) for line in out.splitlines()) <= columns


def test_a_narrow_plan_keeps_every_step_and_number() -> None:
    wide = piped(None, "plan", EXAMPLES / "resnet18.yaml")
    narrow = piped(60, "plan", EXAMPLES / "resnet18.yaml")
    rows = [line.split() for line in wide.splitlines() if re.match(r"\s*\d+  ", line)]
    steps = int(re.search(r"(\d+) steps", wide).group(1))  # type: ignore[union-attr]
    assert len(rows) == steps > 50
    for row in rows:  # the step's number, kind, layers and traffic (a number and its unit)
        traffic = next(i for i, w in enumerate(row) if w in ("KiB", "MiB", "B")) - 1
        assert f"{row[0]}  {row[1]}  {row[2]}" in narrow
        assert f"traffic {row[traffic]} {row[traffic + 1]}" in narrow
