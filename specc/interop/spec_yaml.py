"""A small, deterministic YAML writer for specs: one flow-style line per layer.

Only what a spec can hold is written (names, numbers, strings, booleans, null and lists of
them); attributes at their documented defaults are left out, as a person would write it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from specc.dims import Dim, format_dim
from specc.ops.base import REGISTRY

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Plain words YAML (1.1 or 1.2) would read as something other than a string.
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
    r"null|Null|NULL|_)$"
)


def scalar(value: Any) -> str:
    """One YAML scalar (or flow list or mapping) for a spec value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} in a spec")
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"  # YAML 1.1 readers need the dot
        return text
    if isinstance(value, str):
        return value if _PLAIN.match(value) and not _RESERVED.match(value) else json.dumps(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if isinstance(value, Mapping) and "type" in value:  # a wrapper's inner layer
        items = {"type": value["type"], **non_default(value["type"], value)}
        return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in items.items()) + "}"
    if isinstance(value, Mapping):  # any other mapping
        return "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "free_symbols") or not isinstance(value, Iterable):
        return scalar(format_dim(value))
    raise TypeError(f"cannot write {type(value).__name__} in a spec")


def non_default(type_: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes that differ from their documented defaults, in declaration order."""
    declared = REGISTRY[type_]._attrs
    out: dict[str, Any] = {}
    for name, a in declared.items():
        if name not in attrs:
            continue
        value = attrs[name]
        if a.required or _norm(value) != _norm(a.default):
            out[name] = value
    return out


def _norm(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    return value


def dump_spec(
    name: str,
    inputs: Mapping[str, Sequence[Dim]],
    layers: Iterable[tuple[str, str, Mapping[str, Any], Sequence[str]]],
    outputs: Sequence[str],
    comments: Sequence[str] = (),
    dtypes: Mapping[str, str] | None = None,
    assume: Sequence[str] = (),
) -> str:
    """The YAML text of a spec. `layers` are (name, type, attributes, inputs); `inputs:` is
    written only where a layer does not read the layer before it, and `outputs:` only when it
    is not just the last layer."""
    lines = [f"# {c}" if c else "#" for c in comments]
    lines += ["specc: 1", f"name: {scalar(name)}", "inputs:"]
    for n, shape in inputs.items():
        dims = scalar([_dim(d) for d in shape])
        dtype = (dtypes or {}).get(n, "float32")
        typed = dims if dtype == "float32" else f"{{shape: {dims}, dtype: {dtype}}}"
        lines.append(f"  {scalar(n)}: {typed}")
    if assume:
        lines.append(f"assume: {scalar(list(assume))}")
    lines.append("layers:")
    previous = next(iter(inputs)) if len(inputs) == 1 else None
    last = None
    for lname, type_, attrs, ins in layers:
        items = [f"name: {scalar(lname)}", f"type: {scalar(type_)}"]
        items += [f"{k}: {scalar(v)}" for k, v in non_default(type_, attrs).items()]
        if list(ins) != ([previous] if previous is not None else None):
            items.append(f"inputs: {scalar(ins[0]) if len(ins) == 1 else scalar(list(ins))}")
        lines.append("  - {" + ", ".join(items) + "}")
        previous = last = lname
    if list(outputs) != [last]:
        lines.append(f"outputs: {scalar(list(outputs))}")
    return "\n".join(lines) + "\n"


def _dim(d: Dim) -> int | str:
    return d if isinstance(d, int) else format_dim(d)
