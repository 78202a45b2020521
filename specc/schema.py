"""The spec's JSON Schema, generated from the op declarations, and validation -> diagnostics."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from specc import assume, codes
from specc.diagnostics import Diagnostic, Note, diag
from specc.ir import INPUT_DTYPES
from specc.ops import REGISTRY
from specc.ops.base import Json, Op
from specc.ops.common import IDENTIFIER, MAX_RANK, NAME, POSITIVE_INT
from specc.schema_predicate import Predicate, compile_schema
from specc.source import NodePath, SourceMap
from specc.suggest import did_you_mean

SCHEMA_ID = "urn:specc:schema:spec:1"
LAYER_KEYS = ("name", "type", "inputs")


def build_schema() -> Json:
    """The JSON Schema (2020-12) of format 1, one `$defs` entry per layer type."""
    types = sorted(REGISTRY)
    dispatch = [
        {
            "if": {"properties": {"type": {"const": t}}, "required": ["type"]},
            "then": {"$ref": f"#/$defs/{t}"},
        }
        for t in types
    ]
    type_enum = {"description": "the layer type", "enum": types}
    defs: Json = {
        "dim": {
            "description": "a positive integer or a symbol name such as T",
            "oneOf": [POSITIVE_INT, {"type": "string", "pattern": IDENTIFIER}],
        },
        "shape": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_RANK,
            "items": {"$ref": "#/$defs/dim"},
        },
        "input": {
            "description": "a shape (a list of dims), or a mapping {shape: [...], dtype: "
            "float32 | int32}",
            # if/then/else rather than oneOf: each form's own errors reach the user
            "if": {"type": "object"},
            "else": {"$ref": "#/$defs/shape"},
            "then": {
                "type": "object",
                "required": ["shape"],
                "additionalProperties": False,
                "properties": {
                    "shape": {"$ref": "#/$defs/shape"},
                    "dtype": {
                        "description": "float32 (real values) or int32 (indices for an embedding)",
                        "enum": list(INPUT_DTYPES),
                        "default": "float32",
                    },
                },
            },
        },
        "name": {
            "description": "a name of letters, digits, '_' and '-', not starting with a digit",
            "type": "string",
            "pattern": NAME,
        },
        "layer_inputs": {
            "description": "a name, or a list of names, of model inputs or earlier layers",
            "oneOf": [
                {"$ref": "#/$defs/name"},
                {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/name"}},
            ],
        },
        "layer": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": type_enum},
            "allOf": dispatch,
        },
        "inner_layer": {
            "description": "a layer without name or inputs, applied to every slice",
            "type": "object",
            "required": ["type"],
            "properties": {"type": type_enum},
            "propertyNames": {"not": {"enum": ["name", "inputs"]}},
            "allOf": dispatch,
        },
    }
    defs.update({t: _op_schema(REGISTRY[t]) for t in types})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "specc model spec, format 1",
        "type": "object",
        "required": ["specc", "name", "inputs", "layers"],
        "additionalProperties": False,
        "properties": {
            "specc": {"description": "the format version", "const": 1},
            "name": {
                "description": "the model's name (printable: no control characters)",
                "type": "string",
                "minLength": 1,
                # Every output shows the name; a newline or an escape in it could inject lines
                # into Mermaid, GitHub annotations or the terminal.
                "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$",
            },
            "description": {"type": "string"},
            "inputs": {
                "description": "model input name -> per-sample shape "
                "(channels last, no batch axis), or {shape, dtype}",
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": NAME},
                "additionalProperties": {"$ref": "#/$defs/input"},
            },
            "assume": {
                "description": "what is known about the symbols of the inputs, e.g. "
                "['H % 16 == 0', 'T >= 7']; inference, lint and costs use it",
                "type": "array",
                "items": {
                    "description": assume.DESCRIPTION,
                    "type": "string",
                    "pattern": assume.PATTERN,
                },
            },
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
            "outputs": {
                "description": "names of the layers (or inputs) the model returns; "
                "default: the last layer",
                "oneOf": [
                    {"$ref": "#/$defs/name"},
                    {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"$ref": "#/$defs/name"},
                    },
                ],
            },
        },
        "$defs": defs,
    }


def _op_schema(op: type[Op]) -> Json:
    props: Json = {
        "type": {"const": op.type},
        "name": {"$ref": "#/$defs/name"},
        "inputs": {"$ref": "#/$defs/layer_inputs"},
    }
    required = ["type"]
    for f in op.attributes():
        entry = {"title": f.doc, **f.schema}
        if f.required:
            required.append(f.name)
        else:
            entry["default"] = f.default
        props[f.name] = entry
    return {
        "description": op.summary,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


@cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    def is_integer(_: Any, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def is_number(_: Any, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return isinstance(value, int) or math.isfinite(value)  # a huge int overflows isfinite

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": is_integer, "number": is_number}
    )
    return validators.extend(Draft202012Validator, type_checker=checker)


@cache
def _schema() -> Json:
    return build_schema()


def _shell_schema() -> Json:
    """The spec without its layers' contents, which are validated one layer at a time."""
    schema = _schema()
    layers = {"type": "array", "minItems": 1}
    return {**schema, "properties": {**schema["properties"], "layers": layers}}


@cache
def _predicate(which: str) -> Predicate:
    """The fast yes/no of the shell ("<shell>") or of one layer type (the whole layer)."""
    defs = _schema()["$defs"]
    return compile_schema(_shell_schema() if which == "<shell>" else defs[which], defs)


def _layer_accepted(layer: object) -> bool:
    if not isinstance(layer, dict):
        return False
    kind = layer.get("type")
    return isinstance(kind, str) and kind in REGISTRY and _predicate(kind)(layer)


@cache
def _validators() -> dict[str, Any]:
    """One validator for the spec shell (layers unchecked) and one per layer type and key.

    Validating each layer against its own type's definition, instead of through the
    if/then dispatch over every type, is what makes checking thousands of layers fast.
    """
    schema = _schema()
    root = _validator_class()(schema)
    defs = schema["$defs"]

    def sub(body: Json) -> Any:
        return root.evolve(schema={"$id": SCHEMA_ID, "$defs": defs, **body})

    out = {"<shell>": root.evolve(schema=_shell_schema())}
    out.update(
        {
            "<layer>": sub(defs["layer"]),
            "name": sub(defs["name"]),
            "layer_inputs": sub(defs["layer_inputs"]),
        }
    )
    out.update({t: sub(defs[t]) for t in REGISTRY})
    return out


@dataclass
class Validation:
    """Schema problems, and whether they are confined to some layers (the rest can go on)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    invalid_layers: set[int] = field(default_factory=set)
    spec_level: bool = False  # a problem outside any single layer: nothing can be built


def validate(data: object, source: SourceMap) -> Validation:
    """All schema violations of `data`, each at its YAML node and in plain words.

    The compiled predicates (`specc.schema_predicate`) accept the valid parts; jsonschema is
    imported and run only on a part they do not accept, to find and word its errors.
    """
    result = Validation()
    reworder = _Reworder(data, source)
    if not _predicate("<shell>")(data):
        for error in _validators()["<shell>"].iter_errors(data):
            result.spec_level = True
            result.diagnostics.extend(reworder.diagnostics(error))
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        return result
    for i, layer in enumerate(layers):
        if _layer_accepted(layer):
            continue
        errors = _layer_errors(layer)
        if errors:
            result.invalid_layers.add(i)
        for error in errors:
            result.diagnostics.extend(reworder.diagnostics(error, ("layers", i)))
    return result


def _layer_errors(layer: object) -> list[Any]:
    """Schema errors of one layer, relative to it; name and inputs are checked on their own."""
    if not isinstance(layer, dict):
        return list(_validators()["<layer>"].iter_errors(layer))
    errors = []
    for key, which in (("name", "name"), ("inputs", "layer_inputs")):
        if key in layer:
            errors += [_under(e, key) for e in _cached_errors(which, _freeze(layer[key]))]
    body = {k: v for k, v in layer.items() if k not in ("name", "inputs")}
    kind = layer.get("type")
    which = kind if isinstance(kind, str) and kind in REGISTRY else "<layer>"
    return errors + list(_cached_errors(which, _freeze(body)))


@lru_cache(maxsize=4096)
def _cached_errors(which: str, frozen: Any) -> tuple[Any, ...]:
    # Specs repeat the same layer bodies (`{type: relu}`, the same conv); validation is a pure
    # function of the body, so each distinct body is validated once per process.
    return tuple(_validators()[which].iter_errors(_thaw(frozen)))


def _under(error: Any, key: str) -> Any:
    """Re-root an error found in a layer's `key` value at the layer."""
    from copy import copy

    moved = copy(error)
    moved.path = moved.relative_path = type(error.path)([key, *error.path])
    moved.parent = None
    return moved


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return ("__map__", tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", tuple(_freeze(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        return ("__nan__",)  # NaN != NaN would defeat the cache
    return (type(value).__name__, value)


def _thaw(frozen: Any) -> Any:
    tag: str = frozen[0]
    body: Any = frozen[1] if len(frozen) > 1 else None
    if tag == "__map__":
        return {k: _thaw(v) for k, v in body}
    if tag == "__list__":
        return [_thaw(v) for v in body]
    if tag == "__nan__":
        return math.nan
    return body


class _Reworder:
    """Turns one jsonschema error into diagnostics a person can act on."""

    def __init__(self, data: object, source: SourceMap) -> None:
        self.data = data
        self.source = source

    def diagnostics(self, error: Any, base: NodePath = ()) -> Iterator[Diagnostic]:
        path: NodePath = (*base, *error.absolute_path)
        keyword = error.validator
        if keyword in ("oneOf", "anyOf"):
            yield from self._one_of(error, path)
        elif keyword == "additionalProperties":
            yield from self._unknown_keys(error, path)
        elif keyword == "not" and "propertyNames" in error.schema_path:
            key = (*path, error.instance)
            message = (
                f"{self._what(key)} is not allowed in an inner layer; "
                "the wrapper passes it its input"
            )
            yield self._at(codes.SCHEMA_UNKNOWN_KEY, key, message, key=True)
        elif keyword == "required":
            yield self._required(error, path)
        else:
            yield self._simple(error, path, keyword)

    # -- message pieces ---------------------------------------------------------------------
    def _at(
        self, code: str, path: NodePath, message: str, key: bool = False, *notes: Note
    ) -> Diagnostic:
        span = self.source.key(path) if key else self.source.value(path)
        return diag(code, self._prefix(path) + message, span, *notes)

    def _prefix(self, path: NodePath) -> str:
        """`conv2: ` for anything inside a layer."""
        if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], int):
            return f"{layer_label(self.data, path[1])}: "
        return ""

    def _what(self, path: NodePath) -> str:
        """How to name the node at `path` in its layer: 'kernel', 'kernel[1]', 'layer.filters'."""
        rel = path[2:] if self._prefix(path) else path
        if not rel:
            return "the layer" if self._prefix(path) else "the spec"
        text = ""
        for part in rel:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return f"'{text}'"

    def _required(self, error: Any, path: NodePath) -> Diagnostic:
        missing = (
            error.message.split("'")[1] if "'" in error.message else str(error.validator_value)
        )
        where = "attribute" if self._prefix(path) else "key"
        return self._at(
            codes.SCHEMA_REQUIRED, path, f"missing required {where} '{missing}'", key=True
        )

    def _unknown_keys(self, error: Any, path: NodePath) -> Iterator[Diagnostic]:
        allowed = sorted(error.schema.get("properties", {}))
        where = "attribute" if self._prefix(path) else "key"
        for key in error.instance:
            if key in allowed:
                continue
            message = f"unknown {where} '{key}'"
            hint = did_you_mean(key, allowed)
            if hint:
                message += hint
            else:
                message += f" (allowed: {', '.join(allowed)})"
            yield self._at(codes.SCHEMA_UNKNOWN_KEY, (*path, key), message, key=True)

    def _one_of(self, error: Any, path: NodePath) -> Iterator[Diagnostic]:
        # Dispatch on the value's own type: when exactly one branch accepts that JSON type,
        # that branch's errors are the real ones (e.g. kernel: [3, 0] -> the item minimum).
        branches: dict[int, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        plausible = [
            errs
            for errs in branches.values()
            if not any(
                e.validator in ("type", "const", "enum") and not e.relative_path for e in errs
            )
        ]
        # Descend only when the branch says something more precise than the whole (an item
        # or a range); a pattern failure is better told as the list of allowed forms.
        if len(plausible) == 1 and all(
            e.relative_path or e.validator in RANGE_WORDS for e in plausible[0]
        ):
            for sub in plausible[0]:
                yield from self.diagnostics(sub, path[: len(path) - len(error.absolute_path)])
            return
        expected = error.schema.get("description", "one of the allowed forms")
        code = (
            codes.SCHEMA_TYPE
            if _json_type(error.instance) not in _branch_types(error.schema)
            else codes.SCHEMA_VALUE
        )
        words = [v for b in error.schema.get("oneOf", []) for v in b.get("enum", ())]
        hint = did_you_mean(error.instance, words) if isinstance(error.instance, str) else ""
        yield self._at(
            code,
            path,
            f"{self._what(path)} must be {expected}; got {_show(error.instance)}{hint}",
        )

    def _simple(self, error: Any, path: NodePath, keyword: str) -> Diagnostic:
        what, got, v = self._what(path), _show(error.instance), error.validator_value
        if keyword == "type":
            return self._at(codes.SCHEMA_TYPE, path, f"{what} must be {_article(v)}; got {got}")
        if keyword in RANGE_WORDS:
            return self._at(
                codes.SCHEMA_RANGE, path, f"{what} must be {RANGE_WORDS[keyword]} {v}; got {got}"
            )
        if keyword in ("enum", "const"):
            return self._choice(error, path, keyword)
        if keyword in ("minItems", "maxItems", "minProperties", "maxProperties", "minLength"):
            return self._at(
                codes.SCHEMA_LENGTH, path, f"{what} {LENGTH_WORDS[keyword]} {v}; got {got}"
            )
        if keyword == "pattern" or keyword == "propertyNames":
            desc = error.schema.get("description") or "a name of letters, digits and '_'"
            return self._at(codes.SCHEMA_VALUE, path, f"{what} must be {desc}; got {got}")
        if keyword == "uniqueItems":
            return self._at(codes.SCHEMA_VALUE, path, f"{what} lists a name twice: {got}")
        return self._at(codes.SCHEMA_VALUE, path, f"{what}: {error.message}")

    def _choice(self, error: Any, path: NodePath, keyword: str) -> Diagnostic:
        options = error.validator_value if keyword == "enum" else [error.validator_value]
        got = error.instance
        if path == ("specc",):
            return self._at(
                codes.SCHEMA_VERSION,
                path,
                f"unsupported format version {_show(got)}; this specc reads format 1",
            )
        shown = [o for o in options if o is not None]
        hint = did_you_mean(got, shown)
        if path and path[-1] == "type" and got not in REGISTRY:  # a known type can be misplaced
            listing = "" if hint else f" (known types: {', '.join(map(str, shown))})"
            return self._at(
                codes.SCHEMA_UNKNOWN_TYPE, path, f"unknown layer type {_show(got)}{hint}{listing}"
            )
        if len(shown) == 1:
            return self._at(
                codes.SCHEMA_VALUE,
                path,
                f"{self._what(path)} must be {_show(shown[0])}; got {_show(got)}",
            )
        listing = ", ".join(_show(o) for o in shown)
        return self._at(
            codes.SCHEMA_VALUE,
            path,
            f"{self._what(path)} must be one of {listing}; got {_show(got)}{hint}",
        )


RANGE_WORDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}
LENGTH_WORDS = {
    "minItems": "needs at least this many entries:",
    "maxItems": "takes at most this many entries:",
    "minProperties": "needs at least this many entries:",
    "maxProperties": "takes at most this many entries:",
    "minLength": "needs at least this many characters:",
}
TYPE_WORDS = {
    "integer": "an integer",
    "number": "a finite number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def layer_label(data: object, index: int) -> str:
    """A layer's name as the user knows it: its `name`, or the default `<type>_<index+1>`."""
    try:
        layer = data["layers"][index]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return f"layer {index + 1}"
    if isinstance(layer, dict):
        if isinstance(layer.get("name"), str):
            return str(layer["name"])
        if isinstance(layer.get("type"), str):
            return f"{layer['type']}_{index + 1}"
    return f"layer {index + 1}"


def _article(types: str | list[str]) -> str:
    if isinstance(types, str):
        return TYPE_WORDS.get(types, types)
    return " or ".join(TYPE_WORDS.get(t, t) for t in types)


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _branch_types(schema: Json) -> set[str]:
    types: set[str] = set()
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        if isinstance(branch, dict):
            t = branch.get("type")
            types.update([t] if isinstance(t, str) else t or [])
            if "enum" in branch or "const" in branch:
                values = branch.get("enum", [branch.get("const")])
                types.update(_json_type(v) for v in values)
            if "$ref" in branch:
                types.update(("string", "array"))  # names and lists of names
    if "integer" in types:
        types.add("number")
    return types


def _show(value: object) -> str:
    """A value as the user wrote it, shortened: 'abc', 3, [3, 0], a mapping."""
    if isinstance(value, str):
        return f"'{value}'" if len(value) < 40 else f"'{value[:37]}...'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."
