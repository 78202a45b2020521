"""Settings: code selection by prefix and specificity, severity overrides, inline suppression."""

from __future__ import annotations

import pytest
from conftest import spec

from specc.api import check_text
from specc.diagnostics import Severity
from specc.lint import Settings
from specc.lint.suppress import suppressed_codes

# conv1 triggers W101 (stride 4 over a 3-wide kernel) and I102 does not apply; pool W102.
BODY = (
    "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}\n"
    "- {name: pool1, type: max_pool2d}"
)
TEXT = spec(BODY, "x: [31, 31, 3]")  # conv1 -> (8, 8, 8): pool over 8 is clean; (31 - 3) % 4 = 0


def codes(text: str = TEXT, **options: object) -> list[str]:
    return [d.code for d in check_text(text, "t.yaml", settings=Settings(**options)).diagnostics]  # type: ignore[arg-type]


def test_default_reports_the_warning() -> None:
    assert codes() == ["W101"]


@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        (("ALL",), ("W",), []),
        (("ALL",), ("W1",), []),
        (("ALL",), ("W2",), ["W101"]),
        (("W101",), ("W",), ["W101"]),  # the more specific selector wins
        (("W",), ("W101",), []),
        (("W101",), ("W101",), []),  # a tie goes to ignore
        (("E", "S"), (), []),
    ],
)
def test_select_and_ignore_by_prefix(
    select: tuple[str, ...], ignore: tuple[str, ...], expected: list[str]
) -> None:
    assert codes(select=select, ignore=ignore) == expected


def test_errors_can_be_ignored_but_a_file_that_cannot_be_loaded_cannot() -> None:
    broken = spec("- {name: c, type: conv2d, filters: 1, kernel: 9}", "x: [4, 4, 1]")
    assert codes(broken) == ["S104"]
    assert codes(broken, ignore=("S104",)) == []
    assert codes("a: [", ignore=("E",)) == ["E002"]


def test_severity_override() -> None:
    result = check_text(TEXT, "t.yaml", settings=Settings(severity={"W101": Severity.ERROR}))
    assert [(d.code, d.severity) for d in result.diagnostics] == [("W101", Severity.ERROR)]
    assert not result.ok


def test_an_ignored_or_demoted_error_does_not_let_lint_run() -> None:
    # The graph is still half-built (docs/linting.md), so the rules stay quiet: no W204.
    body = "- {name: c, type: conv2d, filters: 1, kernel: 9}\n- {name: d, type: dropout, rate: 0.5}"
    assert codes(spec(body, "x: [4, 4, 1]")) == ["S104"]
    assert codes(spec(body, "x: [4, 4, 1]"), ignore=("S104",)) == []
    assert codes(spec(body, "x: [4, 4, 1]"), severity={"S104": Severity.WARNING}) == ["S104"]
    assert codes(spec(body, "x: [9, 9, 1]")) == ["W204"]  # I101 is opt-in
    assert codes(spec(body, "x: [9, 9, 1]"), select=("ALL",)) == ["I101", "W204"]


@pytest.mark.parametrize(
    ("comment", "codes_"),
    [
        ("# specc: ignore[W101]", frozenset({"W101"})),
        ("#specc:ignore[W101, S1]", frozenset({"W101", "S1"})),
        ("# specc: ignore", frozenset()),
        ("# note  # specc: ignore[W1]", frozenset({"W1"})),
        ("# specc: ignored", None),
        ("# nothing here", None),
    ],
)
def test_suppression_comment_syntax(comment: str, codes_: frozenset[str] | None) -> None:
    assert suppressed_codes(f"  - {{type: relu}}  {comment}") == codes_


def test_a_hash_inside_a_value_is_not_a_comment() -> None:
    assert suppressed_codes("  name: 'a#specc: ignore'") is None


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("  # specc: ignore[W101]", []),
        ("  # specc: ignore[W1]", []),
        ("  # specc: ignore", []),
        ("  # specc: ignore[W102]", ["W101", "W002"]),  # W102: nothing to suppress here
        ("  # specc: ignore[W102, W101]", ["W002"]),
        ("  # specc: ignore[W102, W101, W002]", []),
    ],
)
def test_suppression_on_the_line_of_the_finding(comment: str, expected: list[str]) -> None:
    lines = TEXT.splitlines()
    lines[5] += comment  # conv1, where W101 points
    assert codes("\n".join(lines) + "\n") == expected


def test_suppression_on_another_line_does_not_apply() -> None:
    lines = TEXT.splitlines()
    lines[6] += "  # specc: ignore[W101]"
    assert codes("\n".join(lines) + "\n") == ["W101", "W002"]


def test_suppression_applies_to_errors_as_well() -> None:
    text = spec(
        "- {name: c, type: conv2d, filters: 1, kernel: 9}  # specc: ignore[S104]", "x: [4, 4, 1]"
    )
    assert codes(text) == []


# -- W002: suppressions that suppress nothing ---------------------------------------------
def unused(text: str, **options: object) -> list[tuple[int, int, str]]:
    result = check_text(text, "t.yaml", settings=Settings(**options))  # type: ignore[arg-type]
    return [(d.span.line, d.span.col, d.message) for d in result.diagnostics if d.code == "W002"]  # type: ignore[union-attr]


def with_comment(line: int, comment: str, text: str = TEXT) -> str:
    lines = text.splitlines()
    lines[line - 1] += "  " + comment
    return "\n".join(lines) + "\n"


def test_an_unused_code_is_reported_at_the_code() -> None:
    text = with_comment(7, "# specc: ignore[W101]")  # pool1's line: W101 is on conv1's
    col = len(TEXT.splitlines()[6]) + 2 + len("# specc: ignore[") + 1
    assert unused(text) == [
        (7, col, "unused suppression: nothing on this line is reported as W101")
    ]
    assert unused(with_comment(6, "# specc: ignore[W101]")) == []  # the close variant: used
    assert unused(with_comment(6, "# specc: ignore[W1]")) == []  # a prefix that matches


def test_an_unknown_code_is_reported() -> None:
    text = with_comment(6, "# specc: ignore[W101, W9999]")
    col = len(TEXT.splitlines()[5]) + 2 + len("# specc: ignore[W101, ") + 1
    assert unused(text) == [(6, col, "unknown code 'W9999' in a suppression comment")]


def test_a_bare_unused_ignore_cannot_hide_itself() -> None:
    text = with_comment(7, "# specc: ignore")
    col = len(TEXT.splitlines()[6]) + 3
    assert unused(text) == [(7, col, "unused suppression: nothing on this line is reported")]
    assert unused(with_comment(6, "# specc: ignore")) == []
    assert codes(with_comment(7, "# specc: ignore[W002]")) == ["W101"]  # explicit: silenced
    assert codes(text, ignore=("W002",)) == ["W101"]


def test_comments_are_judged_against_every_rule_whatever_the_selection() -> None:
    # pw is a 1x1 convolution: I102 (opt-in) fires there, so its comment is needed even when
    # info is not selected, and W1 is needed for the strided conv1 even when W1 is ignored.
    text = spec(
        "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}  # specc: ignore[W1]\n"
        "- {name: pw, type: conv2d, filters: 4, kernel: 1}  # specc: ignore[I102]\n"
        "- {name: pw2, type: conv2d, filters: 4, kernel: 1}  # specc: ignore",
        "x: [31, 31, 3]",
    )
    for options in ({}, {"ignore": ("W1",)}, {"select": ("ALL",)}, {"select": ("W0", "E")}):
        assert unused(text, **options) == [], options
    stale = with_comment(7, "# specc: ignore[I102, W2]")  # pool1: neither fires there
    assert [m for _, _, m in unused(stale)] == [
        "unused suppression: nothing on this line is reported as I102",
        "unused suppression: nothing on this line is reported as W2",
    ]
    assert unused(stale, select=("W1",)) == []  # W002 itself is not selected


def test_a_prefix_covering_w002_does_not_hide_its_own_staleness() -> None:
    text = with_comment(7, "# specc: ignore[W]")
    col = len(TEXT.splitlines()[6]) + 2 + len("# specc: ignore[") + 1
    assert unused(text) == [(7, col, "unused suppression: nothing on this line is reported as W")]
    assert unused(with_comment(7, "# specc: ignore[W0]")) != []
    assert codes(with_comment(6, "# specc: ignore[W]")) == []  # used: it hides W101


def test_codes_may_be_separated_by_spaces() -> None:
    assert suppressed_codes("- {type: relu}  # specc: ignore[W101 W102]") == {"W101", "W102"}


def test_a_hash_inside_quoted_or_block_text_is_not_a_comment() -> None:
    quoted = TEXT.replace("name: t\n", 'name: t\ndescription: "a # specc: ignore"\n')
    block = TEXT.replace("name: t\n", "name: t\ndescription: |\n  use # specc: ignore[W101]\n")
    for text in (quoted, block):
        assert codes(text) == ["W101"], text
    # A comment on a block scalar's header line is a comment, though its text holds a `#`.
    header = TEXT.replace(
        "name: t\n", "name: t\ndescription: |  # specc: ignore[W101]\n  uses # marks\n"
    )
    assert unused(header) == [
        (3, 33, "unused suppression: nothing on this line is reported as W101")
    ]
    # Text and a real comment on one line: the comment is found after the text.
    from specc.lint.suppress import _comment_on
    from specc.loader import load_text

    line = 'description: "a # specc: ignore"  # specc: ignore[W101]'
    source = load_text(f"{line}\nname: t\n", "d.yaml").source
    comment = _comment_on(source, 1)
    assert comment is not None
    assert (comment.col, comment.listed) == (
        line.rindex("#") + 1,
        (("W101", line.rindex("W") + 1),),
    )


def test_nothing_is_judged_in_a_file_with_errors_even_suppressed_ones() -> None:
    # The lint rules ran on part of the model or not at all, so a comment for one of their
    # codes would look unused.
    later = "- {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}  # specc: ignore[W101]"
    broken = spec(
        f"- {{name: c0, type: conv2d, filters: 4, kernel: 99}}\n{later}", "x: [31, 31, 3]"
    )
    assert codes(broken) == ["S104"]
    hidden = broken.replace("kernel: 99}", "kernel: 99}  # specc: ignore[S104]")
    assert codes(hidden) == []
    assert codes(broken, ignore=("S",)) == []
    fixed = broken.replace("kernel: 99", "kernel: 3, padding: same")
    assert codes(fixed) == []  # the comment is needed once the error is fixed


# -- prefixes in a comment cover errors too -------------------------------------------------
SHRINKS = spec("- {name: c, type: conv2d, filters: 1, kernel: 9}", "x: [4, 4, 1]")  # S104
MISSPELT = spec("- {name: c, type: conv2d, filters: 1, kernel: 3, kernal: 3}", "x: [4, 4, 1]")


@pytest.mark.parametrize("listed", ["S104", "S1", "S", "W101, S1"])
def test_a_prefix_suppresses_a_shape_error_as_its_code_does(listed: str) -> None:
    assert codes(SHRINKS) == ["S104"]
    assert codes(with_comment(6, f"# specc: ignore[{listed}]", SHRINKS)) == []
    assert codes(with_comment(6, "# specc: ignore[S2]", SHRINKS)) == ["S104"]  # no match


@pytest.mark.parametrize("listed", ["E1", "E"])
def test_a_prefix_suppresses_a_schema_error_as_its_code_does(listed: str) -> None:
    assert codes(MISSPELT) == ["E102"]
    assert codes(with_comment(6, "# specc: ignore[E102]", MISSPELT)) == []
    assert codes(with_comment(6, f"# specc: ignore[{listed}]", MISSPELT)) == []
    assert codes(with_comment(6, "# specc: ignore[E0]", MISSPELT)) == ["E102"]  # no match


@pytest.mark.parametrize("how", ["option", "comment"])
def test_an_ignored_schema_error_does_not_make_its_input_look_unused(how: str) -> None:
    # The misspelt layer is left out of the model: a rule run on it would call x unused.
    if how == "option":
        found = codes(MISSPELT, ignore=("E102",))
    else:
        found = codes(with_comment(6, "# specc: ignore[E102]", MISSPELT))
    assert found == []  # no W302: conv c reads x


# -- malformed comments suppress nothing and say so ------------------------------------------
@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# specc: ignore W101", "the codes must be in brackets ('W101')"),
        ("# specc: ignore w1", "the codes must be in brackets ('w1')"),
        ("# specc: ignore[]", "the code list is empty"),
        ("# specc: ignore[ , ]", "the code list is empty"),
        ("# specc: ignore[W101", "the code list has no closing ']'"),
        ("# specc: ignore(W101)", "'(' after ignore; the codes go in brackets"),
        ("# specc: ignore, W101", "',' after ignore"),
    ],
)
def test_a_malformed_comment_suppresses_nothing(comment: str, problem: str) -> None:
    text = with_comment(6, comment)  # conv1's line, where W101 points
    assert suppressed_codes(text.splitlines()[5]) is None
    assert codes(text) == ["W101", "W002"]  # sorted by column: the finding comes first
    col = len(TEXT.splitlines()[5]) + 3  # after the two spaces with_comment adds
    assert [(line, c) for line, c, _ in unused(text)] == [(6, col)]
    assert problem in unused(text)[0][2]


@pytest.mark.parametrize(
    "comment",
    [
        "# specc: ignore[w101]",
        "# specc: ignore [W101]",
        "# specc: ignore  -- stride 4 on purpose",
        "# specc: ignore I checked this",  # I is a family, but "I" here is a word of a reason
        "# specc: ignore S2 stride is intended",  # no code begins with S2
        "# specc: ignore[W101] ResNet-D would pool first",
        "#specc:ignore",
        "# SPECC: IGNORE[W101]",
    ],
)
def test_lower_case_codes_and_a_reason_after_a_bare_ignore(comment: str) -> None:
    text = with_comment(6, comment)
    assert codes(text) == []


def test_a_spaced_bracket_lists_codes_and_does_not_suppress_everything() -> None:
    text = with_comment(6, "# specc: ignore [W102]")  # conv1's finding is W101, not W102
    assert codes(text) == ["W101", "W002"]
