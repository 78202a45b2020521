"""A model built in code, with no YAML and no source positions, goes through the whole pipeline."""

from __future__ import annotations

import numpy as np

from specc.api import check_model
from specc.ir import Input, Layer, Model, TensorType
from specc.lower import Plan
from specc.ops.conv import Conv2D
from specc.ops.dense import Dense
from specc.ops.pool import GlobalAvgPool
from specc.report.summary import summarize


def _model(units: int = 3) -> Model:
    layers = (
        Layer("conv", Conv2D(filters=4, kernel=3), ("x",), 0),
        Layer("pool", GlobalAvgPool(), ("conv",), 1),
        Layer("fc", Dense(units=units), ("pool",), 2),
    )
    return Model("built", "", (Input("x", TensorType((6, 6, 2))),), layers, ("fc",))


def test_a_model_built_in_code_is_checked_reported_and_run() -> None:
    checked = check_model(_model())
    assert checked.ok, checked.diagnostics
    assert checked.shapes is not None
    assert checked.shapes.types["conv"] == TensorType((4, 4, 4))
    # conv: 4 x (3 x 3 x 2 + 1) = 76; fc: 3 x (4 + 1) = 15
    assert summarize(checked.shapes).params == 76 + 15
    y = Plan(checked).run(np.ones((1, 6, 6, 2), np.float32))
    assert isinstance(y, np.ndarray) and y.shape == (1, 3)


def test_a_shape_error_in_a_built_model_has_no_position() -> None:
    bad = _model()
    wide = Layer("big", Conv2D(filters=1, kernel=9), ("x",), 0)
    checked = check_model(Model("built", "", bad.inputs, (wide,), ("big",)))
    assert [(d.code, d.span) for d in checked.diagnostics] == [("S104", None)]
