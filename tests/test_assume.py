"""`assume:`: what a spec declares about its symbols, and how inference, costs and --dim use it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, codes_at, run
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dims import Tree, evaluate, evaluate_int, trees
from typer.testing import CliRunner

from specc.assume import Assumption, Assumptions, parse
from specc.cli import app
from specc.dims import ceildiv, congruent, floordiv, format_dim, parse_dim, substitute

UNET = EXAMPLES / "unet_symbolic.yaml"
H, W = congruent("H", 16), congruent("W", 16)


def cli(*argv: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in argv])
    return result.exit_code, result.stdout, result.stderr


# -- the forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("H % 16 == 0", Assumption("H", 16, 0)),
        ("H%16", Assumption("H", 16, 0)),
        (" T % 4 == 3 ", Assumption("T", 4, 3)),
        ("T >= 7", Assumption("T", least=7)),
        ("T > 6", Assumption("T", least=7)),
    ],
)
def test_parse(text: str, entry: Assumption) -> None:
    assert parse(text) == entry
    assert parse(str(entry)) == entry


def test_congruences_on_one_symbol_combine_and_contradictions_are_found() -> None:
    known, clash = Assumptions().add(parse("H % 4 == 1"))
    known, clash = known.add(parse("H % 3 == 0"))
    assert clash is None and known.on("H") == Assumption("H", 12, 9)
    assert known.least("H") == 9
    _, clash = known.add(parse("H % 8 == 0"))
    assert clash == parse("H % 4 == 1")
    both = Assumptions((parse("T % 4 == 0"), parse("T >= 7")))
    assert both.least("T") == 8
    assert both.broken({"T": 12}) == []
    assert both.broken({"T": 4}) == ["T=4 contradicts the spec's assumption 'T >= 7'"]


# -- exact quotients: printed as H/16, read back under the same assumptions ----------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (H, "H"),
        (ceildiv(H, 16), "H/16"),
        (ceildiv(ceildiv(H, 2), 2), "H/4"),
        (floordiv(H - 3, 2) + 1, "H/2-1"),
        (ceildiv(H, 32), "ceil(H/32)"),
        (floordiv(floordiv(H, 16) - 1, 2), "floor((H-1)/32)"),
        (floordiv(H, 16) * floordiv(W, 16) * 64, "H*W/4"),
        (floordiv(H, 16) + floordiv(W, 16) + 1, "(H+W)/16+1"),
        (floordiv(congruent("T", 4, 1), 2), "(T-1)/2"),
    ],
)
def test_exact_quotients_print_and_read_back(value: object, text: str) -> None:
    forms = {"H": H, "W": W, "T": congruent("T", 4, 1)}
    assert format_dim(value) == text  # type: ignore[arg-type]
    assert parse_dim(text, forms) == value


def test_a_quotient_that_is_not_exact_is_refused() -> None:
    with pytest.raises(ValueError, match="not always a multiple of 2"):
        parse_dim("T/2")
    assert parse_dim("2*T/2") == parse_dim("T")
    with pytest.raises(ValueError, match="not always a multiple of 32"):
        parse_dim("H/32", {"H": H})


@settings(max_examples=300, deadline=None)
@given(trees, st.integers(1, 8), st.data())
def test_congruent_symbols_match_integer_arithmetic(
    tree: Tree, modulus: int, data: st.DataObject
) -> None:
    residue = data.draw(st.integers(0, modulus - 1))
    forms = {"T": congruent("T", modulus, residue), "U": congruent("U", 3, 1)}
    value = evaluate(tree, forms.__getitem__)
    env = {
        "T": residue + modulus * data.draw(st.integers(-5, 40)),
        "U": 1 + 3 * data.draw(st.integers(-5, 40)),
    }
    assert substitute(value, env) == evaluate_int(tree, env)
    assert parse_dim(format_dim(value), forms) == value


# -- in a spec ------------------------------------------------------------------------------


def test_the_unet_passes_only_with_its_assumptions() -> None:
    text = UNET.read_text()
    result = run(text)
    assert result.ok and result.diagnostics == []
    assert result.shapes is not None
    assert str(result.shapes.types["down4"]) == "(H/16, W/16, 64)"
    assert str(result.shapes.types["up1"]) == "(H, W, 16)"
    bare = re.sub(r"^assume:.*\n", "", text, flags=re.MULTILINE)
    assert [d.code for d in run(bare).diagnostics] == ["S102"]


def test_the_s102_note_is_an_assume_line_that_makes_the_merge_agree() -> None:
    bare = re.sub(r"^assume:.*\n", "", UNET.read_text(), flags=re.MULTILINE)
    (found,) = run(bare).diagnostics
    line = found.notes[-1].message.split("declare it: ", 1)[1]
    assert line == 'assume: ["H % 16 == 0", "W % 16 == 0"]'
    fixed = bare.replace("inputs:\n", f"{line}\ninputs:\n", 1)
    assert run(fixed).ok


def test_a_weaker_assumption_is_reported_with_what_is_missing() -> None:
    text = UNET.read_text().replace('"H % 16 == 0"', '"H % 8 == 0"')
    (found,) = run(text).diagnostics
    assert found.code == "S102"
    assert [n.message for n in found.notes] == [
        "the shapes agree only when H is a multiple of 16",
        'if they always do, declare it: assume: ["H % 16 == 0"]',
    ]


SPEC = "specc: 1\nname: t\nassume: {}\ninputs:\n  x: [H, T, 1]\nlayers:\n  - {{type: relu}}\n"


@pytest.mark.parametrize(
    ("assume", "found"),
    [
        ('["H % 16 == 0", "T >= 7"]', []),
        ('["H = 3"]', [("E106", 3, 10)]),
        ('["H % 0 == 0"]', [("E109", 3, 10)]),
        ('["H % 4 == 4"]', [("E109", 3, 10)]),
        ('["Q % 4"]', [("E109", 3, 10)]),
        ('["H % 4 == 1", "H % 2 == 0"]', [("E109", 3, 24)]),
        ('"H % 4"', [("E103", 3, 9)]),
    ],
)
def test_malformed_assumptions_are_diagnostics_at_their_entry(
    assume: str, found: list[tuple[str, int, int]]
) -> None:
    assert codes_at(SPEC.format(assume)) == found


def test_an_unknown_symbol_suggests_the_near_one() -> None:
    (found,) = run(SPEC.format('["h % 2"]')).diagnostics
    assert found.message == "assume: 'h' is not a symbol of the inputs; did you mean 'H'?"


def test_a_least_value_is_the_smallest_the_costs_use() -> None:
    from specc.passes.costs import measure

    result = run(SPEC.format('["T >= 7", "T % 2 == 0"]'))
    assert result.shapes is not None
    assert measure(result.shapes).smallest("T") == 8


# -- --dim values must meet the assumptions ----------------------------------------------------


@pytest.mark.parametrize("command", ["report", "explain", "run", "plan"])
def test_dims_that_contradict_an_assumption_are_an_error(command: str) -> None:
    code, out, err = cli(command, UNET, "--dim", "H=64", "--dim", "W=100")
    assert code == 1 and out == ""
    assert err == "specc: error: W=100 contradicts the spec's assumption 'W % 16 == 0'\n"


def test_the_unet_runs_on_a_64_by_96_image() -> None:
    code, out, _ = cli("run", UNET, "--dim", "H=64", "--dim", "W=96")
    assert code == 0 and out.startswith("mask: shape (1, 64, 96, 1) float32")


def test_data_that_contradicts_an_assumption_is_refused() -> None:
    import numpy as np

    import specc
    from specc.lower import RunError

    plan = specc.compile(UNET)
    assert plan.run(np.zeros((1, 32, 48, 1), "float32")).shape == (1, 32, 48, 1)
    with pytest.raises(RunError, match="H=65 contradicts the spec's assumption 'H % 16 == 0'"):
        plan.run(np.zeros((1, 65, 48, 1), "float32"))


def test_the_report_lists_the_assumptions() -> None:
    code, out, _ = cli("report", UNET)
    assert code == 0
    assert "Assumed (assume:):" in out and "H % 16 == 0, W % 16 == 0" in out
    assert "(H/16, W/16, 128)" in out and "Constraint on H" not in out


def test_explain_lists_the_assumptions_until_the_symbols_are_bound() -> None:
    code, out, _ = cli("explain", UNET)
    assert code == 0
    assert out.splitlines()[-4:] == [
        "assumed (assume:): H % 16 == 0",
        "assumed (assume:): W % 16 == 0",
        "smallest valid H: 16",
        "smallest valid W: 16",
    ]
    code, out, _ = cli("explain", UNET, "--dim", "H=32", "--dim", "W=48")
    assert code == 0 and "assume" not in out
