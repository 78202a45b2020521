"""A Keras model's config (the `config.json` of a `.keras` file, or `model.to_json()`) as
plain layer records and the graph between them: Functional and Sequential models, Keras 3's
`inbound_nodes` (`__keras_tensor__` arguments with their `keras_history`) and Keras 2's lists.

Nothing here needs Keras, TensorFlow or h5py.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.interop.onnx.reader import ImportFailed

Ref = tuple[str, int]  # (Keras layer name, output index)


@dataclass(frozen=True)
class Node:
    """One Keras layer in the graph: class, name, config and the outputs it reads."""

    cls: str
    name: str
    config: Mapping[str, Any]
    inputs: tuple[Ref, ...]
    key: str = ""  # where model.weights.h5 keeps its variables: layers/<key>


@dataclass(frozen=True)
class KerasGraph:
    """A model's inputs (name -> batch shape with None), layers in order, and outputs."""

    name: str
    inputs: dict[str, tuple[int | None, ...]]
    input_dtypes: dict[str, str]
    nodes: tuple[Node, ...]
    outputs: tuple[Ref, ...]
    version: str = ""


def read_config(path: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """The model config of a `.keras` file or a JSON file, and the Keras version that wrote
    it (a `.keras` file's metadata; "" when unknown)."""
    source = Path(path)
    try:
        if source.suffix.lower() == ".keras":
            with zipfile.ZipFile(source) as z:
                config = json.loads(z.read("config.json"))
                version = _version(z)
        else:
            config, version = json.loads(source.read_text(encoding="utf-8")), ""
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
        raise ImportFailed(f"cannot read {source.name} as a Keras model: {exc}") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ImportFailed(f"{source.name} is not a Keras model config (no class_name)")
    return config, version


def _version(z: zipfile.ZipFile) -> str:
    try:
        return str(json.loads(z.read("metadata.json")).get("keras_version", ""))
    except (KeyError, ValueError):
        return ""


def parse(config: Mapping[str, Any], version: str = "") -> KerasGraph:
    """The graph of a Functional or Sequential model config."""
    kind, body = config.get("class_name"), config.get("config", {})
    if kind == "Sequential":
        return _sequential(body, version)
    if kind in ("Functional", "Model"):
        return _functional(body, version)
    raise ImportFailed(f"specc imports Functional and Sequential models; this one is a {kind}")


def _input_layer(cfg: Mapping[str, Any]) -> tuple[tuple[int | None, ...], str]:
    shape = cfg.get("batch_shape", cfg.get("batch_input_shape"))
    if shape is None:
        raise ImportFailed(f"the input {cfg.get('name')} has no batch_shape")
    dtype = cfg.get("dtype", "float32")
    if isinstance(dtype, Mapping):
        dtype = dtype.get("config", {}).get("name", "float32")
    return tuple(shape), str(dtype)


def _sequential(body: Mapping[str, Any], version: str) -> KerasGraph:
    layers = list(body.get("layers", []))
    name = str(body.get("name", "sequential"))
    if layers and layers[0].get("class_name") == "InputLayer":
        cfg = layers.pop(0)["config"]
        input_name = str(cfg.get("name", "input"))
        shape, dtype = _input_layer(cfg)
    else:
        input_name, dtype = "input", "float32"
        shape = _first_shape(body, layers)
    nodes, previous, keys = [], (input_name, 0), _Keys()
    for layer in layers:
        cls = _class(layer)
        node = Node(cls, _name(layer), layer.get("config", {}), (previous,), keys.next(cls))
        nodes.append(node)
        previous = (node.name, 0)
    return KerasGraph(
        name, {input_name: shape}, {input_name: dtype}, tuple(nodes), (previous,), version
    )


def _first_shape(body: Mapping[str, Any], layers: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
    """A Sequential model without an InputLayer: its build shape, or its first layer's."""
    shape = body.get("build_input_shape")
    if shape is None and layers:
        first = layers[0]
        shape = (first.get("build_config") or {}).get("input_shape")
        shape = shape or first.get("config", {}).get("batch_input_shape")
    if shape is None:
        raise ImportFailed(
            "the Sequential model has no input shape: start it with keras.Input(shape) or "
            "build it before saving"
        )
    return tuple(shape)


def _class(layer: Mapping[str, Any]) -> str:
    """The class name; an operation on Keras tensors (`x + 3.0` makes keras.ops's Add, not the
    Add layer) is named as such, so that it is not taken for the layer of the same name."""
    cls = str(layer["class_name"])
    return f"keras.ops.{cls}" if str(layer.get("module", "")).startswith("keras.src.ops") else cls


def _name(layer: Mapping[str, Any]) -> str:
    return str(layer.get("name") or layer.get("config", {}).get("name"))


def _functional(body: Mapping[str, Any], version: str) -> KerasGraph:
    inputs: dict[str, tuple[int | None, ...]] = {}
    dtypes: dict[str, str] = {}
    nodes: list[Node] = []
    keys = _Keys()
    for layer in body.get("layers", []):
        name, cls = _name(layer), _class(layer)
        # keras.ops operations are not in model.layers: they take no key
        key = "" if cls.startswith("keras.ops.") else keys.next(cls)
        if cls == "InputLayer":
            inputs[name], dtypes[name] = _input_layer(layer.get("config", {}))
            continue
        calls = layer.get("inbound_nodes", [])
        if len(calls) != 1:
            raise ImportFailed(
                f"the {cls} layer {name} is "
                + ("called on" if calls else "not called on")
                + f" {len(calls)} inputs: specc imports a layer used once (shared layers are "
                "not supported: give each use its own layer)"
            )
        nodes.append(Node(cls, name, layer.get("config", {}), tuple(_refs(calls[0], name)), key))
    outputs = tuple(_history(r, "the outputs") for r in _listed(body.get("output_layers", [])))
    return KerasGraph(
        str(body.get("name", "model")), inputs, dtypes, tuple(_ordered(nodes)), outputs, version
    )


class _Keys:
    """Keras 3 saves a model's layers under names made from their classes, not their own
    (`conv2d`, `conv2d_1` ... in the order of `model.layers`), so that they are reproducible."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def next(self, cls: str) -> str:
        name = re.sub(r"\W+", "", cls)
        name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
        name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
        if name in self.used:
            self.used[name] += 1
            return f"{name}_{self.used[name]}"
        self.used[name] = 0
        return name


def _listed(value: Any) -> list[Any]:
    """output_layers as a list of [name, node, tensor] (Keras writes one output unlisted)."""
    if value and isinstance(value[0], str):
        return [value]
    return list(value)


def _history(entry: Sequence[Any], where: str) -> Ref:
    name, node, tensor = entry[0], int(entry[1]), int(entry[2])
    if node != 0:
        raise ImportFailed(
            f"{where} read the call {node} of the layer {name}: shared layers are not supported"
        )
    return str(name), tensor


def _refs(call: Any, name: str) -> Iterator[Ref]:
    """The tensors a call reads: Keras 3's args and kwargs (query, value, key), in order."""
    if isinstance(call, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
        for entry in call:
            yield _history(entry, f"the layer {name}")
        return
    yield from _tensors(call.get("args", []), name)
    kwargs = call.get("kwargs", {})
    for key, value in kwargs.items():
        found = list(_tensors([value], name))
        if found and key not in ("query", "value", "key"):
            raise ImportFailed(
                f"the layer {name} takes a tensor as `{key}`, which specc cannot express"
            )
    for key in ("query", "value", "key"):
        yield from _tensors([kwargs.get(key)], name)


def _tensors(args: Sequence[Any], name: str) -> Iterator[Ref]:
    for a in args:
        if isinstance(a, list | tuple):
            yield from _tensors(a, name)
        elif isinstance(a, Mapping) and a.get("class_name") == "__keras_tensor__":
            yield _history(a["config"]["keras_history"], f"the layer {name}")


def _ordered(nodes: list[Node]) -> list[Node]:
    """The layers in an order where each comes after what it reads (Keras's usually is)."""
    made = {n.name for n in nodes}
    done: set[str] = set()
    out: list[Node] = []
    pending = list(nodes)
    while pending:
        waiting = []
        for n in pending:
            if all(r[0] not in made or r[0] in done for r in n.inputs):
                out.append(n)
                done.add(n.name)
            else:
                waiting.append(n)
        if len(waiting) == len(pending):
            raise ImportFailed(f"the layers {[n.name for n in waiting]} read each other in a cycle")
        pending = waiting
    return out
