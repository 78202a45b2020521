"""Did-you-mean compares case first: `Relu` means relu, `SAME` means same, everywhere."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES, run, spec
from typer.testing import CliRunner

from specc.cli import app
from specc.suggest import closest

runner = CliRunner()


@pytest.mark.parametrize(
    ("attribute", "meant"),
    [
        ("activation: Relu", "relu"),
        ("activation: RELU6", "relu6"),
        ("padding: SAME", "same"),
        ("padding: Valid", "valid"),
        ("padding: vaild", "valid"),
    ],
)
def test_an_allowed_value_in_another_case_is_suggested(attribute: str, meant: str) -> None:
    result = run(spec(f"- {{type: conv2d, filters: 4, kernel: 3, {attribute}}}"))
    [error] = result.diagnostics
    assert error.code == "E106" and error.message.endswith(f"did you mean '{meant}'?")


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("- {type: Conv2D, filters: 4, kernel: 3}", "conv2d"),
        ("- {type: conv2d, Filters: 4, kernel: 3}", "filters"),
        ("- {type: conv2d, filters: 4, kernel: 3}\n- {type: relu, inputs: Conv2d_1}", "conv2d_1"),
    ],
)
def test_types_keys_and_names_too(text: str, meant: str) -> None:
    messages = [d.message for d in run(spec(text)).diagnostics]
    assert any(m.endswith(f"did you mean '{meant}'?") for m in messages), messages


def test_the_commands_suggest_the_same_way() -> None:
    layer = runner.invoke(app, ["layers", "Dense"])
    assert layer.exit_code == 2 and "did you mean 'dense'?" in layer.output
    keras = EXAMPLES / "keras_question.yaml"
    name = runner.invoke(app, ["explain", str(keras), "Conv1"])
    assert name.exit_code == 2 and "did you mean 'conv1'?" in name.output


def test_nothing_close_suggests_nothing() -> None:
    assert closest("zzz", ["relu", "elu"]) is None
    assert closest("relu", ["relu", "elu"]) is None  # the word itself is no suggestion
    assert closest("Elu", ["relu", "elu"]) == "elu"
