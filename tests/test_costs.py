"""MACs, activation memory, receptive fields and symbol constraints, computed by hand."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, run, spec
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.api import check_file
from specc.dims import format_dim, substitute
from specc.ops import REGISTRY
from specc.ops.base import AxisStep
from specc.passes.costs import PIXEL_MAP, AxisField, Congruence, Costs, measure
from tests.strategies import network_with


def costs_of(body: str, inputs: str = "x: [28, 28, 3]", ok: bool = True) -> Costs:
    result = run(spec(body, inputs))
    if ok:
        assert result.ok, [d.message for d in result.diagnostics]
    assert result.shapes is not None
    return measure(result.shapes)


def last(costs: Costs):  # type: ignore[no-untyped-def]
    return list(costs.layers.values())[-1]


def text(d: object) -> object:
    return d if isinstance(d, int) else format_dim(d)  # type: ignore[arg-type]


# -- MACs -------------------------------------------------------------------------------------

MAC_CASES = [
    # output elements x kernel taps x C_in/groups
    # 26 x 26 x 8 = 5,408 outputs, each 3 x 3 x 3 = 27 multiply-adds
    ("{type: conv2d, filters: 8, kernel: 3}", "x: [28, 28, 3]", 5408 * 27),
    # same, stride 2 on 28 x 27: ceil(28/2) x ceil(27/2) = 14 x 14 x 8 = 1,568 outputs
    ("{type: conv2d, filters: 8, kernel: 3, stride: 2, padding: same}", "x: [28, 27, 3]",
     1568 * 27),
    # grouped: 16 channels in 4 groups, each filter sees 4: 7 x 7 x 8 outputs x (3 x 3 x 4)
    ("{type: conv2d, filters: 8, kernel: 3, groups: 4}", "x: [9, 9, 16]", 7 * 7 * 8 * 36),
    # dilation widens the window (10 - 5 + 1 = 6) but keeps 3 x 3 taps: 6 x 6 x 4 x 9
    ("{type: conv2d, filters: 4, kernel: 3, dilation: 2}", "x: [10, 10, 1]", 6 * 6 * 4 * 9),
    # depthwise: each of the 4 x 4 x 10 outputs reads 3 x 3 taps of one channel
    ("{type: depthwise_conv2d, kernel: 3, multiplier: 2, stride: 2, padding: same}",
     "x: [8, 8, 5]", 4 * 4 * 10 * 9),
    # transposed: each of the 7 x 7 x 8 input values is multiplied into a 3 x 3 x 4 patch,
    # whatever 'same' crops away afterwards
    ("{type: conv2d_transpose, filters: 4, kernel: 3, stride: 2}", "x: [7, 7, 8]",
     7 * 7 * 8 * 9 * 4),
    ("{type: conv2d_transpose, filters: 4, kernel: 3, stride: 2, padding: same}",
     "x: [7, 7, 8]", 7 * 7 * 8 * 9 * 4),
    # transposed 1-d: each of the 9 x 6 input values into a 4-tap x 5-filter patch
    ("{type: conv1d_transpose, filters: 5, kernel: 4, stride: 3}", "x: [9, 6]", 9 * 6 * 4 * 5),
    # transposed 3-d, dilated: the dilation spreads the taps but keeps 2 x 2 x 2 of them
    ("{type: conv3d_transpose, filters: 3, kernel: 2, dilation: 2}", "x: [3, 4, 5, 2]",
     3 * 4 * 5 * 2 * 8 * 3),
    # separable 2-d = depthwise + pointwise: 4 x 4 positions x (5 x 2) channels x 3 x 3 taps,
    # then 4 x 4 positions x 7 filters x (5 x 2) channels
    ("{type: separable_conv2d, filters: 7, kernel: 3, depth_multiplier: 2, stride: 2, "
     "padding: same}", "x: [8, 8, 5]", 4 * 4 * 10 * 9 + 4 * 4 * 7 * 10),
    # separable 1-d: 96 steps x 4 channels x 5 taps + 96 steps x 8 filters x 4 channels
    ("{type: separable_conv1d, filters: 8, kernel: 5}", "x: [100, 4]", 96 * 4 * 5 + 96 * 8 * 4),
    # causal conv1d: 100 + 2 x (3 - 1) zeros, dilated window 5: 100 steps x 6 x (3 x 4)
    ("{type: conv1d, filters: 6, kernel: 3, dilation: 2, padding: causal}", "x: [100, 4]",
     100 * 6 * 12),
    # dense: 10 outputs x 64 inputs; on (4, 4, 64) it runs at each of the 16 positions
    ("{type: dense, units: 10}", "x: [64]", 10 * 64),
    ("{type: dense, units: 10, bias: false}", "x: [4, 4, 64]", 4 * 4 * 10 * 64),
    # conv1d: floor((100 - 5) / 2) + 1 = 48 steps x 6 filters x (5 x 4)
    ("{type: conv1d, filters: 6, kernel: 5, stride: 2}", "x: [100, 4]", 48 * 6 * 20),
    # conv3d (1, 3, 3): 4 x 6 x 6 x 2 outputs x (1 x 3 x 3 x 3)
    ("{type: conv3d, filters: 2, kernel: [1, 3, 3]}", "x: [4, 8, 8, 3]", 4 * 6 * 6 * 2 * 27),
    # time_distributed conv2d: per slice 7 x 7 x 4 outputs x (3 x 3 x 2), times 6 slices
    ("{type: time_distributed, layer: {type: conv2d, filters: 4, kernel: 3}}",
     "x: [6, 9, 9, 2]", 6 * 7 * 7 * 4 * 18),
    # self-attention, 4 heads of 16 on (10, 64): three projections 10 x 64 x 4 x 16, scores
    # and weighted values 4 x 10 x 10 x 16 each, output projection 10 x 4 x 16 x 64
    ("{type: multi_head_attention, num_heads: 4, key_dim: 16}", "x: [10, 64]",
     3 * 10 * 64 * 4 * 16 + 2 * 4 * 10 * 10 * 16 + 10 * 4 * 16 * 64),
    # value_dim 3 and output_shape 5 on (6, 8): projections 6 x 8 x 2 x (4 + 4 + 3), scores
    # 2 x 6 x 6 x 4, weighted values 2 x 6 x 6 x 3, output 6 x 2 x 3 x 5
    ("{type: multi_head_attention, num_heads: 2, key_dim: 4, value_dim: 3, output_shape: 5}",
     "x: [6, 8]", 6 * 8 * 2 * 11 + 2 * 6 * 6 * 4 + 2 * 6 * 6 * 3 + 6 * 2 * 3 * 5),
    # weights that only scale and shift: no multiply-adds by convention (as for every layer
    # without weights, which the registry-wide test below checks)
    ("{type: batch_norm}", "x: [8, 8, 4]", 0),
    # lstm: per step x_t (80) and h (64) each meet 4 gates x 64 units: 50 x 4 x 64 x (80 + 64)
    ("{type: lstm, units: 64}", "x: [50, 80]", 50 * 4 * 64 * (80 + 64)),
    # gru: 3 gates; reset_after or not, h meets the whole (64, 3 x 64) recurrent kernel
    ("{type: gru, units: 64, return_sequences: true}", "x: [50, 80]", 50 * 3 * 64 * (80 + 64)),
    ("{type: gru, units: 64, reset_after: false}", "x: [50, 80]", 50 * 3 * 64 * (80 + 64)),
    # bidirectional: one pass each way
    ("{type: bidirectional, layer: {type: lstm, units: 8}}", "x: [10, 4]", 2 * 10 * 4 * 8 * 12),
    # an embedding copies rows: nothing multiplied
    ("{type: embedding, input_dim: 100, output_dim: 8}", "x: {shape: [10], dtype: int32}", 0),
]  # fmt: skip
HAND_COMPUTED = {yaml.safe_load(body)["type"] for body, _, _ in MAC_CASES}


@pytest.mark.parametrize(("body", "inputs", "macs"), MAC_CASES)
def test_macs_per_layer(body: str, inputs: str, macs: int) -> None:
    assert last(costs_of("- " + body, inputs)).macs == macs


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_layers_without_weights_cost_nothing_and_the_rest_are_counted_by_hand(kind: str) -> None:
    network = network_with(kind)
    result = run(network.text)
    assert result.ok and result.shapes is not None
    name = network.spec["layers"][0]["name"]
    macs = substitute(measure(result.shapes).layers[name].macs, network.dims)
    if not result.shapes.layers[name].params:
        assert macs == 0
    elif macs != 0:
        assert kind in HAND_COMPUTED, f"{kind} has MACs: add a hand-computed case to MAC_CASES"


def test_merges_cost_nothing_and_totals_add_up() -> None:
    costs = costs_of(
        """
        - {name: a, type: conv2d, filters: 4, kernel: 1, inputs: x}
        - {name: b, type: conv2d, filters: 4, kernel: 1, inputs: x}
        - {name: s, type: add, inputs: [a, b]}
        - {name: c, type: concat, inputs: [a, s]}
        """,
        "x: [5, 5, 2]",
    )
    # each 1 x 1 conv: 5 x 5 x 4 outputs x 2 channels = 200
    assert [costs.layers[n].macs for n in "absc"] == [200, 200, 0, 0]
    assert costs.macs == 400
    assert costs.flops == 800


def test_keras_question_macs() -> None:
    costs = measure(check_file(EXAMPLES / "keras_question.yaml").shapes)  # type: ignore[arg-type]
    # conv1: 91 x 91 x 8 outputs x (11 x 11 x 1); conv2: 85 x 85 x 16 outputs x (7 x 7 x 8)
    assert costs.layers["conv1"].macs == 91 * 91 * 8 * 121 == 8_016_008
    assert costs.layers["conv2"].macs == 85 * 85 * 16 * 392 == 45_315_200


# -- memory -----------------------------------------------------------------------------------


def test_activation_memory_and_peak_of_the_keras_question() -> None:
    costs = measure(check_file(EXAMPLES / "keras_question.yaml").shapes)  # type: ignore[arg-type]
    # float32 outputs: 91 x 91 x 8 x 4 B and 85 x 85 x 16 x 4 B
    assert costs.layers["conv1"].memory == 264_992
    assert costs.layers["conv2"].memory == 462_400
    # image (101 x 101 x 4 B = 40,804) dies after conv1; while conv2 runs, conv1 and conv2 live
    assert costs.peak is not None and costs.peak.known
    (step,) = costs.peak.candidates
    assert (step.layer, step.live, step.bytes) == ("conv2", ("conv1", "conv2"), 264_992 + 462_400)


def test_peak_keeps_a_tensor_live_until_its_last_reader() -> None:
    costs = costs_of(
        """
        - {name: a, type: conv2d, filters: 8, kernel: 1, inputs: x}
        - {name: b, type: conv2d, filters: 2, kernel: 1, inputs: x}
        - {name: c, type: concat, inputs: [a, b]}
        """,
        "x: [8, 8, 4]",
    )
    # bytes: x 8*8*4*4 = 1,024; a 8*8*8*4 = 2,048; b 8*8*2*4 = 512; c 8*8*10*4 = 2,560
    # step a: x + a = 3,072; step b: x + a + b = 3,584; step c: a + b + c = 5,120
    assert costs.peak is not None
    (step,) = costs.peak.candidates
    assert (step.layer, step.live, step.bytes) == ("c", ("a", "b", "c"), 5120)
    assert costs.memory == 2048 + 512 + 2560


def test_model_outputs_stay_live_to_the_end() -> None:
    costs = run(
        "specc: 1\nname: t\ninputs: {x: [4, 4, 1]}\nlayers:\n"
        "  - {name: big, type: conv2d, filters: 64, kernel: 1}\n"
        "  - {name: small, type: conv2d, filters: 1, kernel: 1}\n"
        "  - {name: tail, type: relu}\n"
        "outputs: [big, tail]\n"
    )
    peak = measure(costs.shapes).peak  # type: ignore[arg-type]
    # big (16 x 64 x 4 = 4,096 B) is an output, so it is still live while tail runs
    assert peak is not None
    assert peak.candidates[-1].live == ("big", "small", "tail")
    assert peak.value({}) == 4096 + 64 + 64


# -- receptive fields -------------------------------------------------------------------------


def fields(costs: Costs) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, f in costs.fields.items():
        out[name] = f if isinstance(f, str) else [(a.size, a.jump) for a in f]
    return out


def test_receptive_fields_of_a_stack_with_strides_and_dilation() -> None:
    costs = costs_of(
        """
        - {name: c1, type: conv2d, filters: 4, kernel: 3, padding: same}
        - {name: c2, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}
        - {name: c3, type: conv2d, filters: 4, kernel: 3, dilation: 2, padding: same}
        - {name: p, type: max_pool2d, pool: 2}
        - {name: c4, type: conv2d, filters: 4, kernel: [3, 1], padding: same}
        """,
        "x: [64, 64, 3]",
    )
    f = fields(costs)
    assert f["c1"] == [(3, 1)] * 2  # 1 + (3 - 1) x 1
    assert f["c2"] == [(5, 2)] * 2  # 3 + (3 - 1) x 1; jump 1 x 2
    assert f["c3"] == [(13, 2)] * 2  # span 2 x (3 - 1) + 1 = 5: 5 + (5 - 1) x 2
    assert f["p"] == [(15, 4)] * 2  # 13 + (2 - 1) x 2; jump 2 x 2
    assert f["c4"] == [(23, 4), (15, 4)]  # 15 + (3 - 1) x 4 on axis 0 only


def test_receptive_fields_take_the_largest_path_where_branches_meet() -> None:
    costs = costs_of(
        """
        - {name: a1, type: conv2d, filters: 4, kernel: [3, 1], padding: same, inputs: x}
        - {name: a2, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}
        - {name: b, type: conv2d, filters: 4, kernel: [1, 7], stride: 2, padding: same, inputs: x}
        - {name: s, type: add, inputs: [a2, b]}
        - {name: out, type: conv2d, filters: 4, kernel: 3, padding: same}
        """,
        "x: [32, 32, 3]",
    )
    f = fields(costs)
    assert f["a2"] == [(5, 2), (3, 2)]  # (3, 1) then + (3 - 1) x 1 per axis
    assert f["b"] == [(1, 2), (7, 2)]
    assert f["s"] == [(5, 2), (7, 2)]  # per axis, the larger path
    assert f["out"] == [(9, 2), (11, 2)]  # + (3 - 1) x 2 on each


def test_residual_example_receptive_fields() -> None:
    costs = measure(check_file(EXAMPLES / "residual_block.yaml").shapes)  # type: ignore[arg-type]
    f = fields(costs)
    # three 3x3 convs: 7; stride-2 3x3: 9 (jump 2); 3x3: 13; the 1x1/2 shortcut: 7 (jump 2)
    assert f["b1_add"] == [(7, 1)] * 2
    assert f["b2_conv2"] == [(13, 2)] * 2
    assert f["b2_proj"] == [(7, 2)] * 2
    assert f["b2_add"] == [(13, 2)] * 2
    assert f["pool"] == f["logits"] == "global"


def test_receptive_fields_through_transposed_convolution_and_upsampling() -> None:
    costs = costs_of(
        """
        - {name: down, type: conv2d, filters: 4, kernel: 3, stride: 2}
        - {name: up, type: conv2d_transpose, filters: 4, kernel: 3, stride: 2}
        - {name: rep, type: upsample2d, inputs: x}
        - {name: mix, type: conv2d, filters: 4, kernel: 3}
        """,
        "x: [16, 16, 2]",
    )
    f = fields(costs)
    assert f["down"] == [(3, 2)] * 2
    # output o of the transposed conv reads inputs i with 0 <= o - 2i < 3: two of them (i, i+1)
    # when o is even, one when odd; inputs i, i+1 of `down` cover pixels 2i ... 2i + 4: 5
    assert f["up"] == [(5, 1)] * 2
    # nearest upsampling: output q reads pixel floor(q/2): 1 pixel, half a pixel apart
    assert f["rep"] == [(1, Fraction(1, 2))] * 2
    # 3 neighbours q, q+1, q+2 of the upsampled map read pixels floor(q/2) ... floor(q/2) + 1
    assert f["mix"] == [(2, Fraction(1, 2))] * 2


def test_receptive_fields_through_reshapes() -> None:
    costs = costs_of(
        """
        - {name: c, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}
        - {name: seq, type: reshape, shape: [T2, -1]}
        - {name: flat, type: flatten, inputs: c}
        - {name: fc, type: dense, units: 3}
        - {name: gp, type: global_max_pool, inputs: c}
        """,
        "x: [T2, 8, 2]",
        ok=False,
    )
    f = fields(costs)
    assert "seq" not in f  # (ceil(T2/2), 4, 4) cannot become (T2, -1): an error, no field
    assert f["flat"] == "flat"
    assert f["fc"] == "global"
    assert f["gp"] == "global"
    kept = costs_of(
        """
        - {name: c, type: conv2d, filters: 4, kernel: 3, padding: same}
        - {name: seq, type: reshape, shape: [T, -1]}
        - {name: td, type: time_distributed, layer: {type: dense, units: 2}}
        """,
        "x: [T, 8, 2]",
    )
    # the time axis survives the reshape and the time-distributed dense
    assert fields(kept)["seq"] == fields(kept)["td"] == [(3, 1)]


def _brute_force_extent(layers: list[tuple[str, int, int, int]]) -> int:
    """Follow every output position back to the input pixels it reads, on an unbounded axis."""
    period = 1
    for _, _, s, _ in layers:
        period *= s
    widest = 0
    for o in range(1000, 1000 + 2 * period + 2):
        positions = {o}
        for kind, k, s, d in reversed(layers):
            if kind == "conv":
                positions = {p * s + d * t for p in positions for t in range(k)}
            else:  # upsampling by s, k-wide kernel: input i paints outputs i*s ... i*s + k - 1
                positions = {
                    i
                    for p in positions
                    for i in range(p // s - k, p // s + 2)
                    if 0 <= p - i * s < k
                }
        if positions:
            widest = max(widest, max(positions) - min(positions) + 1)
    return widest


LAYER = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("up"), st.integers(1, 5), st.integers(2, 3), st.just(1)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(LAYER, min_size=1, max_size=5))
def test_receptive_field_sizes_equal_a_brute_force_count(
    layers: list[tuple[str, int, int, int]],
) -> None:
    axis = PIXEL_MAP
    for kind, k, s, d in layers:
        axis = axis.through(AxisStep(k, s, d) if kind == "conv" else AxisStep(k, up=s))
    assert axis.size == _brute_force_extent(layers)


# -- symbolic costs ---------------------------------------------------------------------------


def speech() -> Costs:
    return measure(check_file(EXAMPLES / "speech_frontend.yaml").shapes)  # type: ignore[arg-type]


def test_speech_front_end_costs_are_exact_in_t() -> None:
    costs = speech()
    # conv1: ceil(T/2) x 40 x 32 outputs x (3 x 3 x 3) = 34,560 x ceil(T/2)
    # conv2: ceil(T/4) x 20 x 32 outputs x (3 x 3 x 32) = 184,320 x ceil(T/4)
    assert text(costs.layers["conv1"].macs) == "34560*ceil(T/2)"
    assert text(costs.layers["conv2"].macs) == "184320*ceil(T/4)"
    assert text(costs.macs) == "34560*ceil(T/2)+184320*ceil(T/4)"
    # T = 1000: 34,560 x 500 + 184,320 x 250 = 17,280,000 + 46,080,000
    assert substitute(costs.macs, {"T": 1000}) == 63_360_000
    # memory: ceil(T/2) x 40 x 32 x 4 B = 5,120 x ceil(T/2)
    #         ceil(T/4) x 20 x 32 x 4 B = 2,560 x ceil(T/4)
    assert text(costs.layers["bn1"].memory) == "5120*ceil(T/2)"
    assert text(costs.layers["relu2"].memory) == "2560*ceil(T/4)"
    # receptive fields: 3 (jump 2), then 3 + (3 - 1) x 2 = 7 (jump 4); the mel axis alike
    assert costs.fields["relu2"] == (AxisField(7, Fraction(4)),) * 2


def test_speech_front_end_peak_is_proved_for_every_t() -> None:
    peak = speech().peak
    assert peak is not None and peak.known
    (step,) = peak.candidates
    # while bn1 runs, conv1 and bn1 are live: 2 x 5,120 x ceil(T/2); the step before holds the
    # input (T x 80 x 3 x 4 B = 960 T) and conv1: 960 T + 5,120 ceil(T/2) <= 10,240 ceil(T/2)
    assert (step.layer, text(step.bytes)) == ("bn1", "10240*ceil(T/2)")
    assert peak.value({"T": 1000}) == 10240 * 500


def test_smallest_t_where_no_axis_reaches_zero() -> None:
    assert speech().bounds["T"].value == 1  # 'same' padding: ceil(T/4) >= 1 from T = 1
    costs = costs_of(
        """
        - {name: c1, type: conv2d, filters: 4, kernel: 3, stride: 2}
        - {name: c2, type: conv2d, filters: 4, kernel: 3, stride: 2}
        """,
        "x: [T, 80, 3]",
    )
    # c1: floor((T - 3)/2) + 1 >= 1 needs T >= 3; c2: floor((c1 - 3)/2) + 1 >= 1 needs c1 >= 3,
    # i.e. floor((T - 3)/2) >= 2, T >= 7
    bound = costs.bounds["T"]
    assert (bound.value, bound.where, bound.axis) == (7, "c2", 0)
    assert costs.problems({"T": 7}) == []
    assert costs.problems({"T": 6}) and "below 7" in costs.problems({"T": 6})[0]


def test_divisibility_where_two_branches_meet() -> None:
    costs = costs_of(
        """
        - {name: down, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}
        - {name: up, type: upsample2d}
        - {name: skip, type: add, inputs: [up, x]}
        """,
        "x: [T, 8, 4]",
        ok=False,
    )
    # up has 2 x ceil(T/2) rows and x has T: equal exactly when T is even
    assert costs.congruences == [Congruence("T", 2, (0,), "skip")]
    assert str(costs.congruences[0]) == "T a multiple of 2"
    assert costs.smallest("T") == 2
    assert costs.problems({"T": 9}) and "multiple of 2" in costs.problems({"T": 9})[0]


def test_divisibility_by_four_after_two_halvings() -> None:
    costs = costs_of(
        """
        - {name: d1, type: max_pool2d, pool: [2, 1], padding: same}
        - {name: d2, type: max_pool2d, pool: [2, 1], padding: same}
        - {name: u, type: upsample2d, size: [4, 1]}
        - {name: cat, type: concat, inputs: [u, x]}
        """,
        "x: [T, 3, 2]",
        ok=False,
    )
    # 4 x ceil(T/4) = T only for multiples of 4
    assert [str(c) for c in costs.congruences] == ["T a multiple of 4"]


def test_peak_with_two_unrelated_symbols_is_a_max() -> None:
    costs = costs_of(
        """
        - {name: a, type: relu, inputs: x}
        - {name: b, type: relu, inputs: y}
        """,
        "x: [T, 2]\n  y: [U, 2]",
    )
    # step a holds x, y and a: 8T + 8U + 8T bytes; step b holds y and b: 16U. Neither is
    # larger for every T and U, so the peak stays max(16T + 8U, 16U) until they are bound.
    assert costs.peak is not None and not costs.peak.known
    assert costs.peak.value({"T": 10, "U": 3}) == 2 * 10 * 2 * 4 + 3 * 2 * 4  # step a: 184
    assert costs.peak.value({"T": 1, "U": 30}) == 2 * 30 * 2 * 4  # step b: 480


# -- published figures ------------------------------------------------------------------------

PUBLISHED = [
    # torchvision's resnet18: 11,689,512 parameters, 1.81-1.82 GMACs (conv and linear only:
    # 1,814,073,344); receptive field 7 (stem), 11 (pool, jump 4), + 4 x 2 x 4 = 43 (stage 1),
    # then per stage 2 x old jump + 3 x 2 x new jump: + 8 + 48, + 16 + 96, + 32 + 192 = 435
    ("resnet18.yaml", 11_689_512, 1_814_073_344, 435),
    # MobileNetV2 1.0 at 224: 3,504,872 parameters, "300M multiply-adds" (Sandler et al.)
    ("mobilenet_v2.yaml", 3_504_872, 300_774_272, None),
]


@pytest.mark.parametrize(("name", "params", "macs", "rf"), PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_published_figures(name: str, params: int, macs: int, rf: int | None) -> None:
    path: Path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{name} is not in examples/ yet")
    result = check_file(path)
    assert result.ok and result.shapes is not None
    costs = measure(result.shapes)
    trainable = sum(info.trainable_count for info in result.shapes.layers.values())  # type: ignore[misc]
    assert trainable == params
    assert costs.macs == macs
    if rf is not None:
        deepest = [f for f in costs.fields.values() if isinstance(f, tuple) and f][-1]
        assert [a.size for a in deepest] == [rf, rf]


# -- bounded work on hostile specs --------------------------------------------------------
POOLS = "\n".join(
    f"- {{name: p{p}, type: max_pool2d, pool: [{p}, 1], padding: same, inputs: x}}"
    for p in (2, 3, 5, 7, 11, 13)  # floors of T/2 ... T/13: their lcm, 30,030, is over the cap
)


def test_a_period_over_the_cap_is_not_searched() -> None:
    from specc.passes.congruence import MAX_PERIOD

    assert MAX_PERIOD < 2 * 3 * 5 * 7 * 11 * 13
    valid = spec(POOLS, "x: [T, 3, 2]") + "outputs: [p2, p3, p5, p7, p11, p13]\n"
    costs = measure(run(valid).shapes)  # type: ignore[arg-type]
    # p13's live set holds p3's: larger for every T, but showing it takes every residue.
    assert [c.layer for c in costs.peak.candidates] == ["p3", "p13"]  # type: ignore[union-attr]
    merged = spec(
        f"{POOLS}\n- {{type: concat, inputs: [p2, p3, p5, p7, p11, p13]}}", "x: [T, 3, 2]"
    )
    (problem,) = run(merged).diagnostics
    assert problem.code == "S102" and problem.notes == ()  # no divisibility rule searched


def test_a_receptive_field_that_repeats_too_rarely_is_not_computed() -> None:
    costs = costs_of(
        """
        - {name: u1, type: upsample2d, size: [1000, 1]}
        - {name: c1, type: conv2d, filters: 1, kernel: [3, 1]}
        - {name: u2, type: upsample2d, size: [1000, 1]}
        - {name: c2, type: conv2d, filters: 1, kernel: [3, 1]}
        """,
        "x: [4, 4, 1]",
    )
    fields = {name: c.field for name, c in costs.layers.items()}
    # After u1 each output row reads input row floor(o / 1000): exact with period 1,000.
    assert fields["c1"] == (AxisField(2, Fraction(1, 1000)), AxisField(1, Fraction(1)))
    assert fields["u2"] == fields["c2"] == "unknown"  # the period would be 1,000,000
