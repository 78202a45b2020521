"""The op registry and the JSON Schema describe the same layer types and attributes."""

from __future__ import annotations

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
        attrs = {f.name: f for f in op.attributes()}
        assert set(props) == set(attrs) | {"type", "name", "inputs"}, name
        for attr, f in attrs.items():
            if f.required:
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
    assert set(wanted) <= set(REGISTRY)


def test_layer_docs_are_up_to_date() -> None:
    # Regenerate with: specc layers --markdown > docs/layers.md
    from specc.report.layers import markdown

    published = SCHEMA_FILE.parent.parent / "docs" / "layers.md"
    assert published.read_text() == markdown()


# -- the declaration mechanism ------------------------------------------------------------
def test_ops_are_immutable_values_built_with_keywords() -> None:
    from dataclasses import FrozenInstanceError

    import pytest

    from specc.ops.conv import Conv2D

    a = Conv2D(filters=8, kernel=3)
    assert a == Conv2D(filters=8, kernel=3) and hash(a) == hash(Conv2D(filters=8, kernel=3))
    assert a != Conv2D(filters=8, kernel=3, stride=2)
    assert len({a, Conv2D(filters=8, kernel=3), Conv2D(filters=9, kernel=3)}) == 2
    assert (a.padding, a.stride, a.bias) == ("valid", 1, True)  # the declared defaults
    assert repr(a).startswith("Conv2D(filters=8, kernel=3, stride=1, padding='valid'")
    with pytest.raises(FrozenInstanceError):
        a.filters = 9  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'filter'"):
        Conv2D(filter=8, kernel=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing keyword argument 'kernel'"):
        Conv2D(filters=8)  # type: ignore[call-arg]
    b = a.replace(stride=2)
    assert (b.stride, b.filters, a.stride) == (2, 8, 1) and type(b) is Conv2D


def test_a_declaration_mistake_fails_when_the_class_is_defined() -> None:
    import pytest

    from specc.ops.base import Op, attr
    from specc.ops.conv import Conv2D

    with pytest.raises(TypeError, match="declare op attributes with attr"):

        class Plain(Op):
            size: int = 3

    with pytest.raises(TypeError, match="declare an attribute with a type"):

        class Shadow(Conv2D):
            padding = "same"

    with pytest.raises(TypeError, match="declare an attribute with a type"):

        class Untyped(Op):
            size = attr(default=3, schema={}, doc="")

    with pytest.raises(TypeError, match="mutable default"):

        class Mutable(Op):
            sizes: list[int] = attr(default=[1], schema={}, doc="")


def test_attributes_keep_declaration_order_with_inherited_ones_first() -> None:
    from specc.ops.base import Op, attr

    class Base(Op):
        a: int = attr(default=1, schema={}, doc="a")
        b: int = attr(default=2, schema={}, doc="b")

    class Child(Base):
        c: int = attr(schema={}, doc="c")
        a: int = attr(default=5, schema={}, doc="a again")

    assert [f.name for f in Child.attributes()] == ["a", "b", "c"]
    assert [f.required for f in Child.attributes()] == [False, False, True]
    assert Child(c=3).attr_values() == {"a": 5, "b": 2, "c": 3}
    assert Base().attr_values() == {"a": 1, "b": 2}


def test_post_init_runs_after_the_attributes_are_set() -> None:
    import pytest

    from specc.ops.base import Op, attr

    class Checked(Op):
        low: int = attr(default=0, schema={}, doc="")
        high: int = attr(default=1, schema={}, doc="")

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low > high")

    assert Checked(high=5).high == 5
    with pytest.raises(ValueError, match="low > high"):
        Checked(low=2)


def test_every_declared_example_is_valid_for_its_attribute() -> None:
    from jsonschema import Draft202012Validator

    from tests.strategies import plain

    defs = build_schema()["$defs"]
    for name, op in REGISTRY.items():
        for a in op.attributes():
            validator = Draft202012Validator({**a.schema, "$defs": defs})
            for example in a.examples:
                errors = [e.message for e in validator.iter_errors(plain(example))]
                assert not errors, (name, a.name, example, errors)


def test_every_required_attribute_declares_examples() -> None:
    # The property tests draw required attributes from the examples (a wrapper's inner layer
    # is drawn from the registry instead).
    for name, op in REGISTRY.items():
        for a in op.attributes():
            if a.required and a.name != op.inner_attr:
                assert a.examples, f"{name}.{a.name}: declare attr(..., examples=(...))"


def test_examples_are_declared_as_tuples() -> None:
    import pytest

    from specc.ops.base import attr

    with pytest.raises(TypeError, match="use a tuple"):
        attr(schema={}, doc="", examples=[1, 2])  # type: ignore[arg-type]
    assert attr(schema={}, doc="", examples=([1, 2], 3)).examples == ((1, 2), 3)
