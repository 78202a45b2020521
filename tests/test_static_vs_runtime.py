"""The law between the two halves of specc: for random valid networks over every layer type, the
shapes inferred statically are the shapes the executor produces, and the parameter counts are
the sizes of the weights it initialises.

Networks are drawn layer by layer; a drawn layer is kept only when the op accepts the current
shape (its own `infer`), so the networks are valid by construction and the comparison is with
the executor, which computes its shapes from the arrays.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import specc
from specc.api import check_text
from specc.dims import substitute
from specc.ir import TensorType
from specc.ops import REGISTRY, Problem

EXAMPLES = int(os.environ.get("SPECC_FUZZ_EXAMPLES", "0"))
LAW = settings(
    max_examples=EXAMPLES or 100,
    derandomize=not EXAMPLES,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
MAX_ELEMENTS = 2_000  # per tensor, so every network runs in milliseconds
ACTIVATIONS = ["relu", "relu6", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu", "silu"]
WINDOW_OPS = {
    1: ["conv1d", "max_pool1d", "avg_pool1d", "zero_pad1d"],
    2: [
        "conv2d",
        "depthwise_conv2d",
        "conv2d_transpose",
        "max_pool2d",
        "avg_pool2d",
        "zero_pad2d",
        "upsample2d",
    ],
    3: ["conv3d", "max_pool3d", "avg_pool3d", "zero_pad3d"],
}
MERGES = ["add", "multiply", "concat"]
Shape = tuple[int, ...]


# -- attributes ------------------------------------------------------------------------------
def _per_axis(draw: st.DrawFn, n: int, low: int, high: int) -> int | list[int]:
    if draw(st.booleans()):
        return draw(st.integers(low, high))
    return [draw(st.integers(low, high)) for _ in range(n)]


def _explicit_padding(draw: st.DrawFn, n: int) -> int | list[Any]:
    """An int, or per axis an int or a [before, after] pair."""
    entry = st.integers(0, 2) | st.lists(st.integers(0, 2), min_size=2, max_size=2)
    return draw(st.integers(0, 2) | st.lists(entry, min_size=n, max_size=n))


def _padding(draw: st.DrawFn, n: int, modes_only: bool = False) -> Any:
    if modes_only or draw(st.booleans()):
        return draw(st.sampled_from(["valid", "same"]))
    return _explicit_padding(draw, n)


def _activation(draw: st.DrawFn) -> dict[str, Any]:
    return {"activation": draw(st.sampled_from(ACTIVATIONS))} if draw(st.booleans()) else {}


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _attributes(draw: st.DrawFn, kind: str, shape: Shape) -> dict[str, Any]:
    """Schema-valid attributes for `kind` at an input of `shape` (the op may still refuse)."""
    n, channels = len(shape) - 1, shape[-1]
    if kind in ("conv1d", "conv2d", "conv3d"):
        groups = draw(st.sampled_from(_divisors(channels)))
        return {
            "filters": groups * draw(st.integers(1, 3)),
            "kernel": _per_axis(draw, n, 1, 3),
            "stride": _per_axis(draw, n, 1, 3),
            "padding": _padding(draw, n),
            "dilation": _per_axis(draw, n, 1, 2),
            "groups": groups,
            "bias": draw(st.booleans()),
            **_activation(draw),
        }
    if kind == "depthwise_conv2d":
        return {
            "kernel": _per_axis(draw, 2, 1, 3),
            "stride": _per_axis(draw, 2, 1, 2),
            "padding": _padding(draw, 2),
            "dilation": _per_axis(draw, 2, 1, 2),
            "multiplier": draw(st.integers(1, 2)),
            "bias": draw(st.booleans()),
            **_activation(draw),
        }
    if kind == "conv2d_transpose":
        return {
            "filters": draw(st.integers(1, 4)),
            "kernel": _per_axis(draw, 2, 1, 3),
            "stride": _per_axis(draw, 2, 1, 3),
            "padding": _padding(draw, 2, modes_only=True),
            "bias": draw(st.booleans()),
        }
    if "pool" in kind and not kind.startswith("global"):
        attrs: dict[str, Any] = {
            "pool": _per_axis(draw, n, 1, 3),
            "padding": _padding(draw, n, modes_only=True),
        }
        if draw(st.booleans()):
            attrs["stride"] = _per_axis(draw, n, 1, 3)
        return attrs
    if kind.startswith("zero_pad"):
        return {"padding": _explicit_padding(draw, n)}
    if kind == "upsample2d":
        return {"size": _per_axis(draw, 2, 1, 3)}
    if kind == "dense":
        return {"units": draw(st.integers(1, 6)), "bias": draw(st.booleans()), **_activation(draw)}
    if kind == "batch_norm":
        return {
            "epsilon": draw(st.sampled_from([1e-3, 1e-5, 0.1])),
            "center": draw(st.booleans()),
            "scale": draw(st.booleans()),
        }
    if kind == "dropout":
        return {"rate": draw(st.sampled_from([0.0, 0.25, 0.5]))}
    if kind in ("leaky_relu", "elu"):
        return {"alpha": draw(st.sampled_from([0.0, 0.1, 1.0]))} if draw(st.booleans()) else {}
    if kind == "reshape":
        return {"shape": _reshape_target(draw, shape)}
    if kind == "time_distributed":
        inner = _layer(draw, shape[1:], allow_wrapper=len(shape) > 2)
        assume(inner is not None)
        return {"layer": inner}
    return {}


def _reshape_target(draw: st.DrawFn, shape: Shape) -> list[int]:
    """A new shape of the same elements: split the total into 1-3 factors, maybe one -1."""
    total, out = math.prod(shape), []
    for _ in range(draw(st.integers(0, 2))):
        factor = draw(st.sampled_from(_divisors(total)))
        out.append(factor)
        total //= factor
    out.append(total)
    out = draw(st.permutations(out))
    if draw(st.booleans()):
        out[draw(st.integers(0, len(out) - 1))] = -1
    return list(out)


# -- layers and networks -----------------------------------------------------------------------
def _layer(draw: st.DrawFn, shape: Shape, allow_wrapper: bool = True) -> dict[str, Any] | None:
    """A layer mapping (type and attributes) that accepts `shape`, or None."""
    # Pick a family first, then a type in it, so that the nine activations do not crowd out
    # the window ops.
    families = [ACTIVATIONS, ["batch_norm", "dropout"], ["dense"], ["reshape", "flatten"]]
    if len(shape) >= 2:
        families += [WINDOW_OPS.get(len(shape) - 1, [])] * 4 + [
            ["global_avg_pool", "global_max_pool"]
        ]
        families += [["time_distributed"]] * allow_wrapper
    kind = draw(st.sampled_from(draw(st.sampled_from([f for f in families if f]))))
    layer = {"type": kind, **_attributes(draw, kind, shape)}
    return layer if _output(layer, [shape]) is not None else None


def _output(layer: dict[str, Any], inputs: list[Shape]) -> Shape | None:
    """The op's own answer for these concrete inputs (None if it refuses or the result is big)."""
    try:
        op = REGISTRY[layer["type"]].from_mapping(layer)
        out = op.infer([TensorType(s) for s in inputs])
        op.params([TensorType(s) for s in inputs])
    except Problem:
        return None
    shape = tuple(int(d) for d in out.shape)  # type: ignore[arg-type]
    if min(shape) < 1 or math.prod(shape) > MAX_ELEMENTS or shape[-1] > 16:
        return None
    return shape


def _merge(draw: st.DrawFn, tensors: dict[str, Shape], current: str) -> list[dict[str, Any]]:
    """A merge of the current tensor with an earlier one (a side branch if none fits)."""
    kind, shape = draw(st.sampled_from(MERGES)), tensors[current]
    if kind == "concat":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        partners = [
            n
            for n, s in tensors.items()
            if n != current
            and len(s) == len(shape)
            and all(
                a == b
                for i, (a, b) in enumerate(zip(s, shape, strict=True))
                if i != axis % len(shape)
            )
        ]
    else:
        partners = [n for n, s in tensors.items() if n != current and s == shape]
    layers: list[dict[str, Any]] = []
    if not partners:  # a branch off the current tensor with the same shape
        branch = f"branch{len(tensors)}"
        layers.append(
            {"name": branch, "type": draw(st.sampled_from(ACTIVATIONS)), "inputs": current}
        )
        tensors[branch] = shape
        partners = [branch]
    others = draw(st.lists(st.sampled_from(partners), min_size=1, max_size=2))
    merge = {"type": kind, "inputs": [current, *others]}
    if kind == "concat":
        merge["axis"] = axis
    if _output(merge, [tensors[n] for n in merge["inputs"]]) is None:
        return []
    return [*layers, merge]


@st.composite
def networks(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """A valid spec (YAML) whose every layer is an output, and the symbol values to run it with."""
    rank = draw(st.integers(1, 4))
    high = {1: 12, 2: 10, 3: 7, 4: 4}[rank]
    shape = (*(draw(st.integers(1, high)) for _ in range(rank - 1)), draw(st.integers(1, 4)))
    symbolic = rank >= 2 and draw(st.booleans())
    dims = {"T": shape[0]} if symbolic else {}
    tensors: dict[str, Shape] = {"x": shape}
    layers: list[dict[str, Any]] = []
    current = "x"
    for index in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 4)) == 0:
            made = _merge(draw, tensors, current)
        else:
            layer = _layer(draw, tensors[current])
            made = [] if layer is None else [{**layer, "inputs": current}]
        for entry in made:
            entry["name"] = entry.get("name", f"l{index}_{entry['type']}")
            tensors[entry["name"]] = _output(entry, [tensors[n] for n in _names(entry["inputs"])])  # type: ignore[assignment]
            layers.append(entry)
        if made:
            current = made[-1]["name"]
    assume(layers)
    first = ["T", *shape[1:]] if symbolic else list(shape)
    spec = {
        "specc": 1,
        "name": "drawn",
        "inputs": {"x": first},
        "layers": layers,
        "outputs": [layer["name"] for layer in layers],
    }
    return yaml.safe_dump(spec, sort_keys=False), dims


def _names(inputs: str | list[str]) -> list[str]:
    return [inputs] if isinstance(inputs, str) else inputs


# -- the law -----------------------------------------------------------------------------------
@LAW
@given(networks(), st.integers(1, 2), st.sampled_from(["float32", "float64"]))
def test_static_shapes_and_params_equal_the_executors(
    drawn: tuple[str, dict[str, int]], batch: int, dtype: str
) -> None:
    text, dims = drawn
    checked = check_text(text, "drawn.yaml")
    # With a symbolic input, a reshape to numbers or a merge of dims written differently cannot
    # be proven for every T (S105, S102): such draws are skipped.
    assume(checked.ok)
    assert checked.shapes is not None and checked.shapes.complete
    static = {
        name: tuple(substitute(d, dims) for d in info.output.shape)
        for name, info in checked.shapes.layers.items()
    }
    params = {
        f"{name}.{p.name}": tuple(substitute(d, dims) for d in p.shape)
        for name, info in checked.shapes.layers.items()
        for p in info.params
    }
    counts = {
        name: substitute(info.param_count, dims) for name, info in checked.shapes.layers.items()
    }

    plan = specc.compile(text, batch=batch, dtype=dtype, dims=dims, max_memory=None)
    outputs = plan.run_all(seed=1)
    assert {name: array.shape for name, array in outputs.items()} == {
        name: (batch, *shape) for name, shape in static.items()
    }
    assert all(array.dtype == np.dtype(dtype) for array in outputs.values())
    weights = plan.init_weights(seed=1)
    assert {key: array.shape for key, array in weights.items()} == params
    for name, count in counts.items():
        assert sum(a.size for k, a in weights.items() if k.split(".")[0] == name) == count, name
