"""The plan's memory figures hold for real runs: what `specc plan` prints and `--max-memory`
checks is what a run allocates, measured with tracemalloc (deterministic, unlike time).

Each step may allocate its declared temporaries (and its output, for a kernel that returns a
new array); the kernels' reusable buffers stay within the plan's workspace; and a whole run,
after binding the weights, stays within the plan's peak. The plan counts NumPy's own buffers
(`NUMPY_BUFFERS`) as one more temporary of every step; the slack covers Python objects.
Besides the hand-written cases, every registered type runs in a small network of its own.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import example_dims, spec

import specc
from specc.lower.ops.activation import erf
from specc.lower.window import NUMPY_BUFFERS, release_scratch, scratch_bytes
from specc.ops import REGISTRY
from tests.strategies import network_with

ROOT = Path(__file__).resolve().parent.parent
SLACK = 16 * 1024

# Every kernel path: full, grouped, dilated, unrolled (few filters) and pointwise convolutions,
# depthwise with a multiplier, every activation with scratch or temporaries, padded pooling,
# transposed convolution, upsampling, unfolded batch norm, concat, dense on a feature map.
EVERY_PATH = spec(
    "- {name: c1, type: conv2d, filters: 4, kernel: 3, dilation: 2, padding: same}\n"
    "- {name: g, type: conv2d, filters: 8, kernel: 3, groups: 2, stride: 2, padding: same}\n"
    "- {name: dw, type: depthwise_conv2d, kernel: 3, multiplier: 2, padding: same}\n"
    "- {name: e, type: elu}\n- {name: gl, type: gelu}\n- {name: sg, type: sigmoid}\n"
    "- {name: si, type: silu}\n- {name: lr, type: leaky_relu}\n"
    "- {name: t, type: conv2d_transpose, filters: 4, kernel: 3, stride: 2, padding: same}\n"
    "- {name: ap, type: avg_pool2d, pool: 3, stride: 2, padding: same}\n"
    "- {name: up, type: upsample2d, size: [2, 3]}\n"
    "- {name: zp, type: zero_pad2d, padding: 1}\n- {name: bn, type: batch_norm}\n"
    "- {name: sm, type: softmax}\n- {name: cat, type: concat, inputs: [sm, zp]}\n"
    "- {name: pw, type: conv2d, filters: 6, kernel: 1}\n"
    "- {name: d, type: dense, units: 5}\n- {type: global_avg_pool}",
    "x: [20, 20, 3]",
)
SEQUENCE = spec(
    "- {type: conv1d, filters: 6, kernel: 5, stride: 2, padding: same}\n"
    "- {type: max_pool1d, pool: 2, padding: same}\n"
    "- {type: time_distributed, layer: {type: dense, units: 3}}\n- {type: tanh}",
    "x: [50, 4]",
)


VOLUMES = spec(
    "- {type: conv3d, filters: 5, kernel: 3, stride: 2, padding: same}\n"
    "- {type: conv3d, filters: 3, kernel: [2, 3, 3], dilation: 2, padding: same, activation: relu}\n"
    "- {type: max_pool3d, pool: 2, padding: same}\n"
    "- {type: avg_pool3d, pool: 3, stride: 1, padding: same}\n"
    "- {type: conv3d, filters: 40, kernel: 2}\n- {type: global_avg_pool}",
    "x: [9, 10, 11, 3]",
)
WRAPPED = spec(
    "- {type: time_distributed, layer: {type: depthwise_conv2d, kernel: 3, multiplier: 2}}\n"
    "- {type: relu}\n"
    "- {type: time_distributed, layer: {type: max_pool2d, pool: 3, stride: 1, padding: same}}\n"
    "- {type: time_distributed, layer: {type: upsample2d, size: [2, 3]}}\n"
    "- {type: time_distributed, layer: {type: batch_norm}}\n"
    "- {type: time_distributed, layer: {type: conv2d_transpose, filters: 3, kernel: 3, "
    "stride: 2, padding: same}}\n"
    "- {type: time_distributed, layer: {type: conv2d, filters: 4, kernel: 3, activation: gelu}}\n"
    "- {type: time_distributed, layer: {type: global_max_pool}}\n- {type: softmax}",
    "x: [4, 9, 10, 3]",
)
# Model outputs written late, after a large temporary: an output is made when its step runs.
LATE_OUTPUTS = (
    spec(
        "- {name: a, type: gelu}\n- {name: p, type: max_pool2d, pool: 2}\n"
        "- {name: u, type: upsample2d, inputs: p}\n- {name: bn, type: batch_norm, inputs: u}\n"
        "- {name: t, type: conv2d_transpose, filters: 2, kernel: 2, stride: 2, inputs: p}",
        "x: [64, 64, 8]",
    )
    + "outputs: [a, u, bn, t]\n"
)
# Broadcasting merges (in place only into an input of the output's shape), kept axes, crops,
# slices, transposes and bilinear upsampling (two temporaries per axis).
SHAPES = spec(
    "- {name: c, type: conv2d, filters: 6, kernel: 3, padding: same}\n"
    "- {name: g, type: global_avg_pool, keepdims: true}\n"
    "- {name: m, type: multiply, inputs: [c, g]}\n- {name: v, type: global_max_pool, inputs: c}\n"
    "- {name: s, type: subtract, inputs: [v, m]}\n- {name: cr, type: cropping2d, cropping: 1}\n"
    "- {name: sl, type: slice, axis: 1, start: 1, step: 2}\n"
    "- {name: q, type: reshape, shape: [-1, 6]}\n"
    "- {name: p, type: permute, dims: [2, 1, 3], inputs: sl}\n"
    "- {name: u, type: upsample2d, size: [3, 2], interpolation: bilinear}\n"
    "- {name: u1, type: upsample1d, inputs: q}",
    "x: [12, 10, 3]",
).replace("layers:", "outputs: [u, u1]\nlayers:")
# Every recurrent kernel path: a projection of all steps, a state GEMM per step, merges.
RECURRENT = spec(
    "- {type: lstm, units: 24, return_sequences: true}\n"
    "- {type: gru, units: 16, return_sequences: true, activation: elu}\n"
    "- {type: gru, units: 8, reset_after: false, return_sequences: true}\n"
    "- {type: bidirectional, merge_mode: ave, layer: {type: lstm, units: 8, "
    "return_sequences: true}}\n"
    "- {type: bidirectional, layer: {type: gru, units: 4}}",
    "x: [50, 12]",
)
CASES = {
    "every-path": EVERY_PATH,
    "sequence": SEQUENCE,
    "volumes": VOLUMES,
    "shapes": SHAPES,
    "recurrent": RECURRENT,
}
CASES |= {"wrapped": WRAPPED, "late-outputs": LATE_OUTPUTS}


def cases() -> list[Any]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        dims = example_dims(path) or None
        batches = (1,) if path.stem in ("resnet18", "mobilenet_v2") else (1, 8)
        out += [
            pytest.param(path.read_text(), dims, b, "float32", id=f"{path.stem}-b{b}")
            for b in batches
        ]
    for name, text in CASES.items():
        out += [
            pytest.param(text, None, b, dtype, id=f"{name}-b{b}-{dtype}")
            for b in (1, 3)
            for dtype in ("float32", "float64")
        ]
    return out


@pytest.mark.parametrize(("text", "dims", "batch", "dtype"), cases())
def test_a_run_stays_within_the_plan(
    text: str, dims: dict[str, int] | None, batch: int, dtype: str
) -> None:
    within_the_plan(text, dims, batch, dtype)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_registered_type_runs_within_the_plan(kind: str) -> None:
    network = network_with(kind, max_elements=2_000, max_macs=100_000)
    assert kind in network.types
    within_the_plan(network.text, network.dims, 3, "float32")


def test_the_registry_cases_cover_every_type() -> None:
    covered = set().union(*(network_with(kind).types for kind in REGISTRY))
    assert covered == set(REGISTRY)


def within_the_plan(text: str, dims: dict[str, int] | None, batch: int, dtype: str) -> None:
    """Each step allocates what the plan says, and a whole run stays within its peak."""
    erf(np.zeros(1))  # gelu's coefficient table is made once per process, with an import
    release_scratch()
    plan = specc.compile(text, batch=batch, dims=dims, dtype=dtype)
    program = plan.program()
    data = plan.inputs(seed=0).arrays
    weights = plan.init_weights(seed=0)
    tracemalloc.start()
    try:
        executable = program.bind(weights)
        del weights
        tracemalloc.reset_peak()
        executable.run(data)  # the first run also sizes the reusable buffers
        run_peak = tracemalloc.get_traced_memory()[1]
        over = []
        for step in program.steps:

            def measured(ins: Any, out: Any, consts: Any, fn: Any = step.fn, s: Any = step) -> Any:
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                result = fn(ins, out, consts)
                fresh = s.output.nbytes if s.mode == "fresh" else 0
                allowed = s.temp + fresh + NUMPY_BUFFERS + SLACK
                if tracemalloc.get_traced_memory()[1] - before > allowed:
                    over.append((s.kind, s.detail, tracemalloc.get_traced_memory()[1] - before))
                return result

            step.fn = measured
        executable.run(data)
    finally:
        tracemalloc.stop()
    memory = program.memory
    assert over == [], "steps allocate more than the plan says"
    assert scratch_bytes() <= memory.workspace
    # The inputs were allocated before tracing: the plan counts them, the trace does not.
    inputs = sum(a.nbytes for a in data.values())
    assert run_peak + inputs <= memory.peak + SLACK
