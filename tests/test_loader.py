"""The loader: plain data, positions of values and keys, and one diagnostic per broken file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import FAST_PEAK, peak_bytes

from specc import loader
from specc.loader import Limits, Loaded, load_file, load_text

SPEC = """\
specc: 1
name: tiny
inputs:
  image: [28, 28, 1]
layers:
  - {type: conv2d, filters: 8, kernel: 3}
  - type: conv2d
    filters: 16
    kernel: 3
"""


@pytest.fixture(params=["libyaml", "python"])
def both_loaders(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run a test with libyaml's parser and with PyYAML's pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(loader, "_Loader", yaml.SafeLoader)
    elif not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("libyaml is not installed")
    yield


Problems = list[tuple[str, int, int]]


def problems(result: Loaded) -> Problems:
    return [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span is not None]


def at(text: str | bytes, limits: Limits | None = None) -> Problems:
    return problems(load_text(text, "spec.yaml", limits or Limits()))


# -- a valid spec -------------------------------------------------------------------------------
def test_valid_spec_gives_plain_data(both_loaders: None) -> None:
    result = load_text(SPEC, "spec.yaml")
    assert result.diagnostics == []
    assert result.data == {
        "specc": 1,
        "name": "tiny",
        "inputs": {"image": [28, 28, 1]},
        "layers": [
            {"type": "conv2d", "filters": 8, "kernel": 3},
            {"type": "conv2d", "filters": 16, "kernel": 3},
        ],
    }
    assert result.source.lines[6] == "  - type: conv2d"


def test_positions_of_values_and_keys(both_loaders: None) -> None:
    source = load_text(SPEC, "spec.yaml").source

    def value(*path: str | int) -> tuple[int, int]:
        span = source.values[path]
        assert span.path == "spec.yaml"
        return span.line, span.col

    def key(*path: str | int) -> tuple[int, int]:
        return source.keys[path].line, source.keys[path].col

    assert value() == (1, 1)
    assert value("layers", 1, "kernel") == (9, 13) and key("layers", 1, "kernel") == (9, 5)
    assert value("layers", 0, "filters") == (6, 29) and key("layers", 0, "filters") == (6, 20)
    assert value("layers", 1) == (7, 5) and value("layers") == (6, 3)
    assert value("inputs", "image", 2) == (4, 19)
    assert key("name") == (2, 1) and ("layers", 1) not in source.keys


def test_path_is_kept_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    result = load_file("m.yaml")
    assert result.source.values[("name",)].path == "m.yaml"


def test_yaml_11_scalars_resolve_as_pyyaml_does_but_exponents() -> None:
    # 1e3 is text to PyYAML but the float 1000.0 to YAML 1.2 and JSON; specc follows the latter
    # (docs/reliability.md). 010 and no/on/yes also get diagnostics (tests/corpus/bad).
    text = "a: [no, on, '010', 010, 1e3, 1.0e+3, 2024-01-01, ~, 0x1f, yes]\n5: x\ntrue: y\n"
    data = load_text(text).data
    assert data == {
        "a": [False, True, "010", 8, 1000.0, 1000.0, "2024-01-01", None, 31, True],
        "5": "x",
        "True": "y",
    }


def test_explicit_tags_that_do_not_fit_stay_text() -> None:
    assert load_text("a: !!int ten\nb: !!binary aGk=\nc: !!float 1e3\n").data == {
        "a": "ten",
        "b": "aGk=",
        "c": 1000.0,
    }


# -- syntax ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: b: c\n", [("E002", 1, 5)]),
        ("layers:\n  - type: conv2d\n   filters: 8\n", [("E002", 3, 4)]),
        ("inputs: {image: [28, 28, 1}\n", [("E002", 1, 27)]),
        ("a: 1\n---\nb: 2\n", [("E002", 2, 1)]),
        ("a: *nowhere\n", [("E002", 1, 4)]),
        ("a: &x [*x]\n", [("E002", 1, 8)]),
        ("layers:\n  - type: conv2d\n\t  filters: 8\n", [("E009", 3, 1)]),
        ("a:\n  b: 1\n\tc: 2\n", [("E009", 3, 1)]),
    ],
)
def test_syntax_errors(both_loaders: None, text: str, expected: Problems) -> None:
    assert at(text) == expected


def test_syntax_error_wording_names_the_problem_and_the_open_construct() -> None:
    (problem,) = load_text("a: [1, 2\n").diagnostics
    assert problem.message.startswith("YAML syntax error: ")
    assert "flow sequence at line 1" in problem.message
    assert problem.notes and problem.notes[0].span is not None and problem.notes[0].span.col == 4
    (several,) = load_text("a: 1\n---\nb: 2\n").diagnostics
    assert "single YAML document" in several.message
    (tab,) = load_text("a:\n\tb: 1\n").diagnostics
    assert tab.message == "tab character used for indentation; YAML allows only spaces"


# -- not a spec -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected", "words"),
    [
        ("", [("E004", 1, 1)], "the file is empty"),
        ("# only\n# comments\n", [("E004", 1, 1)], "the file is empty"),
        ("---\n", [("E004", 1, 1)], "the file is empty"),
        ("\n- a\n- b\n", [("E004", 2, 1)], "the document is a list"),
        ("  hello\n", [("E004", 1, 3)], "the document is a string"),
        ("42\n", [("E004", 1, 1)], "the document is a number"),
    ],
)
def test_empty_or_not_a_mapping(text: str, expected: Problems, words: str) -> None:
    result = load_text(text, "spec.yaml")
    assert problems(result) == expected and result.data is None
    assert result.diagnostics[0].message.startswith(words)


# -- duplicates and merges ------------------------------------------------------------------------
def test_duplicate_top_level_key_keeps_the_first() -> None:
    result = load_text("name: a\nspecc: 1\nname: b\n")
    assert problems(result) == [("E003", 3, 1)]
    assert result.data == {"name": "a", "specc": 1}
    (problem,) = result.diagnostics
    assert problem.message == "duplicate key 'name' (first defined at line 1)"
    assert problem.notes[0].span is not None and problem.notes[0].span.line == 1


def test_duplicate_key_inside_a_layer() -> None:
    text = "layers:\n  - type: conv2d\n    filters: 8\n    kernel: 3\n    filters: 16\n"
    result = load_text(text)
    assert problems(result) == [("E003", 5, 5)]
    assert result.data == {"layers": [{"type": "conv2d", "filters": 8, "kernel": 3}]}


def test_merge_keys_fill_in_and_point_at_their_definition() -> None:
    text = (
        "base: &conv {type: conv2d, filters: 8, kernel: 3}\n"
        "layers:\n"
        "  - <<: *conv\n"
        "    filters: 16\n"
        "  - {kernel: 5, <<: [*conv, {padding: same}]}\n"
    )
    result = load_text(text)
    assert result.diagnostics == []
    first, second = result.data["layers"]  # type: ignore[index]
    assert first == {"filters": 16, "type": "conv2d", "kernel": 3}
    assert second == {"kernel": 5, "type": "conv2d", "filters": 8, "padding": "same"}
    values, keys = result.source.values, result.source.keys
    assert (values["layers", 0, "type"].line, values["layers", 0, "type"].col) == (1, 20)
    assert (keys["layers", 0, "kernel"].line, keys["layers", 0, "kernel"].col) == (1, 40)
    assert values["layers", 0, "filters"].line == 4
    assert values["layers", 1, "padding"].line == 5


def test_merge_of_a_scalar_is_reported() -> None:
    assert at("a: {<<: 5, b: 1}\n") == [("E002", 1, 9)]


def test_aliases_repeat_values_at_every_path() -> None:
    result = load_text("shape: &s [28, 28, 1]\ninputs: {a: *s, b: *s}\n")
    assert result.data == {"shape": [28, 28, 1], "inputs": {"a": [28, 28, 1], "b": [28, 28, 1]}}
    assert result.source.values["inputs", "b", 2].col == 20  # where the anchored list defines it


# -- limits ---------------------------------------------------------------------------------------
def test_alias_bomb_fails_fast(both_loaders: None) -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        aliases = ", ".join([f"*a{level - 1}"] * 10)
        levels.append(f"a{level}: &a{level} [{aliases}]")
    result, peak = peak_bytes(lambda: load_text("\n".join(levels) + "\n"))
    assert peak < FAST_PEAK  # a billion nodes are never built
    assert problems(result) == [("E006", 6, 45)]  # the eighth *a4 passes a million nodes
    assert "more than 1,000,000 nodes" in result.diagnostics[0].message


def test_node_limit_without_aliases() -> None:
    (problem,) = load_text("a: [1, 2, 3, 4]\n", limits=Limits(max_nodes=4)).diagnostics
    assert (problem.code, problem.span) == ("E006", loader.Span("<string>", 1, 8))  # the fifth node


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 10_000 + "]" * 10_000, [("E007", 1, 65)]),
        ("a: " + "[" * 100_000, [("E007", 1, 67)]),
        ("- " * 10_000 + "x\n", [("E007", 1, 129)]),
        ("".join(f"{' ' * 2 * i}k:\n" for i in range(1_000)), [("E007", 65, 129)]),
    ],
)
def test_deep_nesting(both_loaders: None, text: str, expected: Problems) -> None:
    got = at(text)
    if got != expected:
        # libyaml 0.2.5 and later refuse flow nesting past 1,000 levels while scanning ahead,
        # before specc's own limit is reached: still E007 on the same line, at the parser's spot.
        assert [(c, line) for c, line, _ in got] == [(c, line) for c, line, _ in expected]
        assert got[0][2] > 1000


def test_aliases_cannot_nest_past_the_depth_limit() -> None:
    text = "a: &a [[[[x]]]]\nb: [[[*a]]]\n"
    assert at(text, Limits(max_depth=7)) == [("E007", 2, 7)]
    assert at(text, Limits(max_depth=8)) == []


def test_too_large_text() -> None:
    result = load_text("name: a long one\n", limits=Limits(max_bytes=8))
    assert problems(result) == [("E005", 1, 1)] and result.data is None
    assert result.diagnostics[0].message == "the file is 17 B, over the limit of 8 B"


def test_too_large_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" * 600_000)
    (problem,) = load_file(path, Limits(max_bytes=2 * 1024 * 1024)).diagnostics
    assert problem.code == "E005"
    assert problem.message == "the file is 2.86 MiB, over the limit of 2.00 MiB"


# -- encoding -------------------------------------------------------------------------------------
def test_byte_order_mark_is_accepted(both_loaders: None) -> None:
    for text in (b"\xef\xbb\xbfname: tiny\n", "\ufeffname: tiny\n"):
        result = load_text(text)
        assert result.data == {"name": "tiny"}
        assert result.source.values["name",].col == 7  # counted from after the mark


def test_invalid_utf8_points_at_the_first_bad_byte() -> None:
    (problem,) = load_text(b"name: a\nlabel: caf\xe9\n").diagnostics
    assert (problem.code, problem.span) == ("E008", loader.Span("<string>", 2, 11))
    assert "0xe9" in problem.message


def test_nul_byte_means_binary() -> None:
    for text in (b"name: a\x00b\n", "name: a\x00b\n", b"\x89PNG\r\n\x1a\n\x00\x00"):
        (problem,) = load_text(text).diagnostics
        assert problem.code == "E008" and "binary file" in problem.message
    assert at(b"name: a\x00b\n") == [("E008", 1, 8)]


def test_control_character_is_reported_at_its_place() -> None:
    assert at("a: 1\nb: x\x07\n") == [("E008", 2, 5)]


def test_non_ascii_columns_count_characters(both_loaders: None) -> None:
    result = load_text("é: ü\nà: [ö, 'ß', x]\n".encode())
    assert result.source.values["à", 2].col == 13


# -- files ----------------------------------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    result = load_file(path)
    assert problems(result) == [("E001", 1, 1)]
    assert result.diagnostics[0].message == f"cannot read '{path}': no such file"


def test_directory(tmp_path: Path) -> None:
    result = load_file(tmp_path, Limits(max_bytes=10))
    assert problems(result) == [("E001", 1, 1)]
    assert result.diagnostics[0].message.endswith("it is a directory")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(SPEC)
    path.chmod(0)
    assert load_file(path).diagnostics[0].message.endswith("permission denied")


def test_file_loads_like_text(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(SPEC.replace("\n", "\r\n").encode())
    result = load_file(path)
    assert result.diagnostics == [] and result.data == load_text(SPEC).data
    assert result.source.values["layers", 1, "kernel"].line == 9
    assert result.source.line_text(9) == "    kernel: 3"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1000, "1,000 B"),
        (1024, "1.00 KiB"),
        (462_400, "451.6 KiB"),
        (3 * 1024**2 // 2, "1.50 MiB"),
        (50 * 1024**2, "50.0 MiB"),
        (5000 * 1024**4, "5,000.0 TiB"),
    ],
)
def test_one_byte_format_for_every_message(size: int, text: str) -> None:
    from specc.units import format_bytes

    assert format_bytes(size) == text
