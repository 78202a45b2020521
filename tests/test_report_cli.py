"""`specc report`: columns, --dim, --batch, and JSON output checked against its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from specc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
runner = CliRunner()


def invoke(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def report_json(*args: object) -> dict:  # type: ignore[type-arg]
    result = invoke("report", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_report_matches_the_schema(path: Path) -> None:
    data = report_json(path)
    errors = [e.message for e in Draft202012Validator(SCHEMA).iter_errors(data)]
    assert errors == []


def test_evaluated_batched_torch_report_matches_the_schema() -> None:
    data = report_json(
        EXAMPLES / "speech_frontend.yaml", "--dim", "T=100", "--batch", "3", "--layout", "torch"
    )
    assert list(Draft202012Validator(SCHEMA).iter_errors(data)) == []
    assert data["dims"] == {"T": 100} and data["batch"] == 3


def test_json_carries_every_new_column() -> None:
    data = report_json(EXAMPLES / "keras_question.yaml")
    conv2 = data["layers"][1]
    # 85 x 85 x 16 outputs x (7 x 7 x 8) taps; 85 x 85 x 16 x 4 bytes
    assert conv2["macs"] == 45_315_200 and conv2["flops"] == 2 * 45_315_200
    assert conv2["activation_bytes"] == 462_400
    assert conv2["receptive_field"] == {"size": [17, 17], "jump": [1, 1]}
    assert conv2["trainable"] is True
    totals = data["totals"]
    assert totals["macs"] == 8_016_008 + 45_315_200
    assert totals["peak_activation_bytes"] == 264_992 + 462_400
    assert totals["peak_at"] == [{"layer": "conv2", "live": ["conv1", "conv2"]}]
    assert "1 MAC = one multiply plus one add" in data["conventions"]["macs"]


def test_json_trainable_flags_and_global_fields() -> None:
    layers = {x["name"]: x for x in report_json(EXAMPLES / "residual_block.yaml")["layers"]}
    assert layers["stem_bn"]["trainable"] == "partial"  # gamma, beta yes; moving statistics no
    assert layers["stem_relu"]["trainable"] is None
    assert layers["pool"]["receptive_field"] == "global"


def test_symbolic_json_and_its_evaluation() -> None:
    data = report_json(EXAMPLES / "speech_frontend.yaml")
    assert data["totals"]["macs"] == "34560*ceil(T/2)+184320*ceil(T/4)"
    assert data["totals"]["peak_activation_bytes"] == "10240*ceil(T/2)"
    assert data["constraints"] == [
        {"kind": "min", "symbol": "T", "value": 1, "where": "features", "axis": 0, "dim": "T"}
    ]
    evaluated = report_json(EXAMPLES / "speech_frontend.yaml", "--dim", "T=1000")
    # 34,560 x 500 + 184,320 x 250
    assert evaluated["totals"]["macs"] == 63_360_000
    assert evaluated["layers"][-1]["output_shape"] == [250, 20, 32]
    assert evaluated["totals"]["peak_activation_bytes"] == 10240 * 500
    assert evaluated["constraints"] == []
    batched = report_json(EXAMPLES / "speech_frontend.yaml", "--dim", "T=1000", "--batch", "8")
    assert batched["totals"]["macs"] == 8 * 63_360_000
    assert batched["totals"]["params"] == evaluated["totals"]["params"]  # weights do not batch


def test_default_table_is_unchanged_and_columns_select() -> None:
    plain = invoke("report", EXAMPLES / "keras_question.yaml", "--format", "markdown")
    assert "| Layer | Type | Output shape | Kernel shape | Params |" in plain.output
    chosen = invoke(
        "report",
        EXAMPLES / "keras_question.yaml",
        "-f",
        "markdown",
        "--columns",
        "rf,name,macs,memory",
    )
    assert chosen.exit_code == 0, chosen.output
    # display order is fixed, whatever order the columns were asked in
    assert "| Layer | MACs | Memory | Receptive field |" in chosen.output
    assert "| `conv2` | 45,315,200 | 451.6 KiB | 17x17 jump 1x1 |" in chosen.output
    assert "Total MACs (per sample):** 53,331,208 (53.33 M)" in chosen.output


def test_table_shows_totals_and_constraints() -> None:
    result = invoke("report", EXAMPLES / "speech_frontend.yaml", "-c", "name,macs")
    assert result.exit_code == 0, result.output
    assert "34560*ceil(T/2)+184320*ceil(T/4)" in result.output
    assert "T >= 1" in result.output
    assert "1 MAC = 1 multiply + 1 add" in result.output


def test_inputs_column_asked_for_is_filled_on_every_row() -> None:
    result = invoke(
        "report", EXAMPLES / "keras_question.yaml", "-f", "markdown", "-c", "name,inputs"
    )
    assert "| `conv2` | conv1 |" in result.output


def test_bad_options_exit_2() -> None:
    spec = EXAMPLES / "speech_frontend.yaml"
    assert invoke("report", spec, "--columns", "name,flops,bogus").exit_code == 2
    assert invoke("report", spec, "--dim", "T").exit_code == 2
    assert invoke("report", spec, "--dim", "T=x").exit_code == 2
    unknown = invoke("report", spec, "--dim", "U=3")
    assert unknown.exit_code == 2 and "the spec's symbols: T" in unknown.output
    assert invoke("report", spec, "--batch", "0").exit_code == 2


def test_a_value_that_breaks_the_spec_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "valid.yaml"
    spec.write_text(
        "specc: 1\nname: t\ninputs: {x: [T, 80, 3]}\nlayers:\n"
        "  - {name: c1, type: conv2d, filters: 4, kernel: 3, stride: 2}\n"
        "  - {name: c2, type: conv2d, filters: 4, kernel: 3, stride: 2}\n"
    )
    result = invoke("report", spec, "--dim", "T=6")
    assert result.exit_code == 1
    assert "T=6 is below 7" in result.output
    assert invoke("report", spec, "--dim", "T=7").exit_code == 0


CONV_BN = (
    "specc: 1\nname: t\ninputs:\n  x: [8, 8, 2]\nlayers:\n"
    "  - {name: conv, type: conv2d, filters: 3, kernel: 3, bias: false}\n"
    "  - {name: bn, type: batch_norm}\n"
)


@pytest.mark.parametrize(
    ("layout", "totals", "bn"),
    [
        # conv 3 x 3 x 2 x 3 = 54; bn gamma + beta = 6 trainable, moving mean + var = 6.
        ("keras", (66, 60, 6, 0), (12, 6, 0, "partial")),
        # PyTorch keeps running_mean and running_var as buffers: not parameters at all.
        ("torch", (60, 60, 0, 6), (6, 6, 6, True)),
    ],
)
def test_torch_counts_batch_norm_statistics_as_buffers(
    tmp_path: Path, layout: str, totals: tuple[int, ...], bn: tuple[object, ...]
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(CONV_BN)
    data = report_json(path, "--layout", layout)
    got = data["totals"]
    assert (
        got["params"],
        got["trainable_params"],
        got["non_trainable_params"],
        got["buffers"],
    ) == totals
    assert got["weight_bytes"] == 66 * 4  # every stored array, either way
    layer = data["layers"][1]
    assert (layer["params"], layer["trainable_params"], layer["buffers"], layer["trainable"]) == bn
    assert list(Draft202012Validator(SCHEMA).iter_errors(data)) == []
    table = invoke("report", path, "--layout", layout).output
    assert re.search(rf"Total params: +{totals[0]}\n", table)
    buffers = re.search(r"Buffers \(batch-norm running mean and var\): +(\d+)\n", table)
    assert (buffers and buffers[1]) == ("6" if layout == "torch" else None)


def test_the_readme_shows_what_specc_report_prints_when_piped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readme = (ROOT / "README.md").read_text()
    (shown,) = re.findall(r"\$ specc report examples/keras_question.yaml\n(.*?)```", readme, re.S)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(ROOT)
    result = invoke("report", "examples/keras_question.yaml")
    assert result.exit_code == 0 and result.stdout == shown
