"""Hostile input, round 2, through the real `specc` process: the cost of any input is bounded,
no output format can be injected into, and no file is ever lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import assert_bounded, npy_header, specc, zip_bomb

FORMATS = ("text", "concise", "json", "sarif", "github")


# -- 1. output linear in the input ------------------------------------------------------------
def _duplicate_keys(n: int) -> str:
    """One long flow mapping with `n` duplicate keys on one line."""
    keys = ", ".join("a: 1" for _ in range(n))
    return (
        f"specc: 1\nname: t\ninputs: {{x: [4]}}\nlayers:\n  - {{type: relu}}\nextra: {{{keys}}}\n"
    )


def _unknown_attributes(n: int) -> str:
    """`n` layers on one line, each with an unknown attribute: many codes, one line."""
    layers = ", ".join(f"{{type: relu, bogus{i}: 1}}" for i in range(n))
    return f"specc: 1\nname: t\ninputs: {{x: [4]}}\nlayers: [{layers}]\n"


def _aliased_long_value(n: int) -> str:
    """A 100,000-character reference, aliased by `n` layers: each finding quotes it."""
    layers = "".join("  - {type: relu, inputs: *far}\n" for _ in range(n))
    return f"specc: 1\nname: t\ninputs: {{x: [4]}}\nfar: &far {'z' * 100_000}\nlayers:\n{layers}"


HOSTILE = {
    "duplicate_keys": lambda: _duplicate_keys(20_000),
    "unknown_attributes": lambda: _unknown_attributes(4_000),
    "aliased_long_value": lambda: _aliased_long_value(2_000),
}
CASES = [
    *[("duplicate_keys", fmt) for fmt in FORMATS],
    ("unknown_attributes", "text"),
    ("aliased_long_value", "json"),
]


@pytest.mark.parametrize(("case", "fmt"), CASES)
def test_check_output_stays_linear(case: str, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HOSTILE[case](), encoding="utf-8")
    done = specc("check", path, "--format", fmt)
    assert_bounded(done, (case, fmt))
    assert done.code == 1
    assert len(done.stdout) < 600_000, len(done.stdout)  # each finding's text is bounded


@pytest.mark.parametrize("command", ["report", "explain", "graph", "plan", "run"])
def test_every_spec_command_stays_linear(command: str, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(_duplicate_keys(20_000), encoding="utf-8")
    done = specc(command, path)
    assert_bounded(done, command)
    assert done.code == 1
    assert len(done.stderr) < 100_000, len(done.stderr)


def test_a_long_line_is_clipped_around_the_column(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(_duplicate_keys(20_000), encoding="utf-8")
    done = specc("check", path)
    shown = [line for line in done.stdout.splitlines() if line.startswith(" 6 | ")]
    assert shown and all(len(line) < 200 for line in shown)
    carets = [line for line in done.stdout.splitlines() if line.strip().endswith("^")]
    findings = [line for line in done.stdout.splitlines() if ": E003 " in line]
    assert len(findings) == 10 == len(carets)  # at most ten findings of one line are shown
    for finding, source, caret in zip(findings, shown, carets, strict=True):
        col = int(finding.split(":")[2])
        # the caret points at the `a` of the duplicate key in the clipped line
        at = caret.index("^")
        assert source[at] == "a", (col, source, caret)
    assert "19,989 more findings on line 6 not shown" in done.stdout
    assert done.stdout.rstrip().endswith("1 file, 19999 errors")


# -- 2. arrays are checked from their headers before anything is decompressed ------------------
DENSE = "specc: 1\nname: t\ninputs: {x: [4]}\nlayers:\n  - {name: d, type: dense, units: 2}\n"
BOMB = 300 * 1024 * 1024  # bytes of zeros in a file of a few hundred KB
BOMB_ROWS = BOMB // 16  # float32 rows of 4


@pytest.fixture
def dense(tmp_path: Path) -> Path:
    path = tmp_path / "dense.yaml"
    path.write_text(DENSE, encoding="utf-8")
    return path


def _good_weights(path: Path, **extra: tuple[int, ...]) -> None:
    zip_bomb(path, {"d.kernel": (4, 2), "d.bias": (2,), **extra})


@pytest.mark.parametrize(
    "members",
    [
        {"unused": (BOMB_ROWS, 4)},  # an extra key the spec never asks for
        {"d.kernel": (BOMB_ROWS, 4), "d.bias": (2,)},  # a key of the spec with the wrong shape
    ],
    ids=["extra-key", "wrong-shape"],
)
def test_weights_bomb_is_refused_before_it_is_unpacked(
    dense: Path, tmp_path: Path, members: dict[str, tuple[int, ...]]
) -> None:
    weights = tmp_path / "w.npz"
    zip_bomb(weights, {"d.kernel": (4, 2), "d.bias": (2,), **members})
    assert weights.stat().st_size < 2_000_000
    done = specc("run", dense, "--weights", weights)
    assert_bounded(done)
    assert done.code == 1
    assert f"({BOMB_ROWS:,}, 4)" in done.stderr or f"({BOMB_ROWS}, 4)" in done.stderr
    assert done.peak < BOMB / 2, done.peak


def test_input_bomb_over_the_budget_is_refused_before_it_is_unpacked(
    dense: Path, tmp_path: Path
) -> None:
    data = tmp_path / "x.npz"
    zip_bomb(data, {"x": (BOMB_ROWS, 4)})
    done = specc("run", dense, "--input", data, "--max-memory", "100M")
    assert_bounded(done)
    assert done.code == 1 and "over the memory budget of 100" in done.stderr, done.stderr
    assert done.peak < BOMB / 2, done.peak


def test_input_of_another_rank_is_not_unpacked(dense: Path, tmp_path: Path) -> None:
    data = tmp_path / "x.npz"
    zip_bomb(data, {"x": (BOMB_ROWS, 2, 2)})
    done = specc("run", dense, "--input", data)
    assert_bounded(done)
    assert done.code == 1 and "3 axes" in done.stderr, done.stderr
    assert done.peak < BOMB / 2, done.peak


@pytest.mark.parametrize("option", ["--input", "--weights"])
def test_a_header_that_claims_more_than_the_file_holds_is_corrupt(
    dense: Path, tmp_path: Path, option: str
) -> None:
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_header((100_000, 100_000)) + bytes(100))  # 40 GB claimed
    assert path.stat().st_size < 300
    done = specc("run", dense, option, path)
    assert_bounded(done)
    assert done.code == 1
    assert "corrupt or truncated" in done.stderr and "37.3 GiB" in done.stderr, done.stderr
    assert "memory" not in done.stderr


def test_input_with_a_batch_of_zero_is_refused_as_the_option_is(
    dense: Path, tmp_path: Path
) -> None:
    import numpy as np

    data = tmp_path / "x.npy"
    np.save(data, np.zeros((0, 4), np.float32))
    done = specc("run", dense, "--input", data)
    assert_bounded(done)
    assert done.code == 1 and "batch) is 0; it must be at least 1" in done.stderr, done.stderr
    assert specc("run", dense, "--batch", "0").code == 2


# -- 3. outputs go only to regular files or new paths -----------------------------------------
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "keras_question.yaml"


def _special(kind: str, path: Path, tmp_path: Path) -> None:
    import os
    import stat

    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-to-stdout":
        path.symlink_to("/proc/self/fd/1")
    elif kind == "symlink-to-file":
        (tmp_path / "real").write_text("keep me")
        path.symlink_to(tmp_path / "real")
    elif kind == "symlink-to-dev-null":
        path.symlink_to(os.devnull)
    elif kind == "device":
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs privileges")
    elif kind == "socket":
        import socket

        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(path))
    else:
        path.mkdir()


SPECIAL = [
    "fifo",
    "symlink-to-stdout",
    "symlink-to-file",
    "symlink-to-dev-null",
    "device",
    "socket",
    "directory",
]


def _writes(command: str, target: Path, tmp_path: Path) -> list[str | Path]:
    if command == "graph":
        return ["graph", EXAMPLE, "-o", target, "--force"]
    if command == "run-output":
        return ["run", EXAMPLE, "-o", target, "--force"]
    return ["run", EXAMPLE, "--save-weights", target, "--force"]


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("command", ["graph", "run-output", "save-weights"])
def test_force_never_replaces_what_is_not_a_regular_file(
    command: str, kind: str, tmp_path: Path
) -> None:
    import os

    suffix = ".npz" if command == "save-weights" else ".npy" if command == "run-output" else ".mmd"
    target = tmp_path / f"target{suffix}"
    _special(kind, target, tmp_path)
    before = os.lstat(target)
    done = specc(*_writes(command, target, tmp_path), timeout=20)
    assert_bounded(done, (command, kind))
    assert done.code == 2, done.output
    assert "regular files" in done.stderr or "is a directory" in done.stderr, done.stderr
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    if kind == "symlink-to-file":
        assert (tmp_path / "real").read_text() == "keep me"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_graph_writes_stdout_with_a_dash(tmp_path: Path) -> None:
    done = specc("graph", EXAMPLE, "-o", "-", cwd=tmp_path)
    assert done.code == 0 and done.stdout.startswith("flowchart TD"), done.output
    assert list(tmp_path.iterdir()) == []


def test_force_still_replaces_a_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "g.mmd"
    target.write_text("old")
    done = specc("graph", EXAMPLE, "-o", target, "--force")
    assert done.code == 0, done.output
    assert target.read_text().startswith("flowchart TD")


# -- 4. no command writes over a file it reads --------------------------------------------------
@pytest.mark.parametrize(
    ("name", "option"),
    [("spec.npy", "-o"), ("spec.npz", "-o"), ("spec.npz", "--save-weights")],
)
@pytest.mark.parametrize("spelling", ["same", "symlink", "hardlink", "dotted"])
def test_run_never_writes_over_its_own_spec(
    name: str, option: str, spelling: str, tmp_path: Path
) -> None:
    import os

    spec = tmp_path / name
    spec.write_bytes(EXAMPLE.read_bytes())
    target = {
        "same": spec,
        "symlink": tmp_path / f"link{spec.suffix}",
        "hardlink": tmp_path / f"hard{spec.suffix}",
        "dotted": tmp_path / "." / name,
    }[spelling]
    if spelling == "symlink":
        target.symlink_to(spec)
    elif spelling == "hardlink":
        os.link(spec, target)
    done = specc("run", spec, option, target, "--force")
    assert_bounded(done)
    assert done.code == 2, done.output
    assert spec.read_bytes() == EXAMPLE.read_bytes()


def test_graph_never_writes_over_the_configuration_it_reads(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.specc.limits]\nmax-layers = 100\n")
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(EXAMPLE.read_bytes())
    done = specc("graph", spec, "-o", config, "--force")
    assert done.code == 2 and "is also an input of the graph" in done.stderr, done.output
    assert config.read_text() == "[tool.specc.limits]\nmax-layers = 100\n"


# -- 5. what used to be an internal error is a diagnostic or a usage error ---------------------
HEAD = "specc: 1\nname: t\ninputs: {x: [4]}\nlayers:\n  - {type: relu}\n"


@pytest.mark.parametrize(
    "number", ["0x" + "f" * 5000, "0b" + "1" * 20000, "1:" * 3000 + "1", "!!int 0x" + "f" * 5000]
)
@pytest.mark.parametrize("command", ["check", "report", "graph", "run"])
def test_a_number_python_cannot_print_is_out_of_range(
    command: str, number: str, tmp_path: Path
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(f"specc: 1\nname: t\ninputs: {{x: [{number}]}}\nlayers:\n  - {{type: relu}}\n")
    done = specc(command, path)
    assert_bounded(done)
    assert done.code == 1 and ":3:14: E104 a number of " in done.output, done.output


@pytest.mark.parametrize(
    "args",
    [["--seed", "-1"], ["--max-memory", "9" * 400], ["--max-memory", "1e999"]],
    ids=["negative-seed", "400-digit-budget", "infinite-budget"],
)
def test_run_options_out_of_range_are_usage_errors(args: list[str]) -> None:
    done = specc("run", EXAMPLE, *args)
    assert_bounded(done)
    assert done.code == 2, done.output


@pytest.mark.parametrize("key", ["exclude", "per-file-ignores"])
def test_a_pattern_of_a_thousand_stars_is_matched(key: str, tmp_path: Path) -> None:
    pattern = "*" * 1000 + "/x"
    table = (
        f'exclude = ["{pattern}"]'
        if key == "exclude"
        else f'[tool.specc.per-file-ignores]\n"{pattern}" = ["W"]'
    )
    (tmp_path / "pyproject.toml").write_text(f"[tool.specc]\n{table}\n")
    (tmp_path / "a.yaml").write_bytes(EXAMPLE.read_bytes())
    done = specc("check", ".", cwd=tmp_path)
    assert_bounded(done)
    assert done.code == 0 and "1 file" in done.stdout, done.output


@pytest.fixture(scope="module")
def deep_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import os

    top = tmp_path_factory.mktemp("deep")
    fds = [os.open(top, os.O_RDONLY)]
    try:
        for _ in range(1000):  # relative to the last folder: no path grows past PATH_MAX
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        yield top
    finally:
        # Removed here, bottom up: pytest's own clean-up recurses once per level.
        os.close(fds.pop())
        while fds:
            fd = fds.pop()
            os.rmdir("d", dir_fd=fd)
            os.close(fd)


@pytest.mark.parametrize("args", [["."], ["**/*.yaml"], ["--show-files", "."]])
def test_a_folder_tree_a_thousand_levels_deep(deep_tree: Path, args: list[str]) -> None:
    done = specc("check", *args, cwd=deep_tree)
    assert_bounded(done)
    assert done.code in (0, 2) and "nested too deeply" in done.stderr, done.output


def test_max_depth_has_a_ceiling(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.specc.limits]\nmax-depth = 1000\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(HEAD + "extra: " + "[" * 990 + "]" * 990 + "\n")
    for command in ("check", "report"):
        done = specc(command, spec)
        assert_bounded(done)
        assert done.code == 2 and "'max-depth' can be at most 256" in done.stderr, done.output
    (tmp_path / "pyproject.toml").write_text("[tool.specc.limits]\nmax-depth = 256\n")
    deep = f"  - {{type: relu, kernel: {'[' * 250}1{']' * 250}}}\n"
    spec.write_text(HEAD + deep)
    for command in ("check", "report", "explain", "graph", "plan", "run"):
        done = specc(command, spec)
        assert_bounded(done, command)
        assert done.code == 1, (command, done.output)


# -- 6. nothing from the spec reaches any output raw -------------------------------------------
INJECTING = (
    'specc: 1\nname: "x\\n  click n0 \\"javascript:alert(1)\\"\\n\\e[31m::error file=a::pwn"\n'
    'description: "\\e]0;title\\a"\ninputs: {x: [4]}\nlayers:\n  - {type: relu, bogus: "\\n::error::b"}\n'
)


def _clean(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text
    for line in text.splitlines():
        assert not line.lstrip().startswith("click"), line
        assert not line.startswith("::error file=a"), line
        assert not line.startswith("::error::b"), line


@pytest.mark.parametrize(
    "args",
    [
        *[["check", "--format", fmt] for fmt in FORMATS],
        ["report"],
        ["report", "--format", "markdown"],
        ["report", "--format", "json"],
        ["explain"],
        ["graph"],
        ["graph", "--format", "dot"],
        ["plan"],
        ["run"],
    ],
)
def test_control_characters_never_reach_an_output(args: list[str], tmp_path: Path) -> None:
    path = tmp_path / "spec\n::error file=x::y.yaml"  # the path is shown too
    path.write_text(INJECTING, encoding="utf-8")
    done = specc(*args, path)
    assert_bounded(done, args)
    assert done.code == 1, done.output
    _clean(done.stdout)
    _clean(done.stderr)
    assert "E106" in done.output  # the name is refused


# -- 7. signals: SIGTERM cleans up like Ctrl-C; a killed write's temporary is removed later ----
SLOW_WRITE = (
    "import sys, time\n"
    "import specc.lower.io as io\n"
    "def slow(f, array, allow_pickle=False):\n"
    "    f.write(b'partial')\n"
    "    f.flush()\n"
    "    sys.stderr.write('writing\\n')\n"
    "    sys.stderr.flush()\n"
    "    time.sleep(60)\n"
    "io.np.save = slow\n"
    "sys.argv[0] = 'specc'\n"
    "from specc.cli import main\n"
    "main()\n"
)


def _killed_while_writing(target: Path, sig: int) -> tuple[int, str]:
    import os
    import subprocess
    import sys

    from hostile import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITE, "run", str(EXAMPLE), "-o", str(target)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert child.stderr is not None
    line = child.stderr.readline()
    assert line == "writing\n", line + child.stderr.read()
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    child.send_signal(sig)
    err = child.stderr.read()
    return child.wait(timeout=30), err


def _temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_sigterm_cleans_up_like_ctrl_c(tmp_path: Path) -> None:
    import signal

    target = tmp_path / "keep.npy"
    code, err = _killed_while_writing(target, signal.SIGTERM)
    assert code == 143 and "terminated" in err and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_the_next_write_removes_a_killed_writes_temporary(tmp_path: Path) -> None:
    import os
    import signal

    target = tmp_path / "keep.npy"
    code, _ = _killed_while_writing(target, signal.SIGKILL)
    assert code == -signal.SIGKILL
    (stale,) = _temporaries(tmp_path)
    os.utime(tmp_path / stale, (1, 1))  # as old as a temporary left by a crash usually is
    other = tmp_path / ".other.npy.abcdefgh.tmp"  # another target's: left alone
    other.write_bytes(b"x")
    os.utime(other, (1, 1))
    done = specc("run", EXAMPLE, "-o", target)
    assert done.code == 0, done.output
    assert _temporaries(tmp_path) == [other.name]
    assert target.read_bytes().startswith(b"\x93NUMPY")


# -- 8. clear messages --------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["!foo", "!!python/name:os.system", "!!binary", "!<tag:x,2000:y>"])
@pytest.mark.parametrize("where", ["scalar", "mapping"])
def test_an_unknown_tag_is_an_error_that_names_it(tag: str, where: str, tmp_path: Path) -> None:
    value = f"{tag} t" if where == "scalar" else f"{tag} {{x: [4]}}"
    key = "name" if where == "scalar" else "inputs"
    text = (
        HEAD.replace("name: t", f"name: {value}")
        if key == "name"
        else HEAD.replace("inputs: {x: [4]}", f"inputs: {value}")
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    done = specc("check", path, "-f", "concise")
    assert done.code == 1, done.output
    assert "E002 YAML error: unknown tag" in done.stdout, done.stdout


def test_an_endless_device_is_over_the_limit_without_a_size() -> None:
    done = specc("check", "/dev/zero", "-f", "concise")
    assert done.code == 1 and "E005 the file holds more than the limit of 10.0 MiB" in done.stdout


def test_out_of_memory_in_check_does_not_talk_about_batches() -> None:
    code = (
        "import sys, specc.api\n"
        "def boom(*a, **k):\n    raise MemoryError\n"
        "specc.api.check_file = boom\n"
        "from specc.cli import main\nmain()\n"
    )
    import subprocess
    import sys

    from hostile import ROOT

    for command, hint in (("check", False), ("run", True)):
        done = subprocess.run(
            [sys.executable, "-c", code, command, str(EXAMPLE)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 1 and "out of memory" in done.stderr, done.stderr
        assert ("--batch" in done.stderr) == hint, done.stderr
