"""The hostile corpus: every broken file gives exactly its expected (code, line, col), through the
API and through `specc check`, with a non-zero exit; every odd-but-valid file checks clean."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
import typer.main
import typer.testing
import yaml
from conftest import FAST_PEAK, peak_bytes
from typer.testing import CliRunner, Result

from specc import loader
from specc.api import check_file
from specc.cli import app

CORPUS = Path(__file__).resolve().parent / "corpus"
BAD, GOOD = CORPUS / "bad", CORPUS / "good"
EXPECTED = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))

Found = list[tuple[str, int, int]]

HEADER = "specc: 1\nname: generated\ninputs:\n  image: [28, 28, 3]\nlayers:\n"


def _missing(path: Path) -> None:
    """Nothing to make: the file does not exist."""


def _directory(path: Path) -> None:
    path.mkdir()


def _size_50mb(path: Path) -> None:
    """A valid spec padded with comments to 50 MiB, over the 10 MiB limit."""
    padding = ("# " + "x" * 1021 + "\n").encode()  # 1 KiB per line
    with path.open("wb") as out:
        out.write(HEADER.encode() + b"  - {type: relu}\n")
        out.write(padding * (50 * 1024))


def _layers_100k(path: Path) -> None:
    """100,000 layers, ten times the default limit; refused while it is read."""
    path.write_text(HEADER + "  - {type: relu}\n" * 100_000, encoding="utf-8")


GENERATORS: dict[str, Callable[[Path], None]] = {
    "missing.yaml": _missing,
    "directory.yaml": _directory,
    "size_50mb.yaml": _size_50mb,
    "layers_100k.yaml": _layers_100k,
}


def _expected(entries: list[list[object]]) -> Found:
    return [(str(c), int(line), int(col)) for c, line, col in entries]  # type: ignore[call-overload]


def _api(path: Path) -> Found:
    result = check_file(path)
    assert not result.ok
    return [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span is not None]


_COMMAND = typer.main.get_command(app)


def invoke(argv: list[str]) -> Result:
    """Run the real CLI in process. Typer rebuilds its click command on every invoke, which is
    most of the cost of a failing command; the corpus runs hundreds, so build it once."""
    with mock.patch.object(typer.testing, "_get_command", lambda _: _COMMAND, create=True):
        return CliRunner().invoke(app, argv)


def _cli(command: str, path: Path) -> tuple[int, Found, str]:
    options = ["--no-color"] if command == "check" else []
    result = invoke([command, *options, str(path)])
    text = result.output  # stdout and stderr, interleaved
    head = re.compile(rf"^{re.escape(str(path))}:(\d+):(\d+): ([EWSI]\d{{3}}) ", re.MULTILINE)
    return result.exit_code, [(m[3], int(m[1]), int(m[2])) for m in head.finditer(text)], text


def _exit_code(expected: Found) -> int:
    return 2 if any(code == "E001" for code, _, _ in expected) else 1


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_bad_file(name: str) -> None:
    path, expected = BAD / name, _expected(EXPECTED["files"][name])
    assert _api(path) == expected
    code, found, text = _cli("check", path)
    assert (code, found) == (_exit_code(expected), expected), text
    assert "Traceback" not in text


def test_positions_do_not_depend_on_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML falls back to its pure-Python parser without libyaml; the positions must agree."""
    monkeypatch.setattr(loader, "_Loader", yaml.SafeLoader)
    for name, entries in sorted(EXPECTED["files"].items()):
        assert _api(BAD / name) == _expected(entries), name


@pytest.mark.parametrize("name", sorted(EXPECTED["generated"]))
def test_generated_bad_file(name: str, tmp_path: Path) -> None:
    path, expected = tmp_path / name, _expected(EXPECTED["generated"][name])
    GENERATORS[name](path)
    result, peak = peak_bytes(lambda: _api(path))
    assert result == expected
    assert peak < FAST_PEAK  # limits are checked before the work they guard
    # `specc check` searches a directory for specs (as ruff does); `report` must read a file.
    command = "report" if path.is_dir() else "check"
    code, found, text = _cli(command, path)
    assert (code, found) == (_exit_code(expected), expected), text


def test_every_corpus_file_has_expectations() -> None:
    on_disk = {p.name for p in BAD.iterdir()} - {"expected.yaml"}
    assert on_disk == set(EXPECTED["files"])
    assert set(EXPECTED["generated"]) == set(GENERATORS)
    assert len(on_disk) + len(GENERATORS) >= 40


@pytest.mark.parametrize("name", sorted(p.name for p in GOOD.iterdir()))
def test_odd_but_valid_file_checks_clean(name: str) -> None:
    result = check_file(GOOD / name)
    assert result.diagnostics == [] and result.shapes is not None and result.shapes.complete
    code, found, text = _cli("check", GOOD / name)
    assert (code, found) == (0, []), text
