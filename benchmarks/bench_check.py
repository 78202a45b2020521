"""Time `specc check`: many specs in one process, and the start-up of one small check.

Run from the repository root:

    python benchmarks/bench_check.py [--files 200] [--layers 50] [--repeat 5]

1. Writes `--files` specs of `--layers` layers each (convolution blocks with batch norm,
   pooling, a dense head, and a few findings) to a temporary folder.
2. Checks them all in this process through the pipeline (`check_file` with the resolved
   settings), best of `--repeat` runs, after one warm-up (imports and the schema validator).
3. Runs `specc check FOLDER` and `specc check ONE_SMALL_FILE` as fresh processes, best and
   median wall time of `--repeat` runs each, and `python -c pass` for the interpreter's own
   start-up on this machine.
4. Lists the slowest imports of one small check (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import user_env  # noqa: E402  (benchmarks/ is on the path when run as a script)

SMALL = (
    "specc: 1\nname: small\ninputs:\n  image: [28, 28, 1]\nlayers:\n"
    "  - {name: conv1, type: conv2d, filters: 16, kernel: 3, padding: same, activation: relu}\n"
    "  - {name: pool1, type: max_pool2d}\n"
    "  - {name: flat, type: flatten}\n"
    "  - {name: fc, type: dense, units: 10, activation: softmax}\n"
)


def spec_text(index: int, layers: int) -> str:
    """A VGG-like spec of exactly `layers` layers; every 7th spec has a stride finding."""
    lines = [f"specc: 1\nname: net-{index}\ninputs:\n  image: [224, 224, 3]\nlayers:"]
    blocks = (layers - 3) // 4
    size, filters = 224, 16
    for b in range(blocks):
        stride = 4 if (index % 7 == 0 and b == 0) else 1
        lines.append(
            f"  - {{name: conv{b}, type: conv2d, filters: {filters}, kernel: 3, "
            f"stride: {stride}, padding: same, bias: false}}"
        )
        lines.append(f"  - {{name: bn{b}, type: batch_norm}}")
        lines.append(f"  - {{name: relu{b}, type: relu}}")
        if size > 7 and b % 2 == 1:
            lines.append(f"  - {{name: pool{b}, type: max_pool2d, pool: 2, padding: same}}")
            size = -(-size // 2)
            filters = min(filters * 2, 512)
        else:
            lines.append(f"  - {{name: drop{b}, type: dropout, rate: 0.1}}")
    lines.append("  - {name: gap, type: global_avg_pool}")
    while len(lines) - 1 < layers - 1:
        lines.append(f"  - {{name: fc{len(lines)}, type: dense, units: 64, activation: relu}}")
    lines.append("  - {name: logits, type: dense, units: 10}")
    return "\n".join(lines) + "\n"


def in_process(folder: Path, repeat: int) -> tuple[float, int, int]:
    from specc.api import check_file
    from specc.config import Overrides, Resolver

    def once() -> tuple[int, int]:
        resolver = Resolver(Overrides())
        plan = [(p, resolver.settings_for(p)) for p in resolver.files([str(folder)])]
        found = sum(len(check_file(p, settings=s).diagnostics) for p, s in plan)
        return len(plan), found

    once()  # warm-up: imports, the schema and its validator
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        files, found = once()
        best = min(best, time.perf_counter() - start)
    return best, files, found


def wall(command: list[str], repeat: int) -> tuple[float, float]:
    times = []
    for attempt in range(repeat + 1):  # the first one writes any missing bytecode
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=user_env(), cwd=ROOT)
        if attempt:
            times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def slowest_imports(small: Path, count: int = 16) -> list[tuple[int, str]]:
    """The costliest imports of one check, top-level modules and their direct imports."""
    command = [sys.executable, "-X", "importtime", "-m", "specc", "check", str(small)]
    done = subprocess.run(command, capture_output=True, text=True, env=user_env(), cwd=ROOT)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            depth = (len(name) - len(name.lstrip()) - 1) // 2  # importtime indents by 2
            if cumulative.strip().isdigit() and depth <= 1:
                rows.append((int(cumulative), "  " * depth + name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "specs"
        folder.mkdir()
        for i in range(args.files):
            (folder / f"net{i:04d}.yaml").write_text(spec_text(i, args.layers))
        small = Path(tmp) / "small.yaml"
        small.write_text(SMALL)

        best, files, found = in_process(folder, args.repeat)
        print(
            f"in process: {files} files x {args.layers} layers: {best:.3f} s "
            f"({best / files * 1000:.2f} ms a file, {found} findings)"
        )
        specc = [sys.executable, "-m", "specc", "check"]
        for label, command in (
            (f"specc check <{files} files>", [*specc, str(folder)]),
            ("specc check <one small file>", [*specc, str(small)]),
            ("python -c pass", [sys.executable, "-c", "pass"]),
        ):
            low, mid = wall(command, args.repeat)
            print(f"{label:<32} best {low:.3f} s, median {mid:.3f} s")
        print(
            "slowest imports of one small check (cumulative ms; indented: imported by the above):"
        )
        for micros, name in slowest_imports(small):
            print(f"  {micros / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
