"""Every lint rule: a spec that triggers it (code, line:column, the message's numbers) and a
close variant that does not."""

from __future__ import annotations

import pytest
from conftest import spec

from specc.api import check_text
from specc.lint import Settings
from specc.lint.settings import ALL

# spec() puts `layers:` on line 5, so the first layer is on line 6.


def found(text: str, code: str, settings: Settings | None = None) -> list[tuple[int, int, str]]:
    """(line, column, message) of every `code` finding."""
    result = check_text(text, "t.yaml", settings=settings or Settings(select=(ALL,)))
    return [
        (d.span.line, d.span.col, d.message)
        for d in result.diagnostics
        if d.code == code and d.span
    ]


def col(text: str, line: int, token: str) -> int:
    """The 1-based column where `token` first appears on `line`."""
    return text.splitlines()[line - 1].index(token) + 1


# (code, inputs, body, (line, token), words in the message), then the close variant's body/inputs
CASES = [
    (
        "W101",
        "x: [31, 31, 3]",
        "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}",
        (6, "4}"),
        ["conv1: stride 4 exceeds the 3-wide kernel on axes 0 and 1", "1 of every 4"],
        ("x: [31, 31, 3]", "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 3}"),
    ),
    (
        "W101",
        "x: [32, 32, 3]",
        "- {name: pool1, type: max_pool2d, pool: 2, stride: 3}",
        (6, "3}"),
        ["stride 3 exceeds the 2-wide pool window", "1 of every 3 input rows and columns is"],
        ("x: [32, 32, 3]", "- {name: pool1, type: max_pool2d, pool: 2, stride: 2}"),
    ),
    (
        "W101",
        "x: [33, 4]",
        "- {name: c, type: conv1d, filters: 4, kernel: 3, dilation: 2, stride: 2}",
        (6, "2}"),
        ["stride 2 with a 3-wide kernel dilated by 2 on axis 0", "1 of every 2 input steps is"],
        ("x: [33, 4]", "- {name: c, type: conv1d, filters: 4, kernel: 3, dilation: 1, stride: 2}"),
    ),
    (
        "W102",
        "x: [28, 28, 1]",
        "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}",
        (6, "2}"),
        ["valid padding leaves the last 1 of 28 input rows and columns", "28 - 3 = 25", "stride 2"],
        ("x: [29, 29, 1]", "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}"),
    ),
    (
        "W102",
        "x: [7, 7, 3]",
        "- {name: pool1, type: max_pool2d}",
        (6, "{"),
        ["pool1: valid padding leaves the last 1 of 7 input rows and columns", "7 - 2 = 5"],
        ("x: [8, 8, 3]", "- {name: pool1, type: max_pool2d}"),
    ),
    (
        "W102",
        "x: [28, 29, 1]",
        "- {name: c, type: conv2d, filters: 8, kernel: 3, stride: 2, padding: 0}",
        (6, "0}"),
        ["valid padding leaves the last 1 of 28 input rows unread on axis 0: 28 - 3 = 25"],
        (
            "x: [28, 29, 1]",
            "- {name: c, type: conv2d, filters: 8, kernel: 3, stride: 2, padding: [[0, 1], 0]}",
        ),
    ),
    (
        "W103",
        "x: [32, 32, 3]",
        "- {name: conv1, type: conv2d, filters: 8, kernel: 4, padding: same}",
        (6, "4,"),
        ["conv1: the 4-wide kernel has no centre", "axes 0 and 1 unevenly (1 before, 2 after)"],
        ("x: [32, 32, 3]", "- {name: conv1, type: conv2d, filters: 8, kernel: 3, padding: same}"),
    ),
    (
        "W103",
        "x: [31, 31, 3]",
        "- {name: conv1, type: conv2d, filters: 8, kernel: 2, stride: 2, padding: same}",
        (6, "2,"),
        ["the 2-wide kernel has no centre", "(0 before, 1 after)"],
        (
            "x: [32, 32, 3]",
            "- {name: conv1, type: conv2d, filters: 8, kernel: 2, stride: 2, padding: same}",
        ),
    ),
    (
        "W201",
        "x: [32, 32, 3]",
        "- {name: conv1, type: conv2d, filters: 16, kernel: 3, padding: same}\n"
        "- {name: bn1, type: batch_norm}",
        (6, "{"),
        ["conv1: its bias (16 parameters) is cancelled by batch_norm bn1", "`bias: false`"],
        (
            "x: [32, 32, 3]",
            "- {name: conv1, type: conv2d, filters: 16, kernel: 3, padding: same, bias: false}\n"
            "- {name: bn1, type: batch_norm}",
        ),
    ),
    (
        "W201",
        "x: [64]",
        "- {name: fc, type: dense, units: 10, bias: true}\n- {name: bn, type: batch_norm}",
        (6, "true"),
        ["fc: its bias (10 parameters) is cancelled by batch_norm bn"],
        (
            "x: [64]",
            "- {name: fc, type: dense, units: 10, activation: relu}\n"
            "- {name: bn, type: batch_norm}",
        ),
    ),
    (
        "W202",
        "x: [28, 28, 3]",
        "- {name: conv1, type: conv2d, filters: 8, kernel: 3, activation: relu}\n"
        "- {name: relu1, type: relu}",
        (7, "{"),
        ["relu1: relu directly after conv1, which already applies relu"],
        (
            "x: [28, 28, 3]",
            "- {name: conv1, type: conv2d, filters: 8, kernel: 3}\n- {name: relu1, type: relu}",
        ),
    ),
    (
        "W202",
        "x: [8]",
        "- {name: a, type: sigmoid}\n- {name: b, type: relu}",
        (7, "{"),
        ["b: relu directly after the sigmoid layer a"],
        (
            "x: [8]",
            "- {name: a, type: sigmoid}\n- {name: d, type: dense, units: 8}\n"
            "- {name: b, type: relu}",
        ),
    ),
    (
        "W203",
        "x: [64]",
        "- {name: fc1, type: dense, units: 32, activation: softmax}\n"
        "- {name: fc2, type: dense, units: 10}",
        (6, "softmax"),
        ["fc1: its softmax output feeds fc2 (dense)"],
        (
            "x: [64]",
            "- {name: fc1, type: dense, units: 32, activation: relu}\n"
            "- {name: fc2, type: dense, units: 10, activation: softmax}",
        ),
    ),
    (
        "W203",
        "x: [8, 8, 16]",
        "- {name: gate, type: sigmoid}\n- {name: c, type: conv2d, filters: 4, kernel: 1}",
        (6, "{"),
        ["gate: its sigmoid output feeds c (conv2d)"],
        (
            "x: [8, 8, 16]",
            "- {name: gate, type: sigmoid}\n- {name: scaled, type: multiply, inputs: [gate, x]}",
        ),
    ),
    (
        "W204",
        "x: [64]",
        "- {name: fc, type: dense, units: 10}\n- {name: drop, type: dropout, rate: 0.25}",
        (7, "{"),
        ["drop: dropout (rate 0.25) is a model output"],
        (
            "x: [64]",
            "- {name: drop, type: dropout, rate: 0.25}\n- {name: fc, type: dense, units: 10}",
        ),
    ),
    (
        "W205",
        "x: [64]",
        "- {name: drop, type: dropout, rate: 0.5}\n- {name: bn, type: batch_norm}",
        (6, "{"),
        ["drop: dropout (rate 0.5) feeds batch_norm bn"],
        ("x: [64]", "- {name: bn, type: batch_norm}\n- {name: drop, type: dropout, rate: 0.5}"),
    ),
    (
        "W301",
        "x: [8]",
        "- {name: a, type: relu}\n- {name: b, type: tanh, inputs: x}\n"
        "- {name: c, type: relu, inputs: a}",
        (7, "{"),
        ["b: nothing reads its output and it is not a model output (outputs: c)"],
        (
            "x: [8]",
            "- {name: a, type: relu}\n- {name: b, type: tanh, inputs: x}\n"
            "- {name: c, type: add, inputs: [a, b]}",
        ),
    ),
    (
        "W401",
        "x: [7, 7, 64]",
        "- {name: fc, type: dense, units: 10}",
        (6, "{"),
        ["fc: dense on a (7, 7, 64) input acts on the last axis only and gives (7, 7, 10)"],
        ("x: [7, 64]", "- {name: fc, type: dense, units: 10}"),
    ),
    (
        "I101",
        "x: [7, 7, 64]",
        "- {name: fc, type: conv2d, filters: 10, kernel: 7}",
        (6, "7}"),
        ["fc: the 7x7 kernel covers the whole (7, 7, 64) input", "(3,136 -> 10)"],
        ("x: [7, 7, 64]", "- {name: fc, type: conv2d, filters: 10, kernel: 7, padding: same}"),
    ),
    (
        "I102",
        "x: [32, 32, 64]",
        "- {name: proj, type: conv2d, filters: 16, kernel: 1}",
        (6, "1}"),
        ["proj: a 1x1 convolution is a dense layer applied at every pixel: 64 -> 16 channels"],
        ("x: [32, 32, 64]", "- {name: proj, type: conv2d, filters: 16, kernel: 1, groups: 2}"),
    ),
]


@pytest.mark.parametrize(
    ("code", "inputs", "body", "where", "words", "variant"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_triggers_and_a_close_variant_does_not(
    code: str,
    inputs: str,
    body: str,
    where: tuple[int, str],
    words: list[str],
    variant: tuple[str, str],
) -> None:
    text = spec(body, inputs)
    hits = found(text, code)
    line, token = where
    assert [(ln, c) for ln, c, _ in hits] == [(line, col(text, line, token))]
    for word in words:
        assert word in hits[0][2]
    assert found(spec(variant[1], variant[0]), code) == []


def test_unused_input_points_at_its_declaration() -> None:
    text = spec("- {name: a, type: relu, inputs: x}", "x: [8]\n  mask: [8]")
    assert found(text, "W302") == [(5, 3, "mask: the input is never used: no layer reads it")]
    used = spec("- {name: a, type: concat, inputs: [x, mask]}", "x: [8]\n  mask: [8]")
    assert found(used, "W302") == []


def test_input_read_only_by_a_dead_layer_is_unused_too() -> None:
    body = "- {name: a, type: relu, inputs: mask}\n- {name: out, type: tanh, inputs: x}"
    text = spec(body, "x: [8]\n  mask: [8]")
    assert [m for _, _, m in found(text, "W302")] == [
        "mask: the input is never used: it feeds only layers that reach no model output (a)"
    ]
    assert [(ln, m) for ln, _, m in found(text, "W301")] == [
        (7, "a: nothing reads its output and it is not a model output (outputs: out)")
    ]


def test_dead_chain_names_the_dead_readers() -> None:
    body = "- {name: a, type: relu}\n- {name: b, type: tanh}\n- {name: out, type: relu, inputs: x}"
    messages = [m for _, _, m in found(spec(body, "x: [8]"), "W301")]
    assert messages == [
        "a: it feeds only layers that reach no model output (b)",
        "b: nothing reads its output and it is not a model output (outputs: out)",
    ]


def test_squashed_value_through_flatten_to_the_output_is_fine() -> None:
    body = "- {name: probs, type: softmax}\n- {name: flat, type: flatten}"
    assert found(spec(body, "x: [4, 10]"), "W203") == []


def test_bias_kept_when_the_layer_also_feeds_another_branch() -> None:
    body = (
        "- {name: conv1, type: conv2d, filters: 3, kernel: 3, padding: same}\n"
        "- {name: bn1, type: batch_norm}\n- {name: out, type: add, inputs: [bn1, conv1]}"
    )
    assert found(spec(body, "x: [8, 8, 3]"), "W201") == []


def test_parameter_budget() -> None:
    text = spec(
        "- {name: small, type: dense, units: 4}\n- {name: big, type: dense, units: 100}", "x: [64]"
    )
    # 64*4+4 = 260 and 4*100+100 = 500: 760 in all
    assert found(text, "W501") == []
    hits = found(text, "W501", Settings(max_params=700))
    assert [(ln, c) for ln, c, _ in hits] == [(7, 5)]  # the largest layer
    assert "the model has 760 parameters, over the budget of 700" in hits[0][2]
    assert "the largest layer is big with 500" in hits[0][2]
    assert found(text, "W501", Settings(max_params=760)) == []


def test_activation_budget() -> None:
    text = spec(
        "- {name: stem, type: conv2d, filters: 64, kernel: 3, padding: same}", "x: [224, 224, 3]"
    )
    hits = found(text, "W502", Settings(max_activation_mb=10))
    assert [(ln, c) for ln, c, _ in hits] == [(6, 5)]
    # 224 * 224 * 64 values of 4 bytes = 12.25 MiB
    assert "12.2 MiB per sample (float32), over the budget of 10 MiB" in hits[0][2]
    assert "stem's (224, 224, 64) output" in hits[0][2]
    assert found(text, "W502", Settings(max_activation_mb=12.5)) == []


def test_budgets_skip_symbolic_sizes() -> None:
    text = spec("- {name: c, type: conv1d, filters: 64, kernel: 3, padding: same}", "x: [T, 8]")
    assert found(text, "W502", Settings(max_activation_mb=0)) == []


def test_even_kernel_with_a_symbolic_size_and_stride_1() -> None:
    text = spec("- {name: c, type: conv1d, filters: 4, kernel: 2, padding: same}", "x: [T, 8]")
    assert [m for _, _, m in found(text, "W103")] == [
        "c: the 2-wide kernel has no centre, "
        "so same padding pads axis 0 unevenly (0 before, 1 after)"
    ]


def test_no_lint_while_errors_remain() -> None:
    body = (
        "- {name: a, type: relu, inputs: x}\n"
        "- {name: c, type: conv2d, filters: 1, kernel: 9, inputs: x}"
    )
    result = check_text(spec(body, "x: [4, 4, 1]"), "t.yaml")
    assert [d.code for d in result.diagnostics] == ["S104"]


def test_one_window_per_axis_skips_nothing_between_windows() -> None:
    # A 2-wide pool on 2 pixels: floor((2 - 2) / 4) + 1 = 1 window, which reads both.
    one = spec("- {name: p, type: max_pool2d, pool: 2, stride: 4}", "x: [2, 2, 8]")
    assert found(one, "W101") == [] and found(one, "W102") == []
    pointwise = spec("- {name: c, type: conv2d, filters: 4, kernel: 1, stride: 2}", "x: [1, 1, 8]")
    assert found(pointwise, "W101") == []
    # On 6 pixels there are floor(4 / 4) + 1 = 2 windows, and pixels 2 and 3 lie between them.
    two = spec("- {name: p, type: max_pool2d, pool: 2, stride: 4}", "x: [6, 6, 8]")
    assert [m for _, _, m in found(two, "W101")] == [
        "p: stride 4 exceeds the 2-wide pool window on axes 0 and 1; "
        "2 of every 4 input rows and columns are never read"
    ]


def test_one_window_leaves_the_rest_of_the_input_to_w102() -> None:
    # 3 pixels, one window over pixels 0 and 1: pixel 2 is never read.
    text = spec("- {name: p, type: max_pool2d, pool: 2, stride: 4}", "x: [3, 3, 8]")
    assert found(text, "W101") == []
    hits = found(text, "W102")
    assert [(ln, c) for ln, c, _ in hits] == [(6, col(text, 6, "4}"))]
    assert "leaves the last 1 of 3 input rows and columns unread" in hits[0][2]
    assert "3 - 2 = 1 is not a multiple of stride 4" in hits[0][2]


def test_even_pool_window_with_same_padding() -> None:
    # Stride 1: the total padding is 2 - 1 = 1, so 0 before and 1 after.
    text = spec("- {name: p, type: max_pool2d, pool: 2, stride: 1, padding: same}", "x: [8, 8, 3]")
    hits = found(text, "W103")
    assert [(ln, c) for ln, c, _ in hits] == [(6, col(text, 6, "2,"))]
    assert "p: the 2-wide pool window has no centre" in hits[0][2]
    assert "(0 before, 1 after)" in hits[0][2]
    # Stride 2 on 8: 4 outputs need (4 - 1) * 2 + 2 = 8 pixels, so no padding at all.
    even = spec("- {name: p, type: max_pool2d, pool: 2, stride: 2, padding: same}", "x: [8, 8, 3]")
    assert found(even, "W103") == []


def test_a_dilated_1x1_convolution_is_still_pointwise() -> None:
    text = spec("- {name: c, type: conv2d, filters: 4, kernel: 1, dilation: 2}", "x: [8, 8, 3]")
    assert [m for _, _, m in found(text, "I102")] == [
        "c: a 1x1 convolution is a dense layer applied at every pixel: 3 -> 4 channels"
    ]


def test_a_squashing_output_read_inside_the_network() -> None:
    body = (
        "- {name: p, type: dense, units: 4, activation: softmax}\n"
        "- {name: q, type: dense, units: 2}"
    )
    text = spec(body, "x: [8]") + "outputs: [p, q]\n"
    assert [m for _, _, m in found(text, "W203")] == [
        "p: its softmax output is a model output and also feeds q (dense); "
        "let q read the values before the softmax"
    ]


def test_squashed_values_may_be_concatenated_at_the_output() -> None:
    body = "- {name: s, type: sigmoid}\n- {name: o, type: concat, inputs: [s, x]}"
    assert found(spec(body, "x: [8]"), "W203") == []
    deeper = body + "\n- {name: fc, type: dense, units: 2}"
    assert [m for _, _, m in found(spec(deeper, "x: [8]"), "W203")] == [
        "s: its sigmoid output feeds fc (dense); sigmoid belongs at the output or in a gate "
        "(multiply), not inside the network"
    ]


def test_a_squashed_value_read_only_by_a_dead_layer_is_w301s() -> None:
    body = (
        "- {name: s, type: sigmoid}\n- {name: dead, type: dense, units: 2}\n"
        "- {name: out, type: relu, inputs: x}"
    )
    text = spec(body, "x: [8]")
    assert found(text, "W203") == []
    assert [ln for ln, _, _ in found(text, "W301")] == [6, 7]


def test_dropout_reshaped_into_the_output() -> None:
    body = "- {name: drop, type: dropout, rate: 0.3}\n- {name: flat, type: flatten}"
    text = spec(body, "x: [4, 4]")
    assert found(text, "W204") == [
        (
            6,
            col(text, 6, "{"),
            "drop: dropout (rate 0.3) reaches model output flat with only reshapes in between: "
            "in training it zeroes part of the predictions, at inference it does nothing",
        )
    ]
    dense = body + "\n- {name: fc, type: dense, units: 2}"
    assert found(spec(dense, "x: [4, 4]"), "W204") == []


def test_dropout_reaches_batch_norm_through_dropout_and_reshapes() -> None:
    body = (
        "- {name: d1, type: dropout, rate: 0.3}\n- {name: d2, type: dropout, rate: 0.2}\n"
        "- {name: f, type: flatten}\n- {name: bn, type: batch_norm}"
    )
    hits = found(spec(body, "x: [4, 4]"), "W205")
    assert [(ln, m.split(":")[0]) for ln, _, m in hits] == [(6, "d1"), (7, "d2")]
    assert all(
        m.endswith(
            "feeds batch_norm bn, whose moving variance learnt with dropout on is "
            "wrong at inference"
        )
        for _, _, m in hits
    )
    padded = body.replace("{name: f, type: flatten}", "{name: f, type: dense, units: 4}")
    assert found(spec(padded, "x: [4, 4]"), "W205") == []


def test_dropout_at_rate_zero_changes_nothing_and_is_not_reported() -> None:
    # Rate 0 keeps every value and rescales by 1 / (1 - 0) = 1: no statistic can shift.
    body = "- {name: d0, type: dropout, rate: 0}\n- {name: bn, type: batch_norm}"
    assert found(spec(body, "x: [4]"), "W205") == []
    assert found(spec("- {name: d0, type: dropout, rate: 0.0}", "x: [4]"), "W204") == []
    # a rate-0 dropout between a real one and the batch norm still passes the first one on
    two = "- {name: d1, type: dropout, rate: 0.5}\n" + body
    assert [m.split(":")[0] for _, _, m in found(spec(two, "x: [4]"), "W205")] == ["d1"]


def test_bias_cancelled_by_two_batch_norms() -> None:
    body = (
        "- {name: fc, type: dense, units: 4}\n- {name: a, type: batch_norm}\n"
        "- {name: b, type: batch_norm, inputs: fc}\n- {name: o, type: add, inputs: [a, b]}"
    )
    assert [m for _, _, m in found(spec(body, "x: [8]"), "W201")] == [
        "fc: its bias (4 parameters) is cancelled by batch_norm a and b, which subtract the "
        "per-channel mean; set `bias: false`"
    ]


def test_parameter_budget_with_a_symbolic_layer_counts_the_fixed_layers() -> None:
    body = (
        "- {name: big, type: dense, units: 10000, inputs: f}\n"
        "- {name: flat, type: flatten, inputs: s}\n- {name: head, type: dense, units: 2}"
    )
    text = spec(body, "s: [T, 8]\n  f: [64]") + "outputs: [big, head]\n"
    # big: 64 * 10,000 + 10,000 = 650,000; head: 8T * 2 + 2 is symbolic but never negative.
    hits = found(text, "W501", Settings(max_params=1000))
    assert [ln for ln, _, _ in hits] == [7]  # the second input line moves `big` to line 7
    assert "the model has at least 650,000 parameters, over the budget of 1,000" in hits[0][2]
    assert found(text, "W501", Settings(max_params=650_000)) == []


def test_activation_budget_shows_the_digits_that_exceed_it() -> None:
    body = "- {name: r, type: relu}\n- {name: g, type: global_avg_pool}"
    text = spec(body, "x: [512, 512, 1]")
    # (512 * 512 + 1) values of 4 bytes = 1,048,580 bytes = 1.0000038 MiB
    (hit,) = found(text, "W502", Settings(max_activation_mb=1))
    assert "take 1.000004 MiB per sample (float32), over the budget of 1 MiB" in hit[2]
    # With a symbol, only g's single value (4 bytes) is known: a lower bound over 0 MiB.
    symbolic = spec(body, "x: [T, 512, 1]")
    (hit,) = found(symbolic, "W502", Settings(max_activation_mb=0))
    assert "take at least 0.000004 MiB per sample" in hit[2]
    assert "g's (1,) output at 0.000004 MiB" in hit[2]
    assert found(symbolic, "W502", Settings(max_activation_mb=0.000004)) == []


@pytest.mark.parametrize("where", ["cli", "config"])
def test_nan_is_no_activation_budget(where: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from specc.cli import app

    (tmp_path / "t.yaml").write_text(spec("- {name: r, type: relu}", "x: [8]"))
    args = ["check", "t.yaml"]
    if where == "cli":
        args += ["--max-activation-mb", "nan"]
    else:
        (tmp_path / "pyproject.toml").write_text("[tool.specc]\nmax-activation-mb = nan\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "W502" not in result.output


def test_rules_look_inside_time_distributed() -> None:
    body = (
        "- name: c\n  type: time_distributed\n"
        "  layer: {type: conv2d, filters: 4, kernel: 1, stride: 4}\n"
        "- name: d\n  type: time_distributed\n  layer: {type: dense, units: 8, activation: relu}\n"
        "- {name: r, type: relu}\n"
        "- name: e\n  type: time_distributed\n  layer: {type: dense, units: 8}\n"
        "- {name: bn, type: batch_norm}"
    )
    text = spec(body, "x: [5, 28, 28, 2]")
    # Each frame is 28 x 28 x 2: the 1x1 stride-4 convolution reads 1 of every 4 rows and
    # columns of it, and gives ceil(28 / 4) = 7 x 7 x 4 per frame.
    assert found(text, "W101") == [
        (
            8,
            col(text, 8, "4}"),
            "c: stride 4 exceeds the 1-wide kernel on axes 0 and 1; "
            "3 of every 4 input rows and columns are never read",
        )
    ]
    assert [(ln, c) for ln, c, _ in found(text, "I102")] == [(8, col(text, 8, "1,"))]
    assert [m.split(";")[0] for _, _, m in found(text, "W202")] == [
        "r: relu directly after d, which already applies relu (`activation: relu`)"
    ]
    assert [m.split(",")[0] for _, _, m in found(text, "W201")] == [
        "e: its bias (8 parameters) is cancelled by batch_norm bn"
    ]
    assert [m.split(" acts")[0] for _, _, m in found(text, "W401")] == [
        "d: dense on a (7, 7, 4) input",
        "e: dense on a (7, 7, 8) input",
    ]
    # A dense layer per step of (5, 32) sees 32-vectors, which it reads whole: no W401.
    flat = spec("- {type: time_distributed, layer: {type: dense, units: 4}}", "x: [5, 32]")
    assert found(flat, "W401") == []


def test_one_same_padded_window_that_misses_input_is_still_w101() -> None:
    # same padding, stride 3 on 3 pixels: ceil(3 / 3) = 1 window, padding max(0 + 1 - 3, 0) = 0,
    # so the 1x1 kernel reads pixel 0 and never pixels 1 and 2.
    text = spec(
        "- {name: c, type: conv2d, filters: 4, kernel: 1, stride: 3, padding: same}", "x: [3, 3, 8]"
    )
    assert [m.split("; ")[1] for _, _, m in found(text, "W101")] == [
        "2 of every 3 input rows and columns are never read"
    ]
    # A 3-wide window with stride 4 stands once on the 3 pixels and covers them all.
    covered = text.replace("kernel: 1, stride: 3", "kernel: 3, stride: 4")
    assert found(covered, "W101") == [] and found(covered, "W102") == []


def test_order_rules_walk_long_chains_and_ladders_in_one_pass() -> None:
    # 3,000 dropouts in a row, then batch_norm: one W205 each, no recursion limit reached.
    chain = "".join(f"- {{name: d{i}, type: dropout, rate: 0.1}}\n" for i in range(3000))
    text = spec(chain + "- {name: bn, type: batch_norm}", "x: [8]")
    assert len(found(text, "W205")) == 3000
    # A softmax under a ladder of 38 concats, each rung reading both of the rung below: 2^38
    # paths to the relu at the top, which a walk without memory would try one by one. (The
    # widths double too: 2^39 values at the top, under the 2^40 tensor limit.)
    rungs = ["- {name: s, type: softmax}", "- {name: a0, type: concat, inputs: [s, s]}"]
    rungs += ["- {name: b0, type: concat, inputs: [s, s]}"]
    for i in range(1, 38):
        for side in "ab":
            rungs.append(f"- {{name: {side}{i}, type: concat, inputs: [a{i - 1}, b{i - 1}]}}")
    rungs.append("- {name: out, type: concat, inputs: [a37, b37]}")
    rungs.append("- {name: top, type: relu}")
    hits = found(spec("\n".join(rungs), "x: [1]"), "W203")
    assert [m.split(";")[0] for _, _, m in hits] == ["s: its softmax output feeds top (relu)"]


def test_nested_time_distributed_is_looked_inside() -> None:
    body = (
        "- type: time_distributed\n  name: t\n  layer:\n    type: time_distributed\n"
        "    layer: {type: conv2d, filters: 2, kernel: 1, stride: 2}"
    )
    text = spec(body, "x: [3, 4, 9, 9, 1]")
    assert [(ln, c) for ln, c, _ in found(text, "W101")] == [(10, col(text, 10, "2}"))]


def test_an_error_inside_time_distributed_names_the_slice() -> None:
    text = spec(
        "- {type: time_distributed, layer: {type: conv1d, filters: 2, kernel: 3}}", "x: [5, 8]"
    )
    result = check_text(text, "t.yaml")
    (d,) = result.diagnostics
    assert d.code == "S101"
    assert "on each (8,) slice of the (5, 8) input, conv1d expects an input of rank 2" in d.message


def test_a_dilated_single_window_still_skips_input_between_its_taps() -> None:
    # kernel 3 dilated by 2 spans 5 inputs: floor((5 - 5) / 2) + 1 = 1 window, taps at 0, 2, 4.
    text = spec(
        "- {name: c, type: conv1d, filters: 2, kernel: 3, dilation: 2, stride: 2}", "x: [5, 4]"
    )
    assert [m.split("; ")[1] for _, _, m in found(text, "W101")] == [
        "1 of every 2 input steps is never read"
    ]


def test_dropout_concatenated_at_the_output_is_not_the_output() -> None:
    body = "- {name: d, type: dropout, rate: 0.5}\n- {name: o, type: concat, inputs: [d, x]}"
    assert found(spec(body, "x: [8]"), "W204") == []


def test_order_rules_share_one_model_without_mixing_their_results() -> None:
    body = (
        "- {name: s, type: dense, units: 8, activation: sigmoid}\n- {name: a, type: dense, units: 8}\n"
        "- {name: d, type: dropout, rate: 0.5}\n- {name: b, type: dense, units: 8}"
    )
    text = spec(body, "x: [8]")
    assert [m.split(";")[0] for _, _, m in found(text, "W203")] == [
        "s: its sigmoid output feeds a (dense)"
    ]
    assert found(text, "W205") == [] and found(text, "W204") == []


def test_dropout_before_a_batch_norm_inside_time_distributed() -> None:
    body = "- {name: d, type: dropout, rate: 0.5}\n- {type: time_distributed, layer: {type: batch_norm}}"
    assert [m.split(" feeds")[0] for _, _, m in found(spec(body, "x: [4, 8]"), "W205")] == [
        "d: dropout (rate 0.5)"
    ]


def test_time_distributed_windows_see_one_slice_of_the_output_too() -> None:
    # Each 3 x 3 x 2 frame: a 1x1 kernel with stride 3 stands once, on pixel 0, so the last 2
    # of 3 rows and columns are trailing input (W102), not skipped between windows (W101).
    body = "- {type: time_distributed, layer: {type: conv2d, filters: 2, kernel: 1, stride: 3}}"
    text = spec(body, "x: [4, 3, 3, 2]")
    assert found(text, "W101") == []
    assert [
        "leaves the last 2 of 3 input rows and columns unread" in m
        for _, _, m in found(text, "W102")
    ] == [True]
