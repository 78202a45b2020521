"""The spec schema compiled to plain Python predicates: a fast yes/no before jsonschema.

Most specs a linter sees are valid. Proving that with jsonschema means importing it (about
0.1 s of a one-file `specc check`) and walking its validator machinery for every layer. This
module compiles the JSON Schema that `specc.schema` generates into nested closures that answer
one question: does the instance satisfy the schema? Only when the answer is no does
`specc.schema` import jsonschema, which then finds and words the errors.

The contract is one-sided, so that a gap here can only cost time, never hide an error: a
predicate may say no where jsonschema says yes (the caller then asks jsonschema, which finds
nothing), but it must never say yes where jsonschema says no. Where exact agreement would take
jsonschema's general machinery (uniqueness of arbitrary JSON values), the predicate says no.
A keyword this module does not know raises `Unsupported` when the schema is compiled, so a
schema that grows a new keyword fails the tests instead of being half-checked.

Semantics follow JSON Schema 2020-12 as jsonschema 4 implements it, with specc's type
checker: `integer` excludes booleans and floats, `number` excludes booleans and non-finite
floats. `tests/test_schema_predicate.py` compares the two on generated instances.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]
Json = Mapping[str, Any]

# Keywords that never affect validity.
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
)
# Keywords read together with another one (then/else without an if are ignored).
COMPANIONS = frozenset({"then", "else", "properties", "patternProperties"})


class Unsupported(ValueError):
    """The schema uses a keyword, or a form of one, that this compiler does not implement."""


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)  # a huge int overflows isfinite


TYPES: dict[str, Predicate] = {
    "integer": is_integer,
    "number": is_number,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def compile_schema(schema: Json | bool, defs: Json | None = None) -> Predicate:
    """A predicate for `schema`; `$ref`s of the form `#/$defs/NAME` resolve in `defs`."""
    return _Compiler(defs or {}).compile(schema)


class _Compiler:
    def __init__(self, defs: Json) -> None:
        self.defs = defs
        self.refs: dict[str, Predicate] = {}

    def compile(self, schema: Json | bool) -> Predicate:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise Unsupported(f"a schema must be a mapping or a boolean, not {schema!r}")
        checks = []
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword in COMPANIONS:
                continue
            make = KEYWORDS.get(keyword)
            if make is None:
                raise Unsupported(f"keyword {keyword!r}")
            checks.append(make(self, value, schema))
        if ("properties" in schema or "patternProperties" in schema) and (
            "additionalProperties" not in schema
        ):
            checks.append(_properties(self, schema))
        return _all(checks)

    def ref(self, ref: str) -> Predicate:
        prefix = "#/$defs/"
        if not ref.startswith(prefix) or ref[len(prefix) :] not in self.defs:
            raise Unsupported(f"$ref {ref!r}")
        name = ref[len(prefix) :]
        if name not in self.refs:
            # Defined before compiling so that a recursive definition finds itself.
            target: list[Predicate] = []
            self.refs[name] = lambda value: target[0](value)
            target.append(self.compile(self.defs[name]))
            self.refs[name] = target[0]
        return self.refs[name]


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _all(checks: list[Predicate]) -> Predicate:
    checks = [c for c in checks if c is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)


def _scalar(value: Any) -> Any:
    if isinstance(value, list | dict):
        raise Unsupported(f"const/enum values must be scalars, not {value!r}")
    return value


def _equal(instance: Any, expected: Any) -> bool:
    """jsonschema's equality for a scalar `expected`: booleans never equal numbers."""
    if isinstance(instance, bool) or isinstance(expected, bool):
        return isinstance(instance, bool) and isinstance(expected, bool) and instance == expected
    if isinstance(instance, list | dict):
        return False
    return bool(instance == expected)


# -- keywords -----------------------------------------------------------------------------
# Each maker returns the predicate of one keyword; a keyword that constrains one JSON type
# accepts every instance of any other type, as the specification says.
Maker = Callable[[_Compiler, Any, Json], Predicate]


def _type(c: _Compiler, value: Any, schema: Json) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    try:
        tests = [TYPES[n] for n in names]
    except KeyError as error:
        raise Unsupported(f"type {error}") from None
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


def _const(c: _Compiler, value: Any, schema: Json) -> Predicate:
    expected = _scalar(value)
    return lambda v: _equal(v, expected)


def _enum(c: _Compiler, value: Any, schema: Json) -> Predicate:
    options = [_scalar(o) for o in value]
    if all(isinstance(o, str) for o in options):
        strings = frozenset(options)
        return lambda v: isinstance(v, str) and v in strings
    return lambda v: any(_equal(v, o) for o in options)


def _bound(compare: Callable[[Any, Any], bool]) -> Maker:
    def make(c: _Compiler, limit: Any, schema: Json) -> Predicate:
        if not is_number(limit):
            raise Unsupported(f"bound {limit!r}")
        # jsonschema reports an error when `compare(instance, limit)` holds for a number.
        return lambda v: not (is_number(v) and compare(v, limit))

    return make


def _size(kind: str, too_small: bool) -> Maker:
    test = TYPES[kind]

    def make(c: _Compiler, limit: Any, schema: Json) -> Predicate:
        if too_small:
            return lambda v: not test(v) or len(v) >= limit
        return lambda v: not test(v) or len(v) <= limit

    return make


def _pattern(c: _Compiler, value: Any, schema: Json) -> Predicate:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _required(c: _Compiler, value: Any, schema: Json) -> Predicate:
    keys = tuple(value)
    return lambda v: not isinstance(v, dict) or all(k in v for k in keys)


def _properties(c: _Compiler, schema: Json) -> Predicate:
    """properties, patternProperties and additionalProperties, which read each other."""
    known = {k: c.compile(s) for k, s in schema.get("properties", {}).items()}
    patterns = [
        (re.compile(p).search, c.compile(s)) for p, s in schema.get("patternProperties", {}).items()
    ]
    extra = schema.get("additionalProperties", True)
    extra_check = c.compile(extra)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            matched = False
            test = known.get(key)
            if test is not None:
                matched = True
                if not test(item):
                    return False
            for search, pattern_test in patterns:
                if isinstance(key, str) and search(key):
                    matched = True
                    if not pattern_test(item):
                        return False
            if not matched and not extra_check(item):
                return False
        return True

    return check


def _additional(c: _Compiler, value: Any, schema: Json) -> Predicate:
    return _properties(c, schema)


def _property_names(c: _Compiler, value: Any, schema: Json) -> Predicate:
    test = c.compile(value)
    return lambda v: not isinstance(v, dict) or all(test(k) for k in v)


def _items(c: _Compiler, value: Any, schema: Json) -> Predicate:
    if "prefixItems" in schema:
        raise Unsupported("prefixItems")
    test = c.compile(value)
    return lambda v: not isinstance(v, list) or all(test(item) for item in v)


def _unique(c: _Compiler, value: Any, schema: Json) -> Predicate:
    if not value:
        return _always

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        # Exact for strings; anything else is left to jsonschema (a "no" is always safe).
        return all(isinstance(item, str) for item in v) and len(set(v)) == len(v)

    return check


def _branches(c: _Compiler, value: Iterable[Any]) -> list[Predicate]:
    return [c.compile(s) for s in value]


def _one_of(c: _Compiler, value: Any, schema: Json) -> Predicate:
    tests = _branches(c, value)
    return lambda v: sum(1 for t in tests if t(v)) == 1


def _any_of(c: _Compiler, value: Any, schema: Json) -> Predicate:
    tests = _branches(c, value)
    return lambda v: any(t(v) for t in tests)


def _all_of(c: _Compiler, value: Any, schema: Json) -> Predicate:
    return _all(_branches(c, value))


def _not(c: _Compiler, value: Any, schema: Json) -> Predicate:
    test = c.compile(value)
    return lambda v: not test(v)


def _if(c: _Compiler, value: Any, schema: Json) -> Predicate:
    condition = c.compile(value)
    then = c.compile(schema.get("then", True))
    otherwise = c.compile(schema.get("else", True))
    return lambda v: then(v) if condition(v) else otherwise(v)


def _ref(c: _Compiler, value: Any, schema: Json) -> Predicate:
    return c.ref(value)


KEYWORDS: dict[str, Maker] = {
    "type": _type,
    "const": _const,
    "enum": _enum,
    "minimum": _bound(lambda v, limit: v < limit),
    "maximum": _bound(lambda v, limit: v > limit),
    "exclusiveMinimum": _bound(lambda v, limit: v <= limit),
    "exclusiveMaximum": _bound(lambda v, limit: v >= limit),
    "minItems": _size("array", too_small=True),
    "maxItems": _size("array", too_small=False),
    "minLength": _size("string", too_small=True),
    "maxLength": _size("string", too_small=False),
    "minProperties": _size("object", too_small=True),
    "maxProperties": _size("object", too_small=False),
    "pattern": _pattern,
    "required": _required,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "items": _items,
    "uniqueItems": _unique,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "allOf": _all_of,
    "not": _not,
    "if": _if,
    "$ref": _ref,
    "$defs": lambda c, value, schema: _always,  # definitions are compiled when referenced
}
