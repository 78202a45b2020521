"""The core commands through the real CLI: report, check and schema, with their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from specc.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def test_report_table_shows_the_question_kernel() -> None:
    result = invoke("report", EXAMPLES / "keras_question.yaml")
    assert result.exit_code == 0, result.output
    assert "(7, 7, 8, 16)" in result.output
    assert "6,288" in result.output
    assert "7,264" in result.output  # 976 + 6288


def test_report_json_fields() -> None:
    result = invoke("report", EXAMPLES / "speech_frontend.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    last = data["layers"][-1]
    assert last["output_shape"] == ["ceil(T/4)", 20, 32]
    conv2 = next(layer for layer in data["layers"] if layer["name"] == "conv2")
    assert conv2["kernel_shape"] == [3, 3, 32, 32]
    assert conv2["params"] == 32 * (9 * 32 + 1)
    for key in (
        "name",
        "type",
        "inputs",
        "output_shape",
        "kernel_shape",
        "params",
        "trainable_params",
    ):
        assert key in conv2
    # two convs (896 + 9248) and two batch norms of 32 channels (4 x 32 each, half trainable)
    totals = data["totals"]
    assert (totals["params"], totals["trainable_params"], totals["non_trainable_params"]) == (
        896 + 9248 + 2 * 128,
        896 + 9248 + 2 * 64,
        2 * 64,
    )


def test_report_torch_layout_and_markdown() -> None:
    result = invoke(
        "report", EXAMPLES / "keras_question.yaml", "--layout", "torch", "--format", "json"
    )
    data = json.loads(result.output)
    assert data["layers"][1]["kernel_shape"] == [16, 8, 7, 7]
    md = invoke("report", EXAMPLES / "keras_question.yaml", "--format", "markdown")
    assert md.exit_code == 0
    assert "| `conv2` | `conv2d` | (85, 85, 16) | (7, 7, 8, 16) | 6,288 |" in md.output


def test_check_clean_file_exits_0(tmp_path: Path) -> None:
    result = invoke("check", EXAMPLES / "keras_question.yaml")
    assert result.exit_code == 0, result.output


def test_check_errors_exit_1_with_location_and_source_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "specc: 1\nname: bad\ninputs:\n  x: [28, 28, 1]\nlayers:\n"
        "  - name: conv2\n    type: conv2d\n    filters: 8\n    kernel: 3\n    kernel_size: 3\n"
    )
    result = invoke("check", bad)
    assert result.exit_code == 1
    assert (
        f"{bad}:10:5: E102 conv2: unknown attribute 'kernel_size'; did you mean 'kernel'?"
        in result.output
    )
    assert "    kernel_size: 3" in result.output
    assert "^" in result.output


def test_check_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = invoke("check", tmp_path / "missing.yaml")
    assert result.exit_code == 2
    assert "E001" in result.output


def test_report_on_a_broken_spec_prints_diagnostics_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "specc: 1\nname: t\ninputs: {x: [4, 4, 1]}\nlayers:\n  - {type: conv2d, filters: 1, kernel: 5}\n"
    )
    result = invoke("report", bad)
    assert result.exit_code == 1
    assert "S104" in result.output


def test_schema_command_prints_the_published_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    published = json.loads((EXAMPLES.parent / "schemas" / "specc.schema.json").read_text())
    assert json.loads(result.output) == published


def test_usage_error_exits_2() -> None:
    assert invoke("report").exit_code == 2
    assert invoke("report", EXAMPLES / "keras_question.yaml", "--format", "xml").exit_code == 2


def test_running_out_of_memory_is_one_line_and_exit_1(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    import specc.cli

    def exhausted(**_: object) -> None:
        raise MemoryError

    monkeypatch.setattr(specc.cli, "only_invoked", lambda argv: exhausted)
    with pytest.raises(SystemExit) as stop:
        specc.cli.main()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "out of memory" in err and "Traceback" not in err


def test_only_the_invoked_command_is_built_and_it_reads_the_same() -> None:
    from typer.testing import CliRunner

    from specc.cli import app, only_invoked

    lean = only_invoked(["check", "x.yaml"])
    assert [c.callback.__name__ for c in lean.registered_commands] == ["check"]
    assert len(app.registered_commands) > 1  # the shared app is left whole
    assert only_invoked(["--help"]) is app and only_invoked(["chek"]) is app
    assert only_invoked([]) is app
    assert [c.name for c in only_invoked(["run"]).registered_commands] == ["run"]
    runner = CliRunner()
    for args in (["check", "--help"], ["check", "--format", "nope", "x.yaml"], ["report"]):
        full = runner.invoke(app, args, prog_name="specc")
        alone = runner.invoke(only_invoked(args), args, prog_name="specc")
        assert (alone.exit_code, alone.output) == (full.exit_code, full.output), args


def test_the_package_exports_the_documented_api() -> None:
    import specc

    for name in specc.__all__:
        assert getattr(specc, name) is not None
    result = specc.check_file(EXAMPLES / "keras_question.yaml")
    assert result.ok


def test_exit_codes_are_named_in_one_place() -> None:
    """Every exit code comes from specc.exits; no module spells a number of its own."""
    import re

    from specc import exits

    literal = re.compile(r"\b(?:stop|exit|Exit)\(\d|exit_code\s*=\s*\d")
    package = Path(__file__).resolve().parent.parent / "specc"
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "exits.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []
    assert (exits.OK, exits.FINDINGS, exits.IO_ERROR, exits.BUG) == (0, 1, 2, 3)
    assert (exits.INTERRUPTED, exits.TERMINATED) == (128 + 2, 128 + 15)
    missing = invoke("report", EXAMPLES / "no_such_spec.yaml")
    assert missing.exit_code == exits.IO_ERROR
