"""The op registry and the JSON Schema describe the same layer types and attributes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from specc.ops import REGISTRY
from specc.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "specc.schema.json"


def test_registered_ops_equal_schema_types() -> None:
    schema = build_schema()
    enum = schema["$defs"]["layer"]["properties"]["type"]["enum"]
    assert set(enum) == set(REGISTRY)
    for name in REGISTRY:
        assert schema["$defs"][name]["properties"]["type"] == {"const": name}


def test_every_attribute_is_in_its_schema_entry_with_its_default() -> None:
    schema = build_schema()["$defs"]
    for name, op in REGISTRY.items():
        props = schema[name]["properties"]
        attrs = {f.name: f for f in dataclasses.fields(op)}
        assert set(props) == set(attrs) | {"type", "name", "inputs"}, name
        for attr, f in attrs.items():
            if f.default is dataclasses.MISSING:
                assert attr in schema[name]["required"]
            else:
                assert props[attr]["default"] == f.default


def test_published_schema_file_is_up_to_date() -> None:
    # Regenerate with: specc schema > schemas/specc.schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == build_schema()


def test_issue_layer_types_are_all_present() -> None:
    wanted = [
        "conv1d",
        "conv2d",
        "conv3d",
        "depthwise_conv2d",
        "conv2d_transpose",
        "dense",
        "max_pool1d",
        "max_pool2d",
        "max_pool3d",
        "avg_pool1d",
        "avg_pool2d",
        "avg_pool3d",
        "global_avg_pool",
        "global_max_pool",
        "batch_norm",
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "sigmoid",
        "tanh",
        "softmax",
        "gelu",
        "silu",
        "dropout",
        "flatten",
        "reshape",
        "add",
        "multiply",
        "concat",
        "zero_pad1d",
        "zero_pad2d",
        "zero_pad3d",
        "upsample2d",
        "time_distributed",
    ]
    assert set(wanted) == set(REGISTRY)


def test_layer_docs_are_up_to_date() -> None:
    # Regenerate with: specc layers --markdown > docs/layers.md
    from specc.report.layers import markdown

    published = SCHEMA_FILE.parent.parent / "docs" / "layers.md"
    assert published.read_text() == markdown()
