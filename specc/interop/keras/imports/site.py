"""What a Keras layer mapping sees and gives, the table of mappings by Keras class name, and
the helpers the families share (windows, padding pairs, activations, optional attributes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from specc.dims import Dim
from specc.interop.onnx.reader import ImportFailed
from specc.ops.activation import ACTIVATIONS
from specc.ops.base import REGISTRY


class Unsupported(ImportFailed):
    """One Keras layer (or one setting of it) that the spec cannot express."""


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer: its class, name and config, and the per-sample shapes of its inputs
    (set by the importer before the mapping is called)."""

    cls: str
    name: str
    config: Mapping[str, Any]
    inputs: tuple[tuple[Dim, ...], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        value = self.config.get(key, default)
        return default if value is None and default is not None else value

    def unsupported(self, why: str) -> Unsupported:
        return Unsupported(f"{self.cls} {why} (layer {self.name})")

    @property
    def rank(self) -> int:
        """The per-sample rank of the first input."""
        return len(self.inputs[0])


@dataclass(frozen=True)
class Mapped:
    """One spec layer a Keras layer becomes. `weights` are the spec's parameter names in the
    order Keras stores the variables, found in `groups` (the layer's h5 sub-groups, in
    Keras's order: "" is the layer's own `vars`); `constants` are weights the config holds;
    `suffix` names a second layer made from the same Keras layer."""

    type: str
    attrs: dict[str, Any]
    weights: tuple[str, ...] = ()
    groups: tuple[str, ...] = ("",)
    constants: dict[str, Any] = field(default_factory=dict)
    suffix: str = ""


Mapping_ = Callable[[KerasLayer], list[Mapped]]
# Keras class name -> its mapping (a list: empty when the layer computes nothing).
MAPPINGS: dict[str, Mapping_] = {}


def maps(*classes: str) -> Callable[[Mapping_], Mapping_]:
    """Register a mapping for these Keras classes (each at most once)."""

    def decorate(f: Mapping_) -> Mapping_:
        for c in classes:
            if c in MAPPINGS:
                raise ValueError(f"{c} has two mappings")
            MAPPINGS[c] = f
        return f

    return decorate


def map_layer(layer: KerasLayer) -> list[Mapped]:
    mapping = MAPPINGS.get(layer.cls)
    if mapping is None:
        raise layer.unsupported("is not a layer specc can import")
    return mapping(layer)


def inner(layer: KerasLayer, key: str, shape: tuple[Dim, ...]) -> list[Mapped]:
    """The spec layers of a wrapped Keras layer (TimeDistributed's, Bidirectional's): one,
    and perhaps element-wise activations after it."""
    data = layer.get(key)
    if not isinstance(data, Mapping) or "class_name" not in data:
        raise layer.unsupported(f"without a `{key}` config")
    cfg = data.get("config", {})
    wrapped = KerasLayer(data["class_name"], str(cfg.get("name", layer.name)), cfg, (shape,))
    out = map_layer(wrapped)
    if not out:
        raise layer.unsupported(f"around a {wrapped.cls} that computes nothing")
    return out


def as_inner(m: Mapped) -> dict[str, Any]:
    """A spec layer as the mapping an inner `layer:` attribute holds (non-default attributes)."""
    from specc.interop.spec_yaml import non_default

    return {"type": m.type, **non_default(m.type, m.attrs)}


# -- attribute helpers --------------------------------------------------------------------------
def compact(values: int | Sequence[int]) -> int | tuple[int, ...]:
    """One int when every axis has the same value (how a spec is usually written)."""
    if isinstance(values, int):
        return values
    values = tuple(int(v) for v in values)
    return values[0] if len(set(values)) == 1 else values


def window(layer: KerasLayer, key: str, default: int = 1) -> int | tuple[int, ...]:
    value = layer.get(key, default)
    return compact(value if isinstance(value, int) else list(value))


def channels_last(layer: KerasLayer) -> None:
    if layer.get("data_format", "channels_last") != "channels_last":
        raise layer.unsupported("with data_format channels_first (specs are channels last)")


def pairs(layer: KerasLayer, key: str, n: int) -> Any:
    """Keras's padding or cropping (an int, a pair for 1-D, per-axis ints or pairs) written as
    a spec writes it: 1, [1, 2] or [[0, 1], [2, 3]]."""
    value = layer.get(key)
    if isinstance(value, int):
        per = [(value, value)] * n
    elif n == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        per = [(int(value[0]), int(value[1]))]
    else:
        per = [(v, v) if isinstance(v, int) else (int(v[0]), int(v[1])) for v in value]
    if len(per) != n:
        raise layer.unsupported(f"with {key} {value} for {n} spatial axes")
    if all(a == b for a, b in per):
        return compact([a for a, _ in per])
    return tuple(per)


def optional(type_: str, name: str, value: Any, neutral: Any, layer: KerasLayer) -> dict[str, Any]:
    """`{name: value}` when the spec type declares `name`; nothing when the value is neutral;
    otherwise the layer cannot be imported (this specc's type lacks the attribute)."""
    if name in REGISTRY[type_]._attrs:
        return {name: value}
    if value == neutral or value == [neutral] * len(value if isinstance(value, list) else []):
        return {}
    raise layer.unsupported(f"with {name} {value}: specc's {type_} has no `{name}`")


def accepts(type_: str, name: str, value: str) -> bool:
    """Whether the spec type's attribute schema names the string `value` (e.g. 'causal')."""
    import json

    a = REGISTRY[type_]._attrs.get(name)
    return a is not None and json.dumps(value) in json.dumps(a.schema)


def require_type(type_: str, layer: KerasLayer) -> None:
    if type_ not in REGISTRY:
        raise layer.unsupported(f"needs the layer type {type_}, which this specc does not have")


# -- activations ----------------------------------------------------------------------------
ALIASES = {"swish": "silu"}
# Keras's activation *functions* whose defaults differ from specc's layer of that name.
FUNCTION_ATTRS = {"leaky_relu": {"alpha": 0.2}}


def activation_name(layer: KerasLayer, key: str = "activation") -> str | None:
    """The spec name of a Keras activation (None for linear); unsupported ones refused."""
    value = layer.get(key, "linear")
    if isinstance(value, Mapping):  # a serialised function: {"class_name": "function", ...}
        value = value.get("config", value.get("class_name"))
    if value in (None, "linear"):
        return None
    name = ALIASES.get(str(value), str(value))
    if name not in ACTIVATIONS:
        raise layer.unsupported(f"with activation {value!r}, which specc does not have")
    return name


def kernel_layer(
    layer: KerasLayer, type_: str, attrs: dict[str, Any], weights: tuple[str, ...]
) -> list[Mapped]:
    """A layer with a kernel (and a bias with use_bias) and an `activation:`; an activation
    function whose defaults differ from specc's (leaky_relu's 0.2) becomes a layer after it."""
    require_type(type_, layer)
    bias = bool(layer.get("use_bias", True))
    names = weights if bias else tuple(w for w in weights if w != "bias")
    act = activation_name(layer)
    if act in FUNCTION_ATTRS:
        main = Mapped(type_, {**attrs, "bias": bias}, names)
        return [main, Mapped(act, dict(FUNCTION_ATTRS[act]), suffix="_activation")]
    return [Mapped(type_, {**attrs, "bias": bias, "activation": act}, names)]


def batch_axis_free(axis: int) -> int:
    """Keras's axis (counting the batch axis) as the spec counts it (without)."""
    return axis - 1 if axis > 0 else axis
