"""Bounded cost for any input: hypothesis builds hostile specs, configurations, array files and
argument lists of up to 1 MB, and every command must answer within the bounds of
`hostile.assert_bounded` (no internal error, peak memory under 500 MB, under 10 s), changing no
file but the output it names.

Bounded in the default run; `SPECC_HOSTILE_EXAMPLES=500` searches longer."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hostile import assert_bounded, npy_header, specc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SPECC_HOSTILE_EXAMPLES", "3"))
MB = 1_000_000
HEAD = "specc: 1\nname: t\ninputs: {x: [4]}\nlayers:\n  - {name: d, type: dense, units: 2}\n"

# Fragments that were each once expensive or fatal; a spec repeats some of them many times.
FRAGMENTS = [
    "extra: {{{}}}\n".format(", ".join(["a: 1"] * 2000)),
    "  - {type: relu, bogus: 1}\n",
    "deep: " + "[" * 60 + "]" * 60 + "\n",
    "big: 0x" + "f" * 5000 + "\n",
    "sixty: " + "1:" * 2000 + "1\n",
    'name2: "\\e[31m\\n::error file=a::b"\n',
    "tagged: !foo bar\n",
    "alias: &a [" + ", ".join(["1"] * 500) + "]\nuse: [*a, *a, *a, *a, *a, *a, *a, *a]\n",
    "# specc: ignore[W101]\n",
    "  - {type: conv2d, filters: 99999999, kernel: 99999}\n",
    "long: " + "z" * 100_000 + "\n",
]
CONFIGS = [
    None,
    "[tool.specc.limits]\nmax-depth = 1000\n",
    "[tool.specc.limits]\nmax-depth = 256\nmax-nodes = 100000000\n",
    '[tool.specc]\nexclude = ["' + "*" * 1000 + '/x"]\n',
    "[tool.specc\n",
]
COMMANDS = [
    ["check"],
    ["check", "--format", "json"],
    ["check", "--format", "github"],
    ["report"],
    ["explain"],
    ["graph"],
    ["plan"],
    ["run", "--max-memory", "200M"],
    ["run", "--max-memory", "200M", "-i", "data.npy", "-o", "out.npy", "--force"],
    ["run", "--max-memory", "200M", "-w", "data.npy", "--save-weights", "spec.yaml"],
    ["diff", "spec.yaml"],
]


@st.composite
def spec_texts(draw: st.DrawFn) -> bytes:
    parts = [HEAD] if draw(st.booleans()) else []
    for fragment in draw(st.lists(st.sampled_from(FRAGMENTS), max_size=6)):
        parts.append(fragment * draw(st.integers(1, max(1, MB // (len(fragment) * 6)))))
    text = "".join(parts).encode()[:MB]
    if draw(st.booleans()):
        junk = draw(st.binary(max_size=64))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + junk + text[at:]
    return text


@st.composite
def arrays(draw: st.DrawFn) -> bytes:
    shape = tuple(draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=4)))
    dtype = draw(st.sampled_from(["<f4", "<f8", "|O", "<c8", "<i2"]))
    body = draw(st.binary(max_size=256))
    return npy_header(shape, dtype) + body


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 10,
    suppress_health_check=list(HealthCheck),
)
@given(
    spec=spec_texts(),
    config=st.sampled_from(CONFIGS),
    data=arrays(),
    command=st.sampled_from(COMMANDS),
)
def test_every_command_is_bounded_on_hostile_input(
    spec: bytes, config: str | None, data: bytes, command: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "spec.yaml").write_bytes(spec)
        (root / "data.npy").write_bytes(data)
        if config is not None:
            (root / "pyproject.toml").write_text(config)
        before = _snapshot(root)
        done = specc(*command[:1], "spec.yaml", *command[1:], cwd=root, timeout=30)
        assert_bounded(done, (command, config, len(spec)))
        after = _snapshot(root)
        after.pop("out.npy", None)  # the one file a command may write
        assert after == before


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.iterdir() if p.is_file()
    }
