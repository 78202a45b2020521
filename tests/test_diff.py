"""`specc diff`: per-layer changes matched by name, totals with percentages, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run
from typer.testing import CliRunner

from specc.cli import app
from specc.diff import diff
from specc.passes.costs import measure

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()

OLD = """specc: 1
name: net
inputs: {x: [32, 32, 3]}
layers:
  - {name: conv1, type: conv2d, filters: 8, kernel: 3}
  - {name: conv2, type: conv2d, filters: 16, kernel: 3}
  - {name: pool, type: max_pool2d}
  - {name: head, type: global_avg_pool}
"""
# conv2 widens to 32 filters, pool goes, and a dense classifier is added after head
NEW = """specc: 1
name: net
inputs: {x: [32, 32, 3]}
layers:
  - {name: conv1, type: conv2d, filters: 8, kernel: 3}
  - {name: conv2, type: conv2d, filters: 32, kernel: 3}
  - {name: head, type: global_avg_pool}
  - {name: fc, type: dense, units: 10}
"""


def analysed(text: str):  # type: ignore[no-untyped-def]
    result = run(text)
    assert result.ok and result.shapes is not None
    return measure(result.shapes)


def test_layers_are_matched_by_name_in_order() -> None:
    d = diff(analysed(OLD), analysed(NEW))
    assert [(r.name, r.status) for r in d.layers] == [
        ("conv1", "same"),
        ("conv2", "changed"),
        ("pool", "removed"),  # after its old predecessor conv2
        ("head", "changed"),  # its output (16,) becomes (32,)
        ("fc", "added"),
    ]
    conv2 = d.layers[1]
    assert conv2.changed == ("output", "kernel", "params", "macs")
    assert conv2.old is not None and conv2.new is not None
    assert (conv2.old.kernel, conv2.new.kernel) == ((3, 3, 8, 16), (3, 3, 8, 32))


def test_totals_and_percentages() -> None:
    d = diff(analysed(OLD), analysed(NEW))
    # params: conv1 8 x (27 + 1) = 224; conv2 16 x (72 + 1) = 1,168 -> 32 x (72 + 1) = 2,336;
    # fc 10 x (32 + 1) = 330
    assert (d.params.old, d.params.new) == (224 + 1168, 224 + 2336 + 330)
    assert d.params.delta == 1168 + 330
    assert d.params.percent is not None and round(d.params.percent, 1) == round(
        100 * 1498 / 1392, 1
    )
    # MACs: conv1 30 x 30 x 8 x 27 = 194,400; conv2 28 x 28 x 16 x 72 = 903,168 -> doubled
    assert d.macs.old == 194_400 + 903_168
    assert d.macs.new == 194_400 + 2 * 903_168 + 10 * 32


def write(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "old.yaml").write_text(OLD)
    (tmp_path / "new.yaml").write_text(NEW)
    return tmp_path / "old.yaml", tmp_path / "new.yaml"


def test_cli_table_markdown_and_json(tmp_path: Path) -> None:
    old, new = write(tmp_path)
    table = runner.invoke(app, ["diff", str(old), str(new)])
    assert table.exit_code == 0, table.output
    assert "conv2" in table.output and "conv1" not in table.output  # unchanged layers hidden
    assert "1,392 -> 2,890 (+1,498, +107.6%)" in table.output
    md = runner.invoke(app, ["diff", str(old), str(new), "--format", "markdown", "--all"])
    assert md.exit_code == 0
    assert "| `conv1` | same | conv2d | (30, 30, 8) | (3, 3, 3, 8) | 224 | 194,400 |" in md.output
    assert "| ~~`pool`~~ | removed | max_pool2d |" in md.output
    assert "| `conv2` | changed | conv2d | (28, 28, 16) -> (28, 28, 32) |" in md.output
    assert "- **Total params:** 1,392 -> 2,890 (+1,498, +107.6%)" in md.output
    data = json.loads(runner.invoke(app, ["diff", str(old), str(new), "-f", "json"]).output)
    assert [x["name"] for x in data["layers"]] == ["conv2", "pool", "head", "fc"]
    assert data["totals"]["params"]["old"] == 1392


def test_symbolic_diff_and_dim(tmp_path: Path) -> None:
    old = EXAMPLES / "speech_frontend.yaml"
    new = tmp_path / "wider.yaml"
    new.write_text(
        old.read_text().replace(
            "name: conv2, type: conv2d, filters: 32", "name: conv2, type: conv2d, filters: 64"
        )
    )
    result = runner.invoke(app, ["diff", str(old), str(new), "-f", "markdown"])
    assert result.exit_code == 0, result.output
    # conv2's MACs double: 184,320 x ceil(T/4) more
    assert "184320*ceil(T/4) -> 368640*ceil(T/4) (+184320*ceil(T/4))" in result.output
    evaluated = runner.invoke(
        app, ["diff", str(old), str(new), "-f", "markdown", "--dim", "T=1000"]
    )
    # 184,320 x 250 = 46,080,000 -> 92,160,000
    assert "46,080,000 -> 92,160,000 (+46,080,000, +100.0%)" in evaluated.output


def test_identical_specs_and_broken_input(tmp_path: Path) -> None:
    keras = str(EXAMPLES / "keras_question.yaml")
    same = runner.invoke(app, ["diff", keras, keras, "-f", "markdown"])
    assert same.exit_code == 0 and "No differences." in same.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "specc: 1\nname: t\ninputs: {x: [4, 4, 1]}\nlayers:\n"
        "  - {type: conv2d, filters: 1, kernel: 5}\n"
    )
    broken = runner.invoke(app, ["diff", keras, str(bad)])
    assert broken.exit_code == 1 and "S104" in broken.output
