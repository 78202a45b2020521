"""`specc graph`: every layer a node and every input an edge, in Mermaid and DOT; SVG; files."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specc.api import check_file
from specc.cli import app
from specc.graph import dot, mermaid

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()
SPECS = sorted(EXAMPLES.glob("*.yaml"))

MERMAID_NODE = re.compile(r'^  (n\d+)(?:\(\["|\[")(.*?)(?:"\]\)|"\])$')
MERMAID_EDGE = re.compile(r"^  (n\d+) -->(?:\|(\d+)\|)? (n\d+)$")
DOT_NODE = re.compile(r'^  (n\d+) \[label="(.*?)"(?:, [a-z]+=[a-z0-9]+)*\];$')
DOT_EDGE = re.compile(r'^  (n\d+) -> (n\d+)(?: \[label="(\d+)"\])?;$')


def model(path: Path):  # type: ignore[no-untyped-def]
    result = check_file(path)
    assert result.ok and result.shapes is not None
    return result.shapes


def expected_edges(shapes) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted((src, layer.name) for layer in shapes.model.layers for src in layer.inputs)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_mermaid_has_a_node_per_layer_and_an_edge_per_input(path: Path) -> None:
    shapes = model(path)
    lines = mermaid(shapes).splitlines()
    assert lines[0] == "flowchart TD"
    labels = {m[1]: m[2] for m in map(MERMAID_NODE.match, lines) if m}
    names = {node: label.split("<br/>")[0].split(": ")[0] for node, label in labels.items()}
    expected = [x.name for x in shapes.model.inputs] + [layer.name for layer in shapes.model.layers]
    assert sorted(names.values()) == sorted(expected)
    edges = [(names[m[1]], names[m[3]]) for m in map(MERMAID_EDGE.match, lines) if m]
    assert sorted(edges) == expected_edges(shapes)
    known = (MERMAID_NODE.match, MERMAID_EDGE.match, lambda x: x.startswith(("  %%", "  class")))
    assert [line for line in lines[1:] if not any(f(line) for f in known)] == []


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_dot_has_a_node_per_layer_and_an_edge_per_input(path: Path) -> None:
    shapes = model(path)
    lines = dot(shapes).splitlines()
    assert lines[0].startswith("digraph ") and lines[-1] == "}"
    labels = {m[1]: m[2] for m in map(DOT_NODE.match, lines) if m}
    names = {node: label.split("\\n")[0].split(": ")[0] for node, label in labels.items()}
    assert len(names) == len(shapes.model.inputs) + len(shapes.model.layers)
    edges = [(names[m[1]], names[m[2]]) for m in map(DOT_EDGE.match, lines) if m]
    assert sorted(edges) == expected_edges(shapes)


def test_labels_carry_type_output_and_kernel_and_inputs_are_numbered() -> None:
    text = mermaid(model(EXAMPLES / "keras_question.yaml"))
    assert '["conv2: conv2d<br/>(85, 85, 16)<br/>kernel (7, 7, 8, 16)"]' in text
    assert '(["image: input<br/>(101, 101, 1)"])' in text
    assert "class n2 output" in text
    merged = mermaid(model(EXAMPLES / "inception_concat.yaml"))
    assert len(re.findall(r"-->\|[0-3]\| n8$", merged, re.M)) == 4  # concat reads 4 inputs in order
    graphviz = dot(model(EXAMPLES / "keras_question.yaml"))
    assert (
        'n2 [label="conv2: conv2d\\n(85, 85, 16)\\nkernel (7, 7, 8, 16)", penwidth=2];' in graphviz
    )


def test_cli_writes_files_atomically_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "model.mmd"
    spec = str(EXAMPLES / "residual_block.yaml")
    assert runner.invoke(app, ["graph", spec, "-o", str(out)]).exit_code == 0
    assert out.read_text().startswith("flowchart TD")
    out.write_text("keep me")
    refused = runner.invoke(app, ["graph", spec, "-o", str(out)])
    assert refused.exit_code == 2 and "exists; pass --force" in refused.output
    assert out.read_text() == "keep me"
    assert runner.invoke(app, ["graph", spec, "-o", str(out), "--force"]).exit_code == 0
    assert out.read_text().startswith("flowchart TD")
    assert [p.name for p in tmp_path.iterdir()] == ["model.mmd"]  # no temporary file left
    md = tmp_path / "model.md"
    assert runner.invoke(app, ["graph", spec, "-o", str(md)]).exit_code == 0
    assert md.read_text().startswith("```mermaid\nflowchart TD\n")
    gv = tmp_path / "model.gv"
    assert runner.invoke(app, ["graph", spec, "-o", str(gv)]).exit_code == 0
    assert gv.read_text().startswith('digraph "residual-block" {')


def test_svg_without_graphviz_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "model.svg"
    result = runner.invoke(app, ["graph", str(EXAMPLES / "keras_question.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert "needs Graphviz's 'dot' program, which is not on PATH" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def fake_dot(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir()
    program = bin_dir / "dot"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a stand-in for dot")
def test_svg_runs_dot_on_the_dot_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in `dot` that wraps its input in an <svg>, so the test does not need Graphviz.
    fake_dot(tmp_path / "bin", 'echo "<svg>"; cat; echo "</svg>"')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "model.svg"
    result = runner.invoke(app, ["graph", str(EXAMPLES / "keras_question.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("<svg>\ndigraph ") and "n1 -> n2;" in text


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a stand-in for dot")
def test_a_failing_dot_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dot(tmp_path / "bin", 'echo "syntax error in line 1" >&2; exit 1')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "model.svg"
    result = runner.invoke(app, ["graph", str(EXAMPLES / "keras_question.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert "failed: syntax error in line 1" in result.output
    assert not out.exists()


def test_graph_never_writes_over_its_own_spec(tmp_path: Path) -> None:
    spec = tmp_path / "model.yaml"
    text = "specc: 1\nname: t\ninputs: {x: [4]}\nlayers:\n  - {type: relu}\n"
    spec.write_text(text)
    result = CliRunner().invoke(app, ["graph", str(spec), "-o", str(spec), "--force"])
    assert result.exit_code == 2
    assert spec.read_text() == text


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a stand-in for dot")
def test_png_comes_from_the_suffix_and_runs_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in writes the PNG signature and echoes the -T option it was given.
    fake_dot(tmp_path / "bin", r'printf "\211PNG\r\n\032\n$1"')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "g.png"
    result = runner.invoke(app, ["graph", str(EXAMPLES / "keras_question.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"\x89PNG\r\n\x1a\n-Tpng"


@pytest.mark.parametrize(
    ("name", "options"),
    [("g.png", ["--format", "mermaid"]), ("g.svg", ["-f", "dot"]), ("g.jpg", []), ("g.pdf", [])],
)
def test_a_suffix_that_contradicts_the_format_is_refused(
    tmp_path: Path, name: str, options: list[str]
) -> None:
    out = tmp_path / name
    spec = str(EXAMPLES / "keras_question.yaml")
    result = runner.invoke(app, ["graph", spec, "-o", str(out), *options])
    assert result.exit_code == 2 and out.name in result.output
    assert not out.exists()
