"""ONNX export of broadcasting merges and the shape layers, where layouts meet: a channels-first
map times a (C,) or (1, 1, C) gate, crops and slices of symbolic axes."""

from __future__ import annotations

import pytest
from conftest import run, spec

from tests.test_export_onnx import _agree

pytest.importorskip("onnxruntime")

SQUEEZE_EXCITE = """
- {name: c, type: conv2d, filters: 6, kernel: 3, padding: same, inputs: x}
- {name: sq, type: global_avg_pool, keepdims: true}
- {name: e, type: conv2d, filters: 6, kernel: 1, activation: sigmoid}
- {name: m, type: multiply, inputs: [c, e]}
- {name: v, type: global_max_pool, inputs: c}
- {name: d, type: dense, units: 6, activation: sigmoid}
- {name: m2, type: multiply, inputs: [d, m]}
- {name: s, type: subtract, inputs: [m2, v]}
- {name: p, type: max_pool2d}
- {name: a, type: add, inputs: [p, x3]}
"""
SHAPES = """
- {name: c, type: conv1d, filters: 4, kernel: 3, padding: same}
- {name: cr, type: cropping1d, cropping: [[2, 1]]}
- {name: s, type: slice, axis: 0, start: 1, stop: -1, step: 2}
- {name: ch, type: slice, start: -3, step: 2}
- {name: u, type: upsample1d, size: 3}
- {name: p, type: permute, dims: [2, 1]}
- {name: i, type: identity}
"""
IMAGES = """
- {name: c, type: conv2d, filters: 4, kernel: 3, padding: same, inputs: x}
- {name: cr, type: cropping2d, cropping: [[1, 0], 2]}
- {name: b, type: upsample2d, size: [2, 3], interpolation: bilinear}
- {name: n, type: upsample2d, size: [3, 1], inputs: cr}
- {name: v, type: conv3d, filters: 2, kernel: 1, inputs: y}
- {name: c3, type: cropping3d, cropping: [0, 1, [1, 0]]}
- {name: u3, type: upsample3d, size: [2, 1, 2]}
"""


@pytest.mark.parametrize("layout", ["last", "first"])
@pytest.mark.parametrize(
    ("body", "inputs", "dims"),
    [
        (SQUEEZE_EXCITE, "x: [8, 8, 3]\n  x3: [4, 4, 6]", {}),
        (SHAPES, "x: [T, 5]", {"T": 11}),
        (IMAGES, "x: [7, 8, 3]\n  y: [3, 4, 5, 2]", {}),
    ],
    ids=["squeeze-excite", "sequence", "images"],
)
def test_onnx_runs_as_specc(body: str, inputs: str, dims: dict[str, int], layout: str) -> None:
    text = spec(body, inputs) + ("outputs: [b, n, u3]\n" if body is IMAGES else "")
    checked = run(text)
    assert checked.ok, [d.message for d in checked.diagnostics]
    _agree(checked, dims, layout)
