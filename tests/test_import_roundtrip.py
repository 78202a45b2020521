"""Round trips: spec -> ONNX (specc's exporter) -> spec (specc import) gives the same layers,
attributes and parameter counts, and the same `specc run` outputs on the saved weights.

Where the round trip cannot be exact, the comparison says so (`_comparable`):
- dropout, identity and empty cropping layers export as no node at all, so they come back
  absent; the layers after them read their input;
- batch_norm with `center: false` or `scale: false` exports a constant beta or gamma, and
  comes back with them as weights (`center`/`scale` true, the same outputs);
- a slice that trims one spatial axis and a cropping of that axis are the same Slice node,
  and are compared as croppings;
- padding is compared resolved to (before, after) pairs: `padding: 1` on a 3x3, stride-1
  convolution is TensorFlow's `same`, and comes back as `same`;
- time_distributed and multi_head_attention export as subgraphs the importer does not read
  back (they are reported as unsupported operators).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from specc.api import Checked, check_text
from specc.dims import substitute
from specc.ir import TensorType
from specc.lower import Plan
from specc.ops.conv import WindowOp
from tests.conftest import EXAMPLES
from tests.strategies import Network, network_with, networks

onnx = pytest.importorskip("onnx")

from specc.interop.onnx import export_model  # noqa: E402
from specc.interop.onnx.importer import import_graph  # noqa: E402
from specc.interop.onnx.reader import from_proto  # noqa: E402
from specc.interop.spec_yaml import dump_spec  # noqa: E402

VANISH = {"dropout", "identity"}
NOT_IMPORTED = {"time_distributed", "multi_head_attention"}


def _comparable(checked: Checked, name: str) -> tuple[str, dict[str, Any]] | None:
    """A layer's type and attributes as a round trip can keep them (None: it vanishes)."""
    assert checked.shapes is not None
    layer = checked.shapes.model.layer(name)
    assert layer is not None
    op, types = layer.op, [checked.shapes.types[i] for i in layer.inputs]
    attrs = op.attr_values()
    if op.type in VANISH:
        return None
    if op.type == "permute" and op.perm == tuple(range(len(op.perm))):  # type: ignore[attr-defined]
        return None  # keeps the order: an output copy (of a dropout, say) comes back as one
    if op.type == "slice" and (trim := _trim(op, types[0])) is not None:
        if all(p == (0, 0) for p in trim):
            return None
        return f"cropping{len(trim)}d", {"pairs": trim}
    if op.type.startswith("cropping") and all(p == (0, 0) for p in op.pairs):  # type: ignore[attr-defined]
        return None
    if isinstance(op, WindowOp) and "padding" in attrs:
        pads = op.pads
        if pads == "same" and all(isinstance(d, int) for d in types[0].shape):
            from specc.ops.window import same_pads

            pads = tuple(
                same_pads(n, k, s, d)  # type: ignore[arg-type]
                for n, k, s, d in zip(
                    types[0].spatial, op.kernel_size, op.strides, op.dilations, strict=True
                )
            )
        attrs["padding"] = pads
        attrs["kernel" if "kernel" in attrs else "pool"] = op.kernel_size
        attrs["stride"] = op.strides
        if "dilation" in attrs:
            attrs["dilation"] = op.dilations
    if op.type == "batch_norm":
        attrs.pop("center"), attrs.pop("scale")
        attrs["epsilon"] = round(attrs["epsilon"], 6)
    if op.type == "concat":
        attrs["axis"] %= types[0].rank
    if op.type == "slice":
        attrs["axis"] %= types[0].rank
        attrs["start"] = attrs["start"] or None
    if op.type == "reshape":
        attrs["shape"] = tuple(checked.shapes.types[name].shape)
    if op.type.startswith(("zero_pad", "cropping")):
        attrs = {"pairs": op.pairs}  # type: ignore[attr-defined]
    if op.type.startswith("upsample"):
        attrs["size"] = op.factors  # type: ignore[attr-defined]
    if op.type in ("leaky_relu", "elu"):
        attrs["alpha"] = round(attrs["alpha"], 6)
    return op.type, attrs


def _trim(op: Any, x: TensorType) -> tuple[tuple[int, int], ...] | None:
    """A slice that trims one spatial axis as a cropping's pairs: ONNX cannot tell them apart
    (both are one Slice), so either may come back as the other."""
    axis = op.resolved_axis(x.rank)
    start, stop = op.start or 0, op.stop
    if axis == x.rank - 1 or op.step != 1 or start < 0 or (stop is not None and stop >= 0):
        return None
    if not 1 <= x.rank - 1 <= 3:
        return None
    pairs = [(0, 0)] * (x.rank - 1)
    pairs[axis] = (start, -stop if stop else 0)
    return tuple(pairs)


def _needed(checked: Checked) -> list[str]:
    assert checked.shapes is not None
    model = checked.shapes.model
    needed = set(model.outputs)
    for layer in reversed(model.layers):
        if layer.name in needed:
            needed |= set(layer.inputs)
    return [layer.name for layer in model.layers if layer.name in needed]


def round_trip(checked: Checked, dims: dict[str, int], seed: int = 0) -> None:
    assert checked.shapes is not None
    plan = Plan(checked, dims=dims, max_memory=None)
    data = plan.inputs(seed=seed)
    weights = plan.weights(None, seed=seed, dims=data.dims)
    rng = np.random.default_rng(seed)
    for key, a in weights.items():  # statistics and biases away from their neutral values
        if key.endswith((".gamma", ".moving_variance")):
            a[...] = rng.uniform(0.5, 2.0, a.shape)
        elif key.endswith((".beta", ".moving_mean", ".bias")):
            a[...] = rng.normal(0, 0.5, a.shape)
    proto = export_model(checked.shapes, weights)
    imported = import_graph(from_proto(proto), checked.shapes.model.name)
    layers = [(e.name, e.type, e.attrs, e.inputs) for e in imported.layers]
    text = dump_spec(checked.shapes.model.name, imported.inputs, layers, imported.outputs)
    again = check_text(text, "imported.yaml")
    assert again.ok, (text, again.diagnostics)
    assert again.shapes is not None
    # The same layers, in order, with the same attributes.
    want = [(n, c) for n in _needed(checked) if (c := _comparable(checked, n)) is not None]
    got = [(n, c) for n in _needed(again) if (c := _comparable(again, n)) is not None]
    assert got == want, text
    # The same parameter counts, layer by layer (batch-norm's fixed gamma/beta aside).
    for name, _ in want:
        before = {p.name: p.shape for p in checked.shapes.layers[name].params}
        after = {p.name: p.shape for p in again.shapes.layers[name].params}
        assert {k: v for k, v in after.items() if k in before} == before, name
    # The same outputs on the saved weights.
    again_plan = Plan(again, dims=dims, max_memory=None)
    saved = {k: v for k, v in imported.weights.items()}
    full = again_plan.weights(None, seed=seed, dims=data.dims)
    full.update(saved)
    want_out = plan.prepare(data.arrays, weights).run()
    got_out = again_plan.prepare(_inputs(again, data.arrays), full).run()
    for (name, y), (_, g) in zip(want_out.items(), got_out.items(), strict=True):
        scale = max(1.0, float(np.abs(y).max()) if y.size else 1.0)
        np.testing.assert_allclose(g, y, rtol=1e-5, atol=1e-5 * scale, err_msg=name)


def _inputs(checked: Checked, arrays: dict[str, Any]) -> dict[str, Any]:
    assert checked.shapes is not None
    return {x.name: arrays[x.name] for x in checked.shapes.model.inputs}


def _dims_of(checked: Checked) -> dict[str, int]:
    from specc.dims import symbols

    assert checked.shapes is not None
    found = {s for t in checked.shapes.types.values() if t for d in t.shape for s in symbols(d)}
    return {s: 37 for s in found}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_round_trips(path: Path) -> None:
    checked = check_text(path.read_text(), str(path))
    if {layer.type for layer in checked.model.layers} & NOT_IMPORTED:  # type: ignore[union-attr]
        pytest.skip("time_distributed does not import")
    round_trip(checked, _dims_of(checked))


def _importable(network: Network) -> bool:
    return not network.types & NOT_IMPORTED


@settings(
    max_examples=int(os.environ.get("SPECC_IMPORT_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(networks())
def test_random_networks_round_trip(network: Network) -> None:
    if not _importable(network):
        return
    checked = check_text(network.text)
    assert checked.ok, checked.diagnostics
    round_trip(checked, network.dims, seed=len(network.text))


_TYPES = sorted(__import__("specc.ops", fromlist=["REGISTRY"]).REGISTRY)


@pytest.mark.parametrize("kind", [t for t in _TYPES if t not in NOT_IMPORTED])
def test_every_registered_type_round_trips(kind: str) -> None:
    network = network_with(kind)
    if not _importable(network):
        pytest.skip(f"the network drawn for {kind} holds {sorted(network.types & NOT_IMPORTED)}")
    checked = check_text(network.text)
    assert checked.ok, checked.diagnostics
    round_trip(checked, network.dims)


__all__ = ["TensorType", "substitute"]
