"""Time the static pipeline (load, validate, build, infer) on a valid 1,000-layer spec.

Run: python benchmarks/bench_core.py [--layers 1000] [--repeat 5]
Prints the best wall time of each stage and of a `specc check` subprocess.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import user_env  # benchmarks/ is on the path when run as a script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's specc, not an installed one


def make_spec(layers: int) -> str:
    """A deep residual stack whose layers all differ (so no validation result is reused)."""
    lines = ["specc: 1", "name: deep", "inputs:", "  image: [64, 64, 16]", "layers:"]
    lines.append("  - {name: l0, type: conv2d, filters: 16, kernel: 3, padding: same}")
    i = 1
    while i < layers:
        block = [
            f"  - {{name: l{i}, type: conv2d, filters: 16, kernel: {1 + 2 * (i % 3)}, "
            "padding: same, "
            f"dilation: {1 + i % 4}, bias: {str(i % 2 == 0).lower()}}}",
            f"  - {{name: l{i + 1}, type: batch_norm, epsilon: {1e-3 + i * 1e-9:.9f}}}",
            f"  - {{name: l{i + 2}, type: leaky_relu, alpha: {0.1 + i * 1e-6:.6f}}}",
            f"  - {{name: l{i + 3}, type: add, inputs: [l{i + 2}, l{i - 1}]}}",
        ]
        lines += block[: layers - i]
        i += len(block)
    return "\n".join(lines) + "\n"


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from specc import schema
    from specc.api import analyze
    from specc.loader import load_text
    from specc.passes.build import build
    from specc.passes.shapes import infer

    text = make_spec(args.layers)
    loaded = load_text(text, "deep.yaml")
    assert not loaded.diagnostics, loaded.diagnostics

    def validate_cold() -> None:
        schema._cached_errors.cache_clear()
        schema.validate(loaded.data, loaded.source)

    built = build(loaded.data, loaded.source)  # type: ignore[arg-type]
    assert built.model is not None
    stages = {
        "load (YAML + positions)": lambda: load_text(text, "deep.yaml"),
        "validate (JSON Schema, cold cache)": validate_cold,
        "build (names, IR)": lambda: build(loaded.data, loaded.source),  # type: ignore[arg-type]
        "infer (shapes, params)": lambda: infer(built.model),  # type: ignore[arg-type]
        "whole pipeline (cold cache)": lambda: (
            schema._cached_errors.cache_clear(),
            analyze(load_text(text, "d"), "d"),
        ),
    }
    print(f"{args.layers}-layer spec, {len(text.splitlines())} lines; best of {args.repeat}")
    for name, fn in stages.items():
        print(f"  {name:<36} {best(fn, args.repeat) * 1000:8.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deep.yaml"
        path.write_text(text)
        command = [sys.executable, "-m", "specc", "check", str(path)]
        result = subprocess.run(command, capture_output=True, text=True, env=user_env(), cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr
        wall = best(
            lambda: subprocess.run(command, capture_output=True, env=user_env(), cwd=ROOT),
            args.repeat,
        )
        print(f"  {'specc check (new process, total)':<36} {wall * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
