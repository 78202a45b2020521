"""The compiled schema predicates agree with jsonschema, the reference they stand in for.

`specc.schema` trusts a "yes" from a predicate and skips jsonschema, so a predicate that
accepts what jsonschema rejects would hide a schema error. Every test here asks both and
compares; jsonschema (with specc's type checker) is the oracle.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.ops import REGISTRY
from specc.schema import _predicate, _shell_schema, _validator_class, build_schema
from specc.schema_predicate import Unsupported, compile_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = build_schema()
DEFS = SCHEMA["$defs"]


def oracle(schema: Any) -> Any:
    """jsonschema's verdict on `schema` (which may $ref the spec's definitions)."""
    body = {"$defs": DEFS, **schema} if isinstance(schema, dict) else schema
    return _validator_class()(body).is_valid


def agree(schema: Any, instance: Any) -> None:
    expected = oracle(schema)(instance)
    assert compile_schema(schema, DEFS)(instance) is expected, (schema, instance)


# -- keyword by keyword -------------------------------------------------------------------
KEYWORD_CASES: list[tuple[Any, list[Any]]] = [
    ({"type": "integer"}, [1, 0, -3, 1.0, 2.5, True, "1", None, 10**400]),
    ({"type": "number"}, [1, 1.5, math.nan, math.inf, -math.inf, True, "1", 10**400]),
    ({"type": ["string", "null"]}, ["", "a", None, 0, [], False]),
    ({"type": "boolean"}, [True, False, 0, 1, "true"]),
    ({"type": "array"}, [[], [1], {}, "ab", (1,)]),
    ({"type": "object"}, [{}, {"a": 1}, [], None]),
    ({"const": 1}, [1, 1.0, True, "1", [1], 2]),
    ({"const": True}, [True, 1, 1.0, False]),
    ({"const": "a"}, ["a", "b", ["a"], None]),
    ({"enum": ["same", "valid"]}, ["same", "valid", "Same", 1, None, ["same"]]),
    ({"enum": [0, False, None, "x"]}, [0, 0.0, False, True, None, "x", 1]),
    ({"minimum": 1}, [1, 0, 0.5, math.nan, -math.inf, math.inf, True, False, "0", [0]]),
    ({"maximum": 1}, [1, 2, 1.5, math.nan, math.inf, True, "9"]),
    ({"exclusiveMinimum": 0}, [0, 0.0, 1e-9, -1, math.nan, False]),
    ({"exclusiveMaximum": 1}, [1, 0.999, 1.0, 2, math.nan, True]),
    ({"minItems": 1, "maxItems": 2}, [[], [1], [1, 2], [1, 2, 3], "abc", {}]),
    ({"minLength": 1}, ["", "a", [], 0]),
    ({"minProperties": 1}, [{}, {"a": 1}, [], "a"]),
    ({"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, ["T", "t_1", "1t", "", "a-b", 5, None, "a\n"]),
    ({"required": ["a", "b"]}, [{"a": 1, "b": 2}, {"a": 1}, {}, [], "ab"]),
    (
        {"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        [{}, {"a": 1}, {"a": "x"}, {"b": 1}, {1: 1}, [], None],
    ),
    (
        {"properties": {"a": {"type": "integer"}}},
        [{"a": 1}, {"a": 1.5}, {"b": "anything"}, 3],
    ),
    (
        {"additionalProperties": {"type": "array"}},
        [{"a": []}, {"a": 1}, {}, [1]],
    ),
    ({"propertyNames": {"pattern": "^a"}}, [{"ab": 1}, {"b": 1}, {1: 1}, {}, "b"]),
    (
        {"propertyNames": {"not": {"enum": ["name", "inputs"]}}},
        [{"type": 1}, {"name": 1}, {"inputs": 2}, {}],
    ),
    ({"items": {"type": "integer", "minimum": 1}}, [[], [1, 2], [1, 0], [1, True], "12", {}]),
    ({"uniqueItems": True}, [[], ["a", "b"], ["a", "a"], [1, 1.0], [[1], [1]], "aa"]),
    (
        {"oneOf": [{"type": "integer"}, {"type": "integer", "minimum": 5}]},
        [1, 7, "x", None],
    ),
    ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, [1, "a", None, 1.5]),
    ({"allOf": [{"minimum": 1}, {"maximum": 3}]}, [0, 1, 3, 4, "x"]),
    ({"not": {"type": "string"}}, ["a", 1, None]),
    (
        {"if": {"properties": {"t": {"const": "a"}}}, "then": {"required": ["x"]}},
        [{"t": "a"}, {"t": "a", "x": 1}, {"t": "b"}, {}, 1],
    ),
    (
        {"if": {"type": "integer"}, "then": {"minimum": 0}, "else": {"type": "string"}},
        [1, -1, "a", None],
    ),
    ({"$ref": "#/$defs/dim"}, [1, 0, "T", "1T", 2.0, True, None]),
    ({"$ref": "#/$defs/shape"}, [[1, "T"], [], [0], [1] * 9, ["x", "y"], "T"]),
    ({"$ref": "#/$defs/layer_inputs"}, ["a", ["a", "b"], [], ["1a"], 3, None]),
    (True, [1, None, {}]),
    (False, [1, None, {}]),
]


@pytest.mark.parametrize(
    ("schema", "instance"),
    [(schema, instance) for schema, instances in KEYWORD_CASES for instance in instances],
)
def test_each_keyword_agrees_with_jsonschema(schema: Any, instance: Any) -> None:
    agree(schema, instance)


def test_a_predicate_may_say_no_where_jsonschema_says_yes_never_the_reverse() -> None:
    # Uniqueness is exact for strings (names, the only unique lists in a spec); any other list
    # goes to jsonschema, which tells 1 from true. The "no" costs time, never a missed error.
    schema = {"uniqueItems": True}
    assert oracle(schema)([1, True]) is True
    assert compile_schema(schema)([1, True]) is False


def test_an_unknown_keyword_is_refused_when_compiling() -> None:
    with pytest.raises(Unsupported, match="contains"):
        compile_schema({"type": "array", "contains": {"const": 1}})
    with pytest.raises(Unsupported, match="ref"):
        compile_schema({"$ref": "https://example.com/other.json"})
    with pytest.raises(Unsupported, match="scalars"):
        compile_schema({"const": [1, 2]})


def test_the_whole_spec_schema_compiles() -> None:
    # A keyword added to the generated schema that the compiler does not know fails here.
    assert compile_schema(SCHEMA, DEFS)({}) is False
    for name in REGISTRY:
        compile_schema(DEFS[name], DEFS)


def test_a_recursive_definition_resolves() -> None:
    defs = {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}
    check = compile_schema({"$ref": "#/$defs/tree"}, defs)
    assert check([[], [[]]]) is True and check([[], [1]]) is False


# -- real specs ---------------------------------------------------------------------------
def spec_files() -> list[Path]:
    files = sorted((ROOT / "examples").glob("*.yaml"))
    return files + sorted((ROOT / "tests/corpus").rglob("*.yaml"))


def load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_bytes())
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


SPECS = [(p, data) for p in spec_files() if (data := load(p)) is not None]


@pytest.mark.parametrize(("path", "data"), SPECS, ids=[p.name for p, _ in SPECS])
def test_examples_and_corpus_agree_layer_by_layer(path: Path, data: Any) -> None:
    assert _predicate("<shell>")(data) is oracle(_shell_schema())(data)
    layers = data.get("layers") if isinstance(data, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        kind = layer.get("type") if isinstance(layer, dict) else None
        if isinstance(kind, str) and kind in REGISTRY:
            assert _predicate(kind)(layer) is oracle(DEFS[kind])(layer), layer


# -- generated layers ---------------------------------------------------------------------
VALUES = st.sampled_from(
    [
        *(0, 1, 2, 3, -1, 10**20, 0.5, 1.0, -0.0, math.nan, math.inf, True, False, None),
        *("", "T", "1T", "same", "valid", "causal", "relu", "x", "a-b", "bilinear", "last"),
    ]
)
JSONISH = st.recursive(
    VALUES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abk"), inner),
    max_leaves=8,
)


REQUIRED_CANDIDATES = [
    2, 1, 0.5, [2, 2], [[1, 1]], "same", [4], {"type": "relu"}, {"type": "lstm", "units": 2},
    [-1, 2], "x",
]  # fmt: skip


def valid_body(kind: str) -> dict[str, Any]:
    """A layer of type `kind`: defaults, and the first candidate that fits each required one."""
    schema = DEFS[kind]
    layer: dict[str, Any] = {"type": kind}
    for key, entry in schema["properties"].items():
        if "default" in entry:
            layer[key] = copy.deepcopy(entry["default"])
    for key in schema["required"]:
        for value in REQUIRED_CANDIDATES:
            if oracle(schema["properties"][key])(value):
                layer[key] = value
                break
    return layer


def test_every_type_has_a_valid_starting_layer() -> None:
    for kind in REGISTRY:
        assert oracle(DEFS[kind])(valid_body(kind)), kind


@st.composite
def mutated_layers(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(REGISTRY)))
    layer = valid_body(kind)
    keys = [k for k in DEFS[kind]["properties"] if k != "type"] + ["bogus"]
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in layer:
            del layer[key]
        else:
            layer[key] = draw(JSONISH | st.lists(VALUES, min_size=1, max_size=3))
    if draw(st.integers(0, 9)) == 0:
        layer["type"] = draw(st.sampled_from(sorted(REGISTRY)))  # another type's attributes
    return str(layer["type"]), layer


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(mutated_layers())
def test_generated_layers_agree(case: tuple[str, dict[str, Any]]) -> None:
    kind, layer = case
    assert _predicate(kind)(layer) is oracle(DEFS[kind])(layer), layer


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "specc": st.sampled_from([1, 1.0, True, 2, "1"]),
            "name": st.sampled_from(["n", "", 3]),
            "description": st.sampled_from(["d", None]),
            "inputs": st.dictionaries(
                st.sampled_from(["x", "y", "1x", "a-b"]),
                st.lists(st.sampled_from([1, 28, "T", 0, "1T", 2.5]), max_size=9),
                max_size=2,
            ),
            "layers": st.lists(st.just({"type": "relu"}), max_size=2),
            "outputs": st.sampled_from(["a", ["a", "a"], ["a", "b"], [], [1], 5]),
            "extra": JSONISH,
        },
    )
)
def test_generated_spec_shells_agree(data: dict[str, Any]) -> None:
    assert _predicate("<shell>")(data) is oracle(_shell_schema())(data), data
