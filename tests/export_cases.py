"""Specs and reference runs shared by the PyTorch and Keras export tests.

Each case is a spec (the examples, with the largest inputs shrunk so that the tests stay
quick, and hand-written specs that reach every layer type and attribute the exports treat
specially), and the reference is `specc run` on perturbed weights: random biases, batch-norm
statistics and scales, so that a parameter loaded into the wrong place shows.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

import specc
from specc.api import check_text
from specc.passes.shapes import Shapes
from tests.conftest import example_dims

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# Inputs shrunk for the runs (the networks end in global pooling, so nothing else changes).
SHRINK = {"[224, 224, 3]": "[32, 32, 3]"}


def _spec(name: str, inputs: str, body: str, outputs: str = "") -> str:
    layers = textwrap.indent(textwrap.dedent(body).strip("\n"), "  ")
    text = f"specc: 1\nname: {name}\ninputs:\n  {inputs}\nlayers:\n{layers}\n"
    return text + (f"outputs: [{outputs}]\n" if outputs else "")


# Hand-written specs: every family, padding the layers cannot express themselves (odd pixels
# after, explicit pairs, symbolic sizes with strides), and the activations' parameters.
SPECS: dict[str, tuple[str, dict[str, int]]] = {
    "conv-padding": (
        _spec(
            "conv-padding",
            "x: [11, 9, 4]",
            """
            - {name: c1, type: conv2d, filters: 6, kernel: 3, stride: 2, padding: same, activation: leaky_relu}
            - {name: c2, type: conv2d, filters: 6, kernel: [2, 3], padding: [[1, 0], 2], dilation: [1, 2], bias: false}
            - {name: c3, type: conv2d, filters: 8, kernel: 4, padding: same, groups: 2, activation: elu}
            - {name: dw, type: depthwise_conv2d, kernel: 3, stride: 2, padding: same, multiplier: 2, activation: relu6}
            - {name: up, type: conv2d_transpose, filters: 5, kernel: 3, stride: 2, padding: same, activation: gelu}
            - {name: up2, type: conv2d_transpose, filters: 3, kernel: 2, stride: 3, bias: false}
            - {name: up3, type: conv2d_transpose, filters: 3, kernel: 4, stride: 1, padding: same}
            """,
        ),
        {},
    ),
    "pools-and-norms": (
        _spec(
            "pools-and-norms",
            "x: [10, 7, 3]",
            """
            - {name: bn, type: batch_norm, center: false}
            - {name: avg, type: avg_pool2d, pool: 3, stride: 2, padding: same}
            - {name: mx, type: max_pool2d, pool: 2, stride: 1, padding: same, inputs: bn}
            - {name: avg_even, type: avg_pool2d, pool: 2, stride: 1, padding: same, inputs: bn}
            - {name: joined, type: concat, inputs: [mx, avg_even]}
            - {name: bn2, type: batch_norm, scale: false, epsilon: 0.01}
            - {name: up, type: upsample2d, size: [2, 1]}
            - {name: pad, type: zero_pad2d, padding: [[1, 2], 0]}
            - {name: gmax, type: global_max_pool}
            - {name: bn3, type: batch_norm}
            - {name: gavg, type: global_avg_pool, inputs: avg}
            - {name: prod, type: multiply, inputs: [gavg, gavg]}
            - {name: out, type: concat, inputs: [bn3, prod], axis: 0}
            - {name: probs, type: softmax}
            """,
        ),
        {},
    ),
    "sequence": (
        _spec(
            "sequence",
            "x: [T, 6]",
            """
            - {name: c1, type: conv1d, filters: 8, kernel: 3, stride: 2, padding: same, activation: silu}
            - {name: c2, type: conv1d, filters: 8, kernel: 2, padding: [[0, 1]], dilation: 2}
            - {name: pool, type: max_pool1d, pool: 2, padding: same}
            - {name: bn, type: batch_norm}
            - {name: d, type: dense, units: 5, activation: tanh}
            - {name: d2, type: dense, units: 4, bias: false}
            - {name: pad, type: zero_pad1d, padding: [[2, 1]]}
            - {name: avg, type: avg_pool1d, pool: 3, stride: 2, padding: same}
            - {name: r, type: reshape, shape: [-1, 2, 2]}
            - {name: td, type: time_distributed, layer: {type: dense, units: 3, activation: sigmoid}}
            - {name: drop, type: dropout, rate: 0.5}
            - {name: act, type: leaky_relu, alpha: 0.1}
            - {name: elu, type: elu, alpha: 0.5}
            """,
        ),
        {"T": 23},
    ),
    "volumes-and-wrappers": (
        _spec(
            "volumes-and-wrappers",
            "x: [5, 6, 7, 2]",
            """
            - {name: c3, type: conv3d, filters: 4, kernel: [1, 3, 2], padding: same, activation: relu}
            - {name: pad, type: zero_pad3d, padding: [0, [1, 0], 1]}
            - {name: pool, type: avg_pool3d, pool: [1, 2, 2], padding: same}
            - {name: td, type: time_distributed, layer: {type: conv2d, filters: 3, kernel: 2, padding: [[0, 1], 1], activation: leaky_relu}}
            - {name: td2, type: time_distributed, layer: {type: max_pool2d, pool: 2}}
            - {name: flat, type: flatten}
            - {name: d, type: dense, units: 7}
            - {name: sig, type: sigmoid}
            - {name: th, type: tanh, inputs: d}
            - {name: r6, type: relu6, inputs: d}
            - {name: g, type: gelu, inputs: d}
            - {name: s, type: silu, inputs: d}
            - {name: sum, type: add, inputs: [sig, th, r6, g, s]}
            """,
        ),
        {},
    ),
    # key_dim other than features / heads, value_dim other than key_dim, an output size,
    # cross-attention over a symbolic length, the key as a third input, and rank-3 positions.
    "attention": (
        _spec(
            "attention",
            "x: [T, 8]\n  m: [S, 5]\n  k: [S, 3]\n  g: [3, 4, 6]",
            """
            - {name: self, type: multi_head_attention, num_heads: 2, key_dim: 3, inputs: x}
            - {name: cross, type: multi_head_attention, num_heads: 3, key_dim: 2, value_dim: 5, output_shape: 7, bias: false, inputs: [self, m]}
            - {name: qvk, type: multi_head_attention, num_heads: 2, key_dim: 4, value_dim: 3, dropout: 0.1, inputs: [cross, m, k]}
            - {name: grid, type: multi_head_attention, num_heads: 2, key_dim: 4, value_dim: 2, inputs: g}
            """,
            "qvk, grid",
        ),
        {"T": 6, "S": 4},
    ),
    # Broadcasting against channels-first maps: (1, 1, C) and (C,) gates, a (W, 1) input, a
    # row (1, W, C), the lower-rank input first and second.
    "broadcast-merges": (
        _spec(
            "broadcast-merges",
            "x: [5, 4, 3]\n  y: [4, 1]",
            """
            - {name: c, type: conv2d, filters: 6, kernel: 3, padding: same, inputs: x}
            - {name: squeeze, type: global_avg_pool, keepdims: true}
            - {name: gate, type: sigmoid}
            - {name: se, type: multiply, inputs: [c, gate]}
            - {name: peak, type: global_max_pool, inputs: c}
            - {name: centred, type: subtract, inputs: [se, peak]}
            - {name: row, type: slice, axis: 0, stop: 1, inputs: c}
            - {name: mixed, type: add, inputs: [peak, centred, row]}
            - {name: lifted, type: subtract, inputs: [y, mixed]}
            - {name: scaled, type: multiply, inputs: [lifted, y, gate]}
            - {name: top, type: global_max_pool, keepdims: true, inputs: scaled}
            """,
            "scaled, top",
        ),
        {},
    ),
    # Permutes that keep the channels last and that move them, after channels-first layers;
    # cropping, slices, upsampling (factor 3, bilinear) and identity in every rank, over a
    # symbolic length too.
    "permute-crop-upsample": (
        _spec(
            "permute-crop-upsample",
            "x: [6, 5, 3]\n  s: [T, 4]\n  v: [4, 5, 6, 2]",
            """
            - {name: c, type: conv2d, filters: 4, kernel: 1, inputs: x}
            - {name: swapped, type: permute, dims: [2, 1, 3]}
            - {name: c2, type: conv2d, filters: 5, kernel: [3, 1]}
            - {name: rolled, type: permute, dims: [3, 1, 2]}
            - {name: crop, type: cropping2d, cropping: [[1, 0], [0, 1]]}
            - {name: up, type: upsample2d, size: [2, 3], interpolation: bilinear}
            - {name: up3, type: upsample2d, size: 3}
            - {name: every2, type: slice, axis: 1, start: 1, step: 2}
            - {name: same, type: identity}
            - {name: trim, type: cropping1d, cropping: [[1, 2]], inputs: s}
            - {name: frames, type: slice, axis: 0, start: 1, stop: -1, step: 2}
            - {name: long, type: upsample1d, size: 3}
            - {name: cols, type: permute, dims: [2, 1]}
            - {name: back, type: permute, dims: [2, 1]}
            - {name: vol, type: cropping3d, cropping: [1, [0, 2], 1], inputs: v}
            - {name: vup, type: upsample3d, size: [1, 2, 3]}
            - {name: vc, type: conv3d, filters: 3, kernel: 1}
            - {name: vperm, type: permute, dims: [3, 2, 1, 4]}
            """,
            "same, back, vperm",
        ),
        {"T": 11},
    ),
    # Causal and separable convolutions, transposed ones in every rank (dilated, `same` with
    # an odd crop), normalisations over chosen axes with either of gamma and beta, and the
    # hard activations fused into a layer.
    "separable-transposed-norms": (
        _spec(
            "separable-transposed-norms",
            "s: [T, 4]\n  x: [9, 8, 3]\n  v: [3, 4, 5, 2]",
            """
            - {name: causal, type: conv1d, filters: 5, kernel: 3, dilation: 2, padding: causal, activation: hard_swish, inputs: s}
            - {name: sep1, type: separable_conv1d, filters: 6, kernel: 3, depth_multiplier: 2, padding: same, activation: mish}
            - {name: up1, type: conv1d_transpose, filters: 3, kernel: 3, dilation: 2, padding: same}
            - {name: ln1, type: layer_norm, center: false}
            - {name: sep2, type: separable_conv2d, filters: 4, kernel: 3, stride: 2, padding: same, bias: false, inputs: x}
            - {name: ln2, type: layer_norm, axis: [0, 2], scale: false}
            - {name: gn, type: group_norm, groups: 2}
            - {name: ls, type: scale, init_value: 0.5}
            - {name: sm, type: softmax, axis: [0, 1]}
            - {name: up2, type: conv2d_transpose, filters: 3, kernel: 2, stride: 2, activation: hard_sigmoid}
            - {name: resc, type: rescaling, scale: 0.5, offset: -1.0}
            - {name: norm, type: normalization}
            - {name: up3, type: conv3d_transpose, filters: 2, kernel: [2, 3, 1], stride: [1, 2, 3], padding: same, inputs: v}
            - {name: gn3, type: group_norm, groups: 1, center: false}
            - {name: ln3, type: layer_norm, axis: [1, 2, 3], epsilon: 0.1}
            """,
            "ln1, norm, ln3",
        ),
        {"T": 10},
    ),
    # Integer inputs: embeddings read them as indices, other layers as real values.
    "indices": (
        _spec(
            "indices",
            "ids: {shape: [T], dtype: int32}\n  grid: {shape: [T, 3], dtype: int32}\n"
            "  row: {shape: [5], dtype: int32}",
            """
            - {name: emb, type: embedding, input_dim: 7, output_dim: 4, inputs: ids}
            - {name: c, type: conv1d, filters: 3, kernel: 2, inputs: grid}
            - {name: emb2, type: embedding, input_dim: 5, output_dim: 2, inputs: grid}
            - {name: d, type: dense, units: 3, inputs: row}
            - {name: e, type: embedding, input_dim: 9, output_dim: 2, inputs: row}
            - {name: mixed, type: conv1d, filters: 2, kernel: 1, inputs: emb}
            """,
            "mixed, c, emb2, d, e",
        ),
        {"T": 6},
    ),
    # Recurrent layers: nn.LSTM and nn.GRU where PyTorch has them (gates reordered, Keras's one
    # LSTM bias), Keras's equations step by step where it has not, each merge mode.
    "recurrent": (
        _spec(
            "recurrent",
            "x: [T, 5]",
            """
            - {name: lstm, type: lstm, units: 4, return_sequences: true}
            - {name: gru, type: gru, units: 3, bias: false, return_sequences: true}
            - {name: bi_sum, type: bidirectional, merge_mode: sum, layer: {type: lstm, units: 3}}
            - {name: bi_mul, type: bidirectional, merge_mode: mul, layer: {type: gru, units: 2, return_sequences: true}, inputs: gru}
            - {name: bi_ave, type: bidirectional, merge_mode: ave, layer: {type: gru, units: 2, reset_after: false, activation: leaky_relu}, inputs: x}
            - {name: bi_cat, type: bidirectional, layer: {type: lstm, units: 2, recurrent_activation: hard_sigmoid, return_sequences: true}, inputs: bi_mul}
            - {name: old, type: gru, units: 3, reset_after: false, inputs: bi_cat}
            - {name: last, type: gru, units: 2, inputs: x}
            """,
            "bi_sum, bi_ave, old, last",
        ),
        {"T": 5},
    ),
}


@dataclass(frozen=True)
class Case:
    """A spec to export, and `specc run` on it as the reference."""

    name: str
    text: str
    dims: dict[str, int]

    @property
    def shapes(self) -> Shapes:
        checked = check_text(self.text, f"{self.name}.yaml")
        assert checked.ok and checked.shapes is not None, checked.diagnostics
        return checked.shapes

    def reference(
        self, batch: int = 2
    ) -> tuple[dict[str, NDArray], dict[str, NDArray], dict[str, NDArray]]:
        """Inputs, weights (perturbed) and the outputs `specc run` computes from them."""
        plan = specc.compile(self.text, dims=self.dims, batch=batch, max_memory=None)
        seeded = plan.prepare(None, None, seed=1)
        weights = perturbed(seeded.weights)
        inputs = dict(seeded.inputs.arrays)
        return inputs, weights, plan.prepare(inputs, weights).run()


def cases() -> list[Case]:
    out = []
    for path in EXAMPLES:
        text = path.read_text()
        for big, small in SHRINK.items():
            text = text.replace(big, small)
        out.append(Case(path.stem, text, example_dims(path)))
    out += [Case(name, text, dims) for name, (text, dims) in SPECS.items()]
    return out


def drawn(kind: str) -> Case:
    """The small seeded network whose first layer is `kind` (tests/strategies.py), so that
    every registered type is exported without a list to keep. Where a weight's size is a
    symbol (a layer_norm over the time axis), which neither PyTorch nor Keras can hold, the
    symbols are bound to their values in the spec."""
    from tests.strategies import network_with

    network = network_with(kind)
    case = Case(f"drawn-{kind}", network.text, network.dims)
    if all(isinstance(layer.param_count, int) for layer in case.shapes.layers.values()):
        return case
    spec = _bound(network.spec, network.dims)
    return Case(f"drawn-{kind}", yaml.safe_dump(spec, sort_keys=False), {})


def _bound(data: Any, dims: dict[str, int]) -> Any:
    """`data` with every string that names a symbol replaced by its value."""
    if isinstance(data, dict):
        return {k: _bound(v, dims) for k, v in data.items()}
    if isinstance(data, list):
        return [_bound(v, dims) for v in data]
    return dims.get(data, data) if isinstance(data, str) else data


def perturbed(weights: dict[str, NDArray], seed: int = 0) -> dict[str, NDArray]:
    """The weights with random biases, betas, moving statistics and gammas."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, array in weights.items():
        param = key.rsplit(".", 1)[1]
        if param in ("moving_variance", "gamma", "variance"):
            array = rng.uniform(0.5, 1.5, array.shape)
        elif param in ("bias", "beta", "moving_mean", "mean"):
            array = rng.normal(0.0, 0.1, array.shape)
        out[key] = np.asarray(array, weights[key].dtype)
    return out


def relative_error(got: NDArray, want: NDArray) -> float:
    """The largest difference, relative to the largest value of the reference."""
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(float(np.max(np.abs(want))), 1e-30)
    return float(np.max(np.abs(got.astype(np.float64) - want))) / scale
