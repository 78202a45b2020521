"""`specc graph`: the layer graph as Mermaid or Graphviz DOT text, and SVG through Graphviz."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from specc import files
from specc.ir import format_shape
from specc.passes.shapes import Shapes
from specc.safe_text import printable

Format = Literal["mermaid", "dot", "svg", "png"]
SUFFIXES: dict[str, Format] = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "mermaid",
}
# Image formats that Graphviz could draw but specc does not offer: refused rather than
# written as text under a name that promises an image.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".gif", ".pdf", ".bmp", ".webp", ".tiff", ".eps"})
DOT_TIMEOUT = 60  # seconds; a graph of a few hundred nodes takes well under one


class GraphError(Exception):
    """A problem the user can fix (a missing program, a file in the way); never a bug."""


@dataclass(frozen=True)
class Node:
    id: str  # n0, n1 ... in spec order: safe in every format, whatever the names
    name: str
    type: str  # the layer type, or "input"
    shape: str  # output shape, "?" when unknown
    kernel: str | None
    output: bool  # a model output


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str  # the input's position when a layer reads several, else ""


def graph(shapes: Shapes) -> tuple[list[Node], list[Edge]]:
    """One node per model input and per layer; one edge per input of every layer."""
    model = shapes.model
    ids: dict[str, str] = {}
    nodes = []
    for x in model.inputs:
        ids[x.name] = f"n{len(ids)}"
        nodes.append(Node(ids[x.name], x.name, "input", str(x.type), None, x.name in model.outputs))
    edges = []
    for layer in model.layers:
        ids[layer.name] = f"n{len(ids)}"
        info = shapes.layers.get(layer.name)
        kernel = next((p.shape for p in info.params if p.name == "kernel"), None) if info else None
        nodes.append(
            Node(
                ids[layer.name],
                layer.name,
                layer.type,
                str(info.output) if info else "?",
                None if kernel is None else format_shape(kernel),
                layer.name in model.outputs,
            )
        )
        many = len(layer.inputs) > 1
        for i, source in enumerate(layer.inputs):
            edges.append(Edge(ids[source], ids[layer.name], str(i) if many else ""))
    return nodes, edges


def _lines(node: Node) -> list[str]:
    head = f"{node.name}: input" if node.type == "input" else f"{node.name}: {node.type}"
    return [head, node.shape, *([f"kernel {node.kernel}"] if node.kernel else [])]


def mermaid(shapes: Shapes) -> str:
    """A Mermaid flowchart (GitHub renders it inside a ```mermaid block)."""
    nodes, edges = graph(shapes)
    out = ["flowchart TD", f"  %% {printable(shapes.model.name)}"]
    for node in nodes:
        label = "<br/>".join(_mermaid_text(t) for t in _lines(node))
        out.append(
            f'  {node.id}(["{label}"])' if node.type == "input" else f'  {node.id}["{label}"]'
        )
    for e in edges:
        arrow = f"-->|{e.label}|" if e.label else "-->"
        out.append(f"  {e.source} {arrow} {e.target}")
    outputs = [n.id for n in nodes if n.output]
    if outputs:
        out.append("  classDef output stroke-width:3px")
        out.append(f"  class {','.join(outputs)} output")
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    # Quotes and markup characters become entity codes; names and shapes rarely contain any.
    return (
        printable(text)
        .replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
    )


def dot(shapes: Shapes) -> str:
    """A Graphviz digraph; `dot -Tsvg` draws it."""
    nodes, edges = graph(shapes)
    out = [
        f"digraph {_dot_id(shapes.model.name)} {{",
        '  graph [rankdir=TB, fontname="Helvetica"];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in nodes:
        attrs = [f"label={_dot_id(chr(10).join(_lines(node)))}"]
        if node.type == "input":
            attrs.append("shape=ellipse")
        if node.output:
            attrs.append("penwidth=2")
        out.append(f"  {node.id} [{', '.join(attrs)}];")
    for e in edges:
        label = f" [label={_dot_id(e.label)}]" if e.label else ""
        out.append(f"  {e.source} -> {e.target}{label};")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_id(text: str) -> str:
    """A quoted DOT string; newlines become DOT's centred line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def svg(dot_text: str) -> str:
    """Render DOT text to SVG with Graphviz; GraphError when `dot` is missing or fails."""
    return graphviz(dot_text, "svg").decode("utf-8")


def graphviz(dot_text: str, fmt: Literal["svg", "png"]) -> bytes:
    """Render DOT text with Graphviz's `dot -T<fmt>`; GraphError when it is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        raise GraphError(
            f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not on PATH; "
            "install Graphviz (https://graphviz.org/download/, e.g. apt install graphviz) or write "
            "--format dot or --format mermaid instead"
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphError(f"could not run {program}: {exc}") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise GraphError(f"{program} failed: {why}")
    return done.stdout


def format_for(path: Path | None, chosen: Format | None) -> Format:
    """The format asked for, else the one the file's suffix names, else Mermaid; GraphError
    when the suffix names another format than the one asked for, or one specc cannot write."""
    if path is None:
        return chosen or "mermaid"
    suffix = path.suffix.lower()
    named = SUFFIXES.get(suffix)
    known = ", ".join(SUFFIXES)
    if named is None and suffix in IMAGE_SUFFIXES:
        raise GraphError(f"{path}: specc cannot write {suffix} files; use one of {known}")
    if chosen is not None and named is not None and named != chosen:
        raise GraphError(
            f"{path}: the suffix {suffix} means {named}, but --format is {chosen}; "
            "change one of them"
        )
    return chosen or named or "mermaid"


def render(shapes: Shapes, fmt: Format, path: Path | None = None) -> str | bytes:
    """The graph in `fmt` (PNG as bytes, the rest as text); Mermaid written to a .md file
    comes inside a fence."""
    if fmt == "mermaid":
        text = mermaid(shapes)
        return (
            f"```mermaid\n{text}```\n"
            if path is not None and path.suffix.lower() == ".md"
            else text
        )
    text = dot(shapes)
    if fmt == "png":
        return graphviz(text, "png")
    return svg(text) if fmt == "svg" else text


def write(path: Path, content: str | bytes, force: bool = False) -> None:
    """Write atomically; never overwrite unless `force`."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        files.atomic_write(path, lambda f: f.write(data), force, "graph file")
    except files.FileRefused as exc:
        raise GraphError(str(exc)) from None
