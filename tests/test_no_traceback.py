"""No command ever shows a Python traceback for a broken spec: every corpus file through every
command that reads a spec exits 1 or 2 with diagnostics; a bug in specc is one line (exit 3)
unless SPECC_DEBUG=1 asks for the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from test_corpus import BAD, EXPECTED, GENERATORS, invoke

from specc import cli

ROOT = Path(__file__).resolve().parent.parent
SPEC_ARGUMENTS = {"spec", "specs", "paths", "old", "new"}
NOT_SPECS = {"model"}  # `specc import MODEL` reads another framework's model, not a spec


def _spec_commands() -> dict[str, list[str]]:
    """Every command of the app that reads a spec, with the names of its spec arguments.

    (Typer carries its own copy of click, so parameters are recognised by what they are.)
    """
    found = {}
    for name, command in typer.main.get_command(cli.app).commands.items():  # type: ignore[attr-defined]
        spec_args = [
            str(p.name)
            for p in command.params
            if p.param_type_name == "argument"
            and p.name not in NOT_SPECS
            and (p.name in SPEC_ARGUMENTS or type(p.type).__name__.endswith("Path"))
        ]
        if spec_args:
            found[name] = spec_args
    return found


COMMANDS = _spec_commands()


def _argv(command: str, path: Path) -> list[str]:
    return [command, *[str(path)] * len(COMMANDS[command])]


def test_the_spec_commands_are_found() -> None:
    assert {"check", "report"} <= set(COMMANDS)
    assert set(COMMANDS) >= {"plan", "run", "explain", "graph", "diff"} & set(
        typer.main.get_command(cli.app).commands  # type: ignore[attr-defined]
    )


def _assert_clean_failure(argv: list[str]) -> None:
    result = invoke(argv)
    output = result.output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"specc {' '.join(argv)} raised") from result.exception
    assert result.exit_code in (1, 2), (argv, result.exit_code, output)
    assert output.strip(), argv


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_corpus_file_through_every_command(name: str) -> None:
    path = BAD / name
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    for command in COMMANDS:
        _assert_clean_failure(_argv(command, path))
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before  # the spec is never written


@pytest.mark.parametrize("name", sorted(EXPECTED["generated"]))
def test_generated_file_through_every_command(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    GENERATORS[name](path)
    for command in COMMANDS:
        if command == "check" and path.is_dir():
            continue  # `specc check DIR` searches the folder for specs, as ruff does
        _assert_clean_failure(_argv(command, path))


# -- the real entry point, in a separate process ------------------------------------------------
def _specc(
    *argv: str, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "SPECC_DEBUG"} | (env or {})
    command = [sys.executable, "-c", code or "from specc.cli import main; main()", *argv]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=60
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_real_process_prints_no_traceback(command: str) -> None:
    done = _specc(*_argv(command, BAD / "binary.yaml"))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 1 and "E008" in done.stdout + done.stderr


BOOM = (
    "import sys, specc.api\n"
    "def boom(*args, **kwargs):\n"
    "    raise RuntimeError('injected failure')\n"
    "specc.api.check_file = boom\n"
    "sys.argv[0] = 'specc'\n"
    "from specc.cli import main\n"
    "main()\n"
)


def test_internal_error_is_one_line_without_debug() -> None:
    done = _specc("report", "examples/keras_question.yaml", code=BOOM)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert (
        done.stderr.splitlines()[0]
        == "specc: error: internal error: RuntimeError: injected failure"
    )
    assert "SPECC_DEBUG=1" in done.stderr


def test_internal_error_shows_the_traceback_with_debug() -> None:
    done = _specc("report", "examples/keras_question.yaml", env={"SPECC_DEBUG": "1"}, code=BOOM)
    assert done.returncode == 1  # the interpreter's own exit for an uncaught exception
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: injected failure" in done.stderr


def test_ctrl_c_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import specc.api

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(specc.api, "check_file", interrupted)
    monkeypatch.setattr(
        sys, "argv", ["specc", "check", str(ROOT / "examples" / "keras_question.yaml")]
    )
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err  # Typer itself turns Ctrl-C into a quiet exit 130
