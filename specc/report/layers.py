"""The layer-type catalogue as text: every type with its attributes, defaults and meaning."""

from __future__ import annotations

import json

from specc.ops import REGISTRY
from specc.ops.base import Attr, Op


def _default(f: Attr) -> str:
    if f.required:
        return "required"
    return json.dumps(f.default)


def describe(op: type[Op]) -> str:
    """One layer type as plain text (for `specc layers TYPE`)."""
    lines = [f"{op.type}  ({op.family})", f"  {op.summary}", ""]
    fields = op.attributes()
    if not fields:
        lines.append("  no attributes")
    for f in fields:
        lines.append(f"  {f.name:<12} {_default(f):<10} {f.doc}")
    lines.append("")
    lines.append(
        "  every layer also takes `name` (default <type>_<index>) "
        "and `inputs` (default: the previous layer)"
    )
    return "\n".join(lines)


def markdown() -> str:
    """docs/layers.md: the catalogue, grouped by family, generated from the op declarations."""
    out = [
        "# Layer types",
        "",
        "Generated from the op declarations (`specc layers --markdown > docs/layers.md`); the",
        "defaults here are the defaults specc uses. Every layer also takes `name` (default",
        "`<type>_<1-based index>`) and `inputs` (a name or a list of names; default: the previous",
        "layer, or for the first layer the only model input). Shapes are channels last and never",
        "include the batch axis.",
        "",
    ]
    families: dict[str, list[type[Op]]] = {}
    for name in sorted(REGISTRY):
        families.setdefault(REGISTRY[name].family, []).append(REGISTRY[name])
    for family in sorted(families):
        out += [f"## {family}", ""]
        for op in families[family]:
            out += [f"### `{op.type}`", "", op.summary[0].upper() + op.summary[1:] + ".", ""]
            fields = op.attributes()
            if fields:
                out += ["| attribute | default | meaning |", "|---|---|---|"]
                out += [f"| `{f.name}` | {_default(f)} | {f.doc} |" for f in fields]
                out.append("")
    return "\n".join(out)
