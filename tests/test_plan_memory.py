"""The plan's memory figures hold for real runs: what `specc plan` prints and `--max-memory`
checks is what a run allocates, measured with tracemalloc (deterministic, unlike time).

Each step may allocate its declared temporaries (and its output, for a kernel that returns a
new array); the kernels' reusable buffers stay within the plan's workspace; and a whole run,
after binding the weights, stays within the plan's peak. The slack covers NumPy's own small
buffers (a matmul or an uncast ufunc takes up to about 40 KiB).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import spec

import specc
from specc.lower.kernels import erf
from specc.lower.window import release_scratch, scratch_bytes

ROOT = Path(__file__).resolve().parent.parent
SLACK = 64 * 1024

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


def cases() -> list[Any]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        dims = {"T": 64} if path.stem == "speech_frontend" else None
        batches = (1,) if path.stem in ("resnet18", "mobilenet_v2") else (1, 8)
        out += [pytest.param(path.read_text(), dims, b, id=f"{path.stem}-b{b}") for b in batches]
    out += [pytest.param(EVERY_PATH, None, b, id=f"every-path-b{b}") for b in (1, 8)]
    out += [pytest.param(SEQUENCE, None, b, id=f"sequence-b{b}") for b in (1, 8)]
    return out


@pytest.mark.parametrize(("text", "dims", "batch"), cases())
def test_a_run_stays_within_the_plan(text: str, dims: dict[str, int] | None, batch: int) -> None:
    erf(np.zeros(1))  # gelu's coefficient table is made once per process, with an import
    release_scratch()
    plan = specc.compile(text, batch=batch, dims=dims)
    program = plan.program()
    data = plan.inputs(seed=0).arrays
    weights = plan.init_weights(seed=0)
    tracemalloc.start()
    try:
        executable = program.bind(weights, None)
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
                allowed = s.temp + (s.output.nbytes if s.mode == "fresh" else 0) + SLACK
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
