"""Resource limits: each is configurable through Limits, fails fast with one diagnostic at a
position, and lets through what stays under it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FAST_PEAK, peak_bytes, spec

from specc.api import check_file, check_text
from specc.limits import DEFAULT_LIMITS, Limits
from specc.loader import load_text
from specc.passes.shapes import infer

Found = list[tuple[str, int, int]]


def found(text: str | bytes, limits: Limits) -> Found:
    result = check_text(text, "t.yaml", limits)
    return [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span is not None]


def test_defaults_are_the_documented_ones() -> None:
    assert (
        Limits(
            max_bytes=10 * 1024 * 1024,
            max_nodes=1_000_000,
            max_depth=64,
            max_layers=10_000,
            max_elements=2**40,
        )
        == DEFAULT_LIMITS
    )
    assert "10,000" in (Path(__file__).parent.parent / "docs" / "reliability.md").read_text()


# -- the size of the file, its nodes and its nesting ------------------------------------------
def test_file_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(spec("- {type: relu}").encode() + b"#" * 2000)
    assert check_file(path, Limits(max_bytes=2000)).diagnostics[0].code == "E005"
    assert check_file(path, Limits(max_bytes=3000)).ok


def test_node_and_depth_limits_are_configurable() -> None:
    text = spec("- {type: reshape, shape: [2352]}")
    assert check_text(text, limits=Limits(max_nodes=20, max_depth=4)).ok  # 20 nodes, 4 levels
    assert found(text, Limits(max_nodes=19)) == [("E006", 6, 29)]  # 2352, the twentieth node
    assert found(text, Limits(max_depth=3)) == [("E007", 6, 28)]  # the shape list


# -- the number of layers ---------------------------------------------------------------------
def test_layer_limit_reports_once_at_the_layers_key() -> None:
    text = spec("- {type: relu}\n" * 4)
    assert check_text(text, limits=Limits(max_layers=4)).ok
    result = check_text(text, "t.yaml", Limits(max_layers=3))
    (problem,) = result.diagnostics
    assert (problem.code, problem.span.line, problem.span.col) == ("E010", 5, 1)  # type: ignore[union-attr]
    assert problem.message == "`layers` has more than the limit of 3 layers"


def test_layer_limit_counts_an_aliased_list() -> None:
    four = "a: &l [{type: relu}, {type: relu}, {type: relu}, {type: relu}]\n"
    loaded = load_text(four + "layers: *l\n", limits=Limits(max_layers=3))
    assert [(d.code, d.span.line, d.span.col) for d in loaded.diagnostics if d.span] == [
        ("E010", 2, 1)
    ]
    assert load_text(four, limits=Limits(max_layers=3)).diagnostics == []  # not under `layers`


def test_layer_limit_applies_to_the_top_level_list_only() -> None:
    nested = "specc: 1\nname: t\ndescription: {layers: [1, 2, 3, 4]}\n"
    assert load_text(nested, limits=Limits(max_layers=3)).diagnostics == []
    assert load_text("- layers: [1, 2, 3, 4]\n", limits=Limits(max_layers=3)).data is None  # E004


def test_a_hundred_thousand_layers_fail_fast() -> None:
    text = spec("- {type: relu}\n" * 100_000)
    result, peak = peak_bytes(lambda: found(text, DEFAULT_LIMITS))
    assert result == [("E010", 5, 1)]
    assert peak < FAST_PEAK  # stopped at layer 10,001: all 100,000 take about 200 MiB


# -- the elements of one tensor ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "inputs", "where", "words"),
    [
        (
            "- {type: relu}",
            "x: [2147483647, 2147483647, 3]",
            (4, 3),
            "x: the input (2147483647, 2147483647, 3) has about 1.4e19",
        ),
        (
            "- {type: upsample2d, size: 100000}",
            "x: [28, 28, 3]",
            (6, 5),
            "the output (2800000, 2800000, 3)",
        ),
        (
            "- {type: zero_pad2d, padding: 2147483647}",
            "x: [28, 28, 3]",
            (6, 5),
            "the output (4294967322, 4294967322, 3)",
        ),
        (
            "- {type: dense, units: 2147483647}",
            "x: [1000]",
            (6, 5),
            "the weight 'kernel' (1000, 2147483647)",
        ),
        (
            "- {type: conv2d_transpose, filters: 2, kernel: 2147483647}",
            "x: [T, 2, 3]",
            (6, 5),
            "the weight 'kernel'",
        ),
        ("- {type: flatten}", "x: [T, 2147483647, 2147483647]", (4, 3), "about 4.6e18 elements"),
    ],
)
def test_tensor_over_the_element_limit(
    body: str, inputs: str, where: tuple[int, int], words: str
) -> None:
    result = check_text(spec(body, inputs), "t.yaml")
    (problem,) = result.diagnostics
    assert (problem.code, problem.span.line, problem.span.col) == ("S110", *where)  # type: ignore[union-attr]
    assert words in problem.message and "over the limit of 1,099,511,627,776" in problem.message


def test_element_limit_is_configurable_and_stops_inference_on_that_path() -> None:
    text = spec(
        "- {name: a, type: conv2d, filters: 64, kernel: 1}\n"
        "- {name: b, type: relu}\n"
        "- {name: c, type: relu, inputs: x}",
    )
    model = check_text(text).model
    assert model is not None
    assert infer(model, Limits(max_elements=28 * 28 * 64)).diagnostics == []
    shapes = infer(model, Limits(max_elements=28 * 28 * 64 - 1))
    assert [(d.code, d.message.split(":")[0]) for d in shapes.diagnostics] == [("S110", "a")]
    assert set(shapes.layers) == {"c"}  # b reads a: skipped silently, not reported again


def test_ranks_are_bounded_so_products_stay_printable() -> None:
    # 500 dims of 2**31 would make numbers too long for str(); the schema caps ranks at 31.
    big = ", ".join(["2147483647"] * 500)
    text = spec(f"- {{type: reshape, shape: [{big}]}}", "x: [4]")
    assert [c for c, _, _ in found(text, DEFAULT_LIMITS)] == ["E108"]


# -- the executor's memory budget ---------------------------------------------------------------
def test_run_over_the_memory_budget_is_refused_before_allocating() -> None:
    from typer.testing import CliRunner

    from specc.cli import app

    keras = str(Path(__file__).parent.parent / "examples" / "keras_question.yaml")
    result = CliRunner().invoke(app, ["run", keras, "--max-memory", "1M"])
    assert result.exit_code == 1
    assert (
        "over the memory budget of 1.00 MiB" in result.output and "Traceback" not in result.output
    )


def test_a_huge_but_legal_tensor_is_refused_by_the_budget() -> None:
    # 2**40 elements pass the static limit; running them would take 4 TiB per input.
    import specc
    from specc.lower import RunError

    plan = specc.compile(spec("- {type: relu}", "x: [1048576, 1048576, 1]"), max_memory=1 << 30)

    def attempt() -> str:
        with pytest.raises(RunError) as refused:
            plan.run()
        return str(refused.value)

    message, peak = peak_bytes(attempt)
    assert "over the memory budget" in message
    assert peak < FAST_PEAK  # refused before anything is allocated
