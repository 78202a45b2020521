"""Time the executor's convolution kernels layer by layer against the GEMM rate and PyTorch.

Run from the repository root:

    python benchmarks/bench_layers.py [--batch 1 8] [--rounds 3] [--repeat 5] [--only NAME]
                                      [--no-torch]

In one process, for every layer at each batch size, three adjacent blocks of calls: a 2048^3
float32 matmul (the GEMM rate beside the layer), specc's kernel, and, where PyTorch is
importable, torch.nn.functional on 2 threads. Each block is a warm-up then timed repeats, and
libraries are never interleaved call by call: on 2 cores one library's spinning idle threads
would starve the other's (OMP_WAIT_POLICY=PASSIVE is set before torch is imported for the same
reason). The passes over all layers repeat `--rounds` times and every figure is the best.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from specc.lower.gemm import conv
from specc.lower.ops.conv import depthwise_conv
from specc.ops.window import same_pads

Pads = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Layer:
    """One convolution: input (H, W, C), kernel, filters, stride, padding; depthwise if `depth`."""

    name: str
    size: tuple[int, int, int]
    kernel: int
    filters: int
    stride: int = 1
    padding: str = "same"
    depth: bool = False

    def pads(self) -> Pads:
        h, w, _ = self.size
        if self.padding == "valid":
            return ((0, 0), (0, 0))
        return tuple(same_pads(n, self.kernel, self.stride, 1) for n in (h, w))  # type: ignore[return-value]

    def out(self) -> tuple[int, int]:
        (a, b), (c, d) = self.pads()
        h, w, _ = self.size
        k, s = self.kernel, self.stride
        return (h + a + b - k) // s + 1, (w + c + d - k) // s + 1

    def flops(self, batch: int) -> int:
        cin = 1 if self.depth else self.size[2]
        return 2 * batch * prod(self.out()) * self.kernel**2 * cin * self.filters


LAYERS = [
    Layer("resnet stem 7x7/2", (224, 224, 3), 7, 64, 2),
    Layer("resnet 3x3 56x56x64", (56, 56, 64), 3, 64),
    Layer("resnet 3x3/2 56->28 x128", (56, 56, 64), 3, 128, 2),
    Layer("resnet 1x1/2 56->28 x128", (56, 56, 64), 1, 128, 2),
    Layer("resnet 3x3 28x28x128", (28, 28, 128), 3, 128),
    Layer("resnet 3x3/2 28->14 x256", (28, 28, 128), 3, 256, 2),
    Layer("resnet 1x1/2 28->14 x256", (28, 28, 128), 1, 256, 2),
    Layer("resnet 3x3 14x14x256", (14, 14, 256), 3, 256),
    Layer("resnet 3x3/2 14->7 x512", (14, 14, 256), 3, 512, 2),
    Layer("resnet 1x1/2 14->7 x512", (14, 14, 256), 1, 512, 2),
    Layer("resnet 3x3 7x7x512", (7, 7, 512), 3, 512),
    Layer("pointwise 1x1 56x56 64->256", (56, 56, 64), 1, 256),
    Layer("11x11 x8 on 101x101x1", (101, 101, 1), 11, 8, padding="valid"),
    Layer("7x7 x16 on 91x91x8", (91, 91, 8), 7, 16, padding="valid"),
    Layer("depthwise 3x3 112x112x32", (112, 112, 32), 3, 32, depth=True),
]


def best_time(fn: Callable[[], Any], repeat: int, budget: float = 0.5) -> float:
    """The best of `repeat` timed calls after a warm-up (fewer calls when each is slow)."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeat and (len(times) < 2 or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


@functools.cache
def _square(n: int = 2048) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), np.float32) for _ in range(2))
    return a, b, np.empty((n, n), np.float32)


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads)


def gemm_rate(repeat: int, threads: int = 1) -> float:
    """Float32 GFLOP/s of a 2048^3 matrix product through NumPy's matmul.

    With `threads` > 1 the rows are split among that many Python threads, as the kernels do
    with their `threads` option (meant for OPENBLAS_NUM_THREADS=1).
    """
    a, b, c = _square()
    rows = [slice(len(a) * i // threads, len(a) * (i + 1) // threads) for i in range(threads)]
    pool = _pool(threads)

    def product() -> None:
        list(pool.map(lambda r: np.matmul(a[r], b, out=c[r]), rows))

    return 2 * a.shape[0] ** 3 / best_time(product, repeat, 0) / 1e9


def numpy_call(layer: Layer, batch: int, threads: int = 1) -> Callable[[], Any]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *layer.size), np.float32)
    stride, one = (layer.stride,) * 2, (1, 1)
    k, c = layer.kernel, layer.size[2]
    if layer.depth:
        wd = rng.standard_normal((k, k, c, layer.filters // c), np.float32)
        return lambda: depthwise_conv(
            x, wd, stride=stride, dilation=one, pads=layer.pads(), threads=threads
        )
    w = rng.standard_normal((k, k, c, layer.filters), np.float32)
    return lambda: conv(x, w, stride=stride, dilation=one, pads=layer.pads(), threads=threads)


def torch_call(torch: Any, layer: Layer, batch: int) -> Callable[[], Any]:
    f = torch.nn.functional
    h, w_, c = layer.size
    x = torch.randn(batch, c, h, w_)
    (a, b), (cc, d) = layer.pads()
    if (a, cc) != (b, d):  # TF's odd 'same' padding: the extra pixel goes after
        x = f.pad(x, (cc, d, a, b))
        a = cc = 0
    groups = c if layer.depth else 1
    w = torch.randn(layer.filters, c // groups, layer.kernel, layer.kernel)

    def call() -> Any:
        with torch.inference_mode():
            return f.conv2d(x, w, stride=layer.stride, padding=(a, cc), groups=groups)

    return call


def load_torch(enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per block (best kept)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over all layers (best kept)")
    parser.add_argument("--only", default="", help="run layers whose name contains this")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument(
        "--threads", type=int, default=1, help="the kernels' threads (with OPENBLAS_NUM_THREADS=1)"
    )
    args = parser.parse_args()
    torch = load_torch(not args.no_torch)
    cases = [(layer, n) for layer in LAYERS if args.only in layer.name for n in args.batch]
    gemm, mine, theirs = (dict.fromkeys(cases, math.inf) for _ in range(3))
    # Other jobs share the two cores, so every figure is the best over several passes, and each
    # layer's GEMM rate is measured right beside it: a fraction or a ratio then compares
    # moments of the same load.
    for _ in range(args.rounds):
        for case in cases:
            gemm[case] = min(gemm[case], 1 / gemm_rate(2, args.threads))
            mine[case] = min(mine[case], best_time(numpy_call(*case, args.threads), args.repeat))
            if torch:
                theirs[case] = min(theirs[case], best_time(torch_call(torch, *case), args.repeat))
    peak = max(1 / g for g in gemm.values())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}", end="")
    print(f"; torch {torch.__version__} on 2 threads" if torch else "; without torch")
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"OPENBLAS_NUM_THREADS={blas}; kernels' threads: {args.threads}")
    print(f"float32 GEMM rate (2048^3 matmul, best of the run): {peak:.0f} GFLOP/s")
    print("'GEMM' is the rate measured beside each layer; 'of GEMM' the layer's share of it\n")
    head = f"{'layer':<30}{'N':>3}{'specc ms':>10}{'GFLOP/s':>9}{'GEMM':>6}{'of GEMM':>9}"
    print(head + (f"{'torch ms':>10}{'ratio':>7}" if torch else ""))
    for case in cases:
        layer, batch = case
        t, near = mine[case], 1 / gemm[case]
        rate = layer.flops(batch) / t / 1e9
        row = (
            f"{layer.name:<30}{batch:>3}{t * 1e3:>10.2f}{rate:>9.1f}{near:>6.0f}{rate / near:>9.0%}"
        )
        if torch:
            row += f"{theirs[case] * 1e3:>10.2f}{t / theirs[case]:>7.2f}"
        print(row)


if __name__ == "__main__":
    main()
