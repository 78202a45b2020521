"""Fuzzing: mutated specs always come back as a report or as diagnostics with positions, never
as an exception or a hang.

The default run is bounded and derandomized (the same examples every time); set
SPECC_FUZZ_EXAMPLES=5000 for a longer, random search.
"""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc.api import Checked, check_text
from specc.limits import Limits
from specc.ops import REGISTRY
from specc.passes.costs import measure
from specc.report.summary import summarize, to_json
from specc.report.text import format_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [
    p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "examples").glob("*.yaml"))
    + sorted((ROOT / "tests/corpus/good").glob("*.yaml"))
    if p.read_bytes()[:2] not in (b"\xff\xfe", b"\xfe\xff")  # the UTF-16 one is not str-mutable
]
SMALL = [
    "specc: 1\nname: s\ninputs: {x: [8, 8, 2]}\nlayers:\n"
    "  - {name: c, type: conv2d, filters: 4, kernel: 3, padding: same, groups: 2}\n"
    "  - {name: p, type: max_pool2d}\n  - {type: upsample2d}\n"
    "  - {type: add, inputs: [c, upsample2d_3]}\n"
    "  - {type: time_distributed, layer: {type: conv1d, filters: 2, kernel: 2}}\n"
    "  - {type: reshape, shape: [-1, 2]}\n  - {type: flatten}\n  - {type: dense, units: 3}\n",
    "specc: 1\nname: t\ninputs: {a: [T, 6], b: [T, 6]}\nlayers:\n"
    "  - {name: c, type: concat, inputs: [a, b]}\n"
    "  - {type: conv1d, filters: 4, kernel: 3, stride: 2}\n"
    "  - {type: zero_pad1d, padding: [[1, 2]]}\n  - {type: avg_pool1d, pool: 2, padding: same}\n"
    "  - {type: batch_norm}\n  - {type: global_max_pool}\noutputs: [global_max_pool_6, c]\n",
    "specc: 1\nname: v\ninputs: {x: [4, 6, 6, 3]}\nlayers:\n"
    "  - {type: conv3d, filters: 2, kernel: [1, 3, 3], dilation: [1, 2, 1]}\n"
    "  - {type: zero_pad3d}\n  - {type: max_pool3d, pool: [1, 2, 2]}\n"
    "  - {type: time_distributed, layer: {type: depthwise_conv2d, kernel: 2, multiplier: 2}}\n"
    "  - {type: time_distributed,\n"
    "     layer: {type: conv2d_transpose, filters: 2, kernel: 3, stride: 2}}\n"
    "  - {type: dropout, rate: 0.5}\n  - {type: softmax}\n",
]
ALL_SEEDS = SEEDS + SMALL
SEED_DATA = [yaml.safe_load(text) for text in ALL_SEEDS]

EXAMPLES = int(os.environ.get("SPECC_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 60,
    derandomize=not EXAMPLES,
    deadline=2000,  # milliseconds per example: a hang fails the test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
LIMITS = Limits(max_bytes=1 << 20, max_nodes=20_000)  # a mutation may multiply a seed


# -- the property -----------------------------------------------------------------------------
def assert_report_or_diagnostics(text: str | bytes) -> Checked:
    result = check_text(text, "fuzz.yaml", LIMITS)
    rendered = format_text(result.diagnostics, {"fuzz.yaml": result.source})
    assert "Traceback" not in rendered
    for d in result.diagnostics:
        assert d.span is not None and d.span.line >= 1 and d.span.col >= 1, d
        assert d.message and "\n" not in d.message, d
    if result.ok:
        assert result.shapes is not None
        summary = summarize(result.shapes, costs=measure(result.shapes))
        json.dumps(to_json(summary))
    else:
        assert result.diagnostics
    return result


# -- mutations of the data ---------------------------------------------------------------------
ODD_VALUES = st.sampled_from(
    [
        0,
        -1,
        1,
        2,
        3,
        7,
        2**31,
        2**63,
        10**400,
        1.5,
        -0.0,
        math.nan,
        math.inf,
        -math.inf,
        "T",
        "",
        "-1",
        "floor",
        "same",
        "valid",
        "relu",
        "x",
        "conv2d",
        None,
        True,
        False,
        [],
        {},
        [0],
        [3, 3],
        [[1, 2]],
        [-1, -1],
        {"type": "relu"},
        "a" * 300,
    ]
)
LAYER_TYPES = st.sampled_from(sorted(REGISTRY))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `node` (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(SEED_DATA)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(data, path), path[-1]
        action = draw(
            st.sampled_from(
                ["drop", "retype", "perturb", "type", "splice", "duplicate", "reorder", "rename"]
            )
        )
        if action == "drop":
            del parent[key]
        elif action == "retype":
            parent[key] = copy.deepcopy(
                draw(ODD_VALUES)
            )  # later mutations must not change the pool
        elif (
            action == "perturb"
            and isinstance(parent[key], int)
            and not isinstance(parent[key], bool)
        ):
            parent[key] = parent[key] + draw(st.sampled_from([-2, -1, 1, 2])) * draw(
                st.sampled_from([1, 7, 2**40])
            )
        elif action == "type" and isinstance(parent, dict) and "type" in parent:
            parent["type"] = draw(LAYER_TYPES)
        elif (
            action in ("splice", "duplicate", "reorder")
            and isinstance(data.get("layers"), list)
            and data["layers"]
        ):
            layers = data["layers"]
            i = draw(st.integers(0, len(layers) - 1))
            if action == "splice":
                donor = draw(st.sampled_from(SEED_DATA)).get("layers") or [{}]
                layers.insert(i, copy.deepcopy(draw(st.sampled_from(donor))))
            elif action == "duplicate":
                layers.insert(i, copy.deepcopy(layers[i]))
            else:
                layers.insert(draw(st.integers(0, len(layers) - 1)), layers.pop(i))
        elif action == "rename" and isinstance(parent, dict):
            parent[
                draw(st.sampled_from(["name", "inputs", "outputs", "kernel", "x", "type", "layer"]))
            ] = parent.pop(key)
    return data


@FUZZ
@given(mutated_data())
def test_mutated_data(data: Any) -> None:
    try:
        text = yaml.safe_dump(data, sort_keys=False)
    except (
        ValueError,
        OverflowError,
    ):  # PyYAML cannot write every value (e.g. 10**400 is fine, NaN keys...)
        return
    assert_report_or_diagnostics(text)


# -- mutations of the text ----------------------------------------------------------------------
@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(ALL_SEEDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "indent", "dedent", "insert", "splice", "cut"]
            )
        )
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":  # duplicate keys and layers
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "indent":
            lines[i] = draw(st.sampled_from([" ", "  ", "\t", "- "])) + lines[i]
        elif action == "dedent":
            lines[i] = lines[i].lstrip()
        elif action == "insert":
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        [
                            "---\n",
                            "&a\n",
                            "*a\n",
                            "<<: *a\n",
                            "  - &a {type: relu}\n",
                            "  - *a\n",
                            "x: [\n",
                            "'\n",
                            ": :\n",
                            "  - {type: dense, units: 010}\n",
                            "  on: yes\n",
                            "%YAML 1.1\n",
                            "!!binary\n",
                            "? [a]\n: b\n",
                        ]
                    )
                ),
            )
        elif action == "splice":
            donor = draw(st.sampled_from(ALL_SEEDS)).splitlines(keepends=True)
            lines.insert(i, draw(st.sampled_from(donor)))
        elif action == "cut":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(
                st.sampled_from(["", "\n", "{", "[", ":", "#", ",", "'", '"', "*", "&"])
            )
    return "".join(lines)


@FUZZ
@given(mutated_text())
def test_mutated_text(text: str) -> None:
    assert_report_or_diagnostics(text)


@FUZZ
@given(
    st.sampled_from(ALL_SEEDS),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_corrupted_bytes(text: str, hits: list[tuple[float, int]]) -> None:
    raw = bytearray(text.encode("utf-8"))
    for where, byte in hits:
        raw[min(int(where * len(raw)), len(raw) - 1)] = byte
    assert_report_or_diagnostics(bytes(raw))


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    assert_report_or_diagnostics(text)


def test_seeds_are_valid() -> None:
    """The mutations start from specs that check clean, so a failure means the mutation broke it."""
    for text in ALL_SEEDS:
        assert check_text(text).ok, text[:60]
