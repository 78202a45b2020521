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
