"""The Python API: specc.summary as an object with a plain repr and notebook displays; dir()."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES

import specc
from specc.lower import SpecError


def test_summary_repr_is_the_plain_table() -> None:
    report = specc.summary(EXAMPLES / "keras_question.yaml")
    lines = repr(report).splitlines()
    assert lines[0] == "keras-question"
    rows = {line.split()[0]: line.split()[-1] for line in lines if line.startswith("conv")}
    # 8 x (11 x 11 x 1 + 1) and 16 x (7 x 7 x 8 + 1)
    assert rows == {"conv1": "976", "conv2": "6,288"}
    assert "| `conv2` | `conv2d` |" in report._repr_markdown_()
    assert report.__rich__() is not None
    assert report.data.params == 976 + 6288


def test_summary_takes_yaml_text_and_raises_on_errors() -> None:
    text = "specc: 1\nname: t\ninputs: {x: [4]}\nlayers:\n  - {type: dense, units: 3}\n"
    assert specc.summary(text).data.params == 4 * 3 + 3
    with pytest.raises(SpecError) as error:
        specc.summary(text.replace("units: 3", "units: 0"))
    assert error.value.diagnostics[0].code.startswith("E")


def test_dir_lists_everything_in_all() -> None:
    assert set(specc.__all__) <= set(dir(specc))
    assert {"summary", "compile", "check_file", "check_text"} <= set(specc.__all__)
