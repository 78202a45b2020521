"""Whole networks: specc's NumPy executor against PyTorch, and a run's peak memory against the plan.

    python benchmarks/bench_networks.py               # every network, batch 1 and 8
    python benchmarks/bench_networks.py --quick       # fewer repeats
    python benchmarks/bench_networks.py --rounds 3    # alternate the libraries' blocks 3 times
    python benchmarks/bench_networks.py --memory resnet18 8   # one memory measurement (a child)

Each library is timed in its own block of runs (never alternating call by call), PyTorch on
2 threads with OMP_WAIT_POLICY=PASSIVE set before it is imported: on a 2-core machine the
spinning idle threads of one library otherwise starve the other. PyTorch is optional.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = ("resnet18", "mobilenet_v2")
BATCHES = (1, 8)


def best_of(fn: Callable[[], object], repeats: int, warmup: int = 1) -> tuple[float, float]:
    """(median, min) seconds of `repeats` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def gemm_rate(n: int = 2048, repeats: int = 5) -> float:
    """float32 GFLOP/s of one n x n matmul (NumPy's BLAS)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    out = np.empty_like(a)
    _, fastest = best_of(lambda: np.matmul(a, a, out=out), repeats)
    return 2 * n**3 / fastest / 1e9


# -- specc ------------------------------------------------------------------------------------


def specc_block(repeats: int) -> dict[tuple[str, int], dict[str, float]]:
    from specc.api import compile

    results = {}
    for name in NETWORKS:
        for batch in BATCHES:
            plan = compile(ROOT / "examples" / f"{name}.yaml", batch=batch)
            executable = plan.bind(seed=0)
            data = plan.inputs(seed=0).arrays
            median, fastest = best_of(lambda e=executable, d=data: e.run(d), repeats)
            flops = sum(s.flops for s in plan.steps)
            results[(name, batch)] = {
                "median": median,
                "min": fastest,
                "gflops": flops / 1e9,
                "peak": plan.memory.peak,
            }
            print(
                f"  specc  {name:<13} batch {batch}: {median * 1e3:8.1f} ms "
                f"(min {fastest * 1e3:.1f})",
                flush=True,
            )
    return results


# -- PyTorch ----------------------------------------------------------------------------------


def torch_forward(
    model: Any, weights: Mapping[str, NDArray], inputs: Mapping[str, NDArray], dtype: Any
) -> dict[str, NDArray]:
    """Run a spec's model with torch.nn.functional on the same (Keras-layout) weights.

    Tensors of rank 3 or more are kept channels-first inside, as PyTorch expects; outputs
    come back channels-last. Covers the layers of the example networks.
    """
    import torch

    params = torch_params(model, weights, dtype)
    env = {k: _to_torch(v, dtype) for k, v in inputs.items()}
    for layer in model.layers:
        env[layer.name] = _torch_layer(layer.name, layer.op, [env[n] for n in layer.inputs], params)
    out = {}
    for name in model.outputs:
        t = env[name]
        if t.ndim > 2:
            t = t.movedim(1, -1)
        out[name] = t.contiguous().numpy()
    del torch
    return out


def _to_torch(x: NDArray, dtype: Any) -> Any:
    import torch

    t = torch.from_numpy(np.ascontiguousarray(x)).to(dtype)
    return t.movedim(-1, 1).contiguous() if t.ndim > 2 else t


def torch_params(model: Any, weights: Mapping[str, NDArray], dtype: Any) -> dict[str, Any]:
    """Keras layouts moved to PyTorch's: conv (F, C/g, *k), depthwise (C*M, 1, *k), dense (U, C)."""
    import torch

    out: dict[str, Any] = {}
    types = {layer.name: layer.op.type for layer in model.layers}
    for key, value in weights.items():
        layer, param = key.rsplit(".", 1)
        t = torch.from_numpy(np.ascontiguousarray(value)).to(dtype)
        if param == "kernel":
            kind = types[layer]
            if kind == "dense":
                t = t.T
            elif kind == "depthwise_conv2d":
                c, m = t.shape[-2:]
                t = t.reshape(*t.shape[:-2], c * m).movedim(-1, 0).unsqueeze(1)
            else:
                rank = t.ndim - 2
                t = t.permute(rank + 1, rank, *range(rank))
            t = t.contiguous()
        out[key] = t
    return out


def _torch_pads(op: Any, spatial: tuple[int, ...]) -> list[int]:
    """F.pad's list (last axis first) for the op's padding at these sizes."""
    from specc.ops.window import same_pads

    padding = op.pads
    if padding == "same":
        padding = tuple(
            same_pads(n, k, s, d)
            for n, k, s, d in zip(spatial, op.kernel_size, op.strides, op.dilations, strict=True)
        )
    flat: list[int] = []
    for a, z in reversed(padding):
        flat += [a, z]
    return flat


def _torch_layer(name: str, op: Any, xs: list[Any], p: Mapping[str, Any]) -> Any:
    import torch
    import torch.nn.functional as F

    kind, x = op.type, xs[0]
    if kind in ("conv1d", "conv2d", "conv3d", "depthwise_conv2d"):
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(op.kernel_size)]
        x = F.pad(x, _torch_pads(op, tuple(x.shape[2:])))
        groups = x.shape[1] if kind == "depthwise_conv2d" else op.groups
        y = conv(x, p[f"{name}.kernel"], p.get(f"{name}.bias"), op.strides, 0, op.dilations, groups)
    elif kind == "dense":
        moved = x.movedim(1, -1) if x.ndim > 2 else x
        y = F.linear(moved, p[f"{name}.kernel"], p.get(f"{name}.bias"))
        y = y.movedim(-1, 1) if x.ndim > 2 else y
    elif kind == "batch_norm":
        return F.batch_norm(
            x,
            p[f"{name}.moving_mean"],
            p[f"{name}.moving_variance"],
            p.get(f"{name}.gamma"),
            p.get(f"{name}.beta"),
            False,
            0.0,
            op.epsilon,
        )
    elif kind in ("max_pool2d", "avg_pool2d"):
        pads = _torch_pads(op, tuple(x.shape[2:]))
        if kind == "max_pool2d":
            return F.max_pool2d(F.pad(x, pads, value=-float("inf")), op.kernel_size, op.strides)
        if any(pads):
            raise NotImplementedError("padded average pooling")
        return F.avg_pool2d(x, op.kernel_size, op.strides)
    elif kind == "zero_pad2d":
        return F.pad(x, [v for a, z in reversed(op.pairs) for v in (a, z)])
    elif kind == "global_avg_pool":
        return x.mean(dim=tuple(range(2, x.ndim)))
    elif kind == "global_max_pool":
        return x.amax(dim=tuple(range(2, x.ndim)))
    elif kind == "add":
        return sum(xs[1:], xs[0])
    elif kind == "concat":
        axis = 1 if op.axis % (x.ndim - 1) == x.ndim - 2 else op.axis % (x.ndim - 1) + 2
        return torch.cat(xs, dim=axis)
    elif kind == "dropout":
        return x
    elif kind in ("relu", "relu6", "softmax", "sigmoid", "tanh"):
        return _torch_activation(x, kind)
    else:
        raise NotImplementedError(kind)
    act = getattr(op, "activation", None)
    return y if act is None else _torch_activation(y, act)


def _torch_activation(x: Any, name: str) -> Any:
    import torch
    import torch.nn.functional as F

    if name == "softmax":
        return F.softmax(x, dim=1 if x.ndim > 2 else -1)
    return {"relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[name](x)


def torch_block(repeats: int) -> dict[tuple[str, int], dict[str, float]]:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        import torch
    except ImportError:
        print("  PyTorch is not installed: no comparison")
        return {}
    from specc.api import compile

    torch.set_num_threads(2)
    results = {}
    for name in NETWORKS:
        for batch in BATCHES:
            plan = compile(ROOT / "examples" / f"{name}.yaml", batch=batch)
            weights = plan.init_weights(seed=0)
            data = plan.inputs(seed=0).arrays
            params = torch_params(plan.model, weights, torch.float32)
            inputs = {k: _to_torch(v, torch.float32) for k, v in data.items()}
            model = plan.model

            def forward(model: Any = model, params: Any = params, inputs: Any = inputs) -> None:
                with torch.inference_mode():
                    env = dict(inputs)
                    for layer in model.layers:
                        env[layer.name] = _torch_layer(
                            layer.name, layer.op, [env[n] for n in layer.inputs], params
                        )

            median, fastest = best_of(forward, repeats)
            results[(name, batch)] = {"median": median, "min": fastest}
            print(
                f"  torch  {name:<13} batch {batch}: {median * 1e3:8.1f} ms "
                f"(min {fastest * 1e3:.1f})",
                flush=True,
            )
    return results


# -- memory -----------------------------------------------------------------------------------


def measure_memory(name: str, batch: int) -> dict[str, int]:
    """In this process: the traced peak of binding weights and running, vs the plan's peak."""
    import gc
    import tracemalloc

    from specc.api import compile

    plan = compile(ROOT / "examples" / f"{name}.yaml", batch=batch)
    program = plan.program()
    rss_before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # resets VmHWM, the peak resident size
        f.write("5")
    tracemalloc.start()
    data = plan.inputs(seed=0).arrays
    weights = plan.init_weights(seed=0)
    executable = program.bind(weights)
    del weights
    gc.collect()
    tracemalloc.reset_peak()
    outputs = executable.run(data)
    executable.run(data)
    peak = tracemalloc.get_traced_memory()[1]
    del outputs
    rss_after = _status("VmHWM")
    return {
        "plan_peak": program.memory.peak,
        "traced_peak": peak,
        "maxrss_growth": rss_after - rss_before,
    }


def _status(field: str) -> int:
    """A size in bytes from /proc/self/status (VmRSS: resident now, VmHWM: resident at peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def memory_block() -> dict[tuple[str, int], dict[str, int]]:
    results = {}
    for name in NETWORKS:
        for batch in BATCHES:
            out = subprocess.run(
                [sys.executable, __file__, "--memory", name, str(batch)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            m = json.loads(out.stdout.strip().splitlines()[-1])
            results[(name, batch)] = m
            ratio = m["traced_peak"] / m["plan_peak"]
            print(
                f"  memory {name:<13} batch {batch}: plan peak {m['plan_peak'] / 2**20:7.1f} MiB, "
                f"run peak (traced) {m['traced_peak'] / 2**20:7.1f} MiB ({ratio:.2f}x), "
                f"resident growth {m['maxrss_growth'] / 2**20:7.1f} MiB",
                flush=True,
            )
    return results


def _calmest(
    rounds: list[dict[tuple[str, int], dict[str, float]]],
) -> dict[tuple[str, int], dict[str, float]]:
    """Per network, the round with the lowest median (the least disturbed block)."""
    best: dict[tuple[str, int], dict[str, float]] = {}
    for results in rounds:
        for key, r in results.items():
            if key not in best or r["median"] < best[key]["median"]:
                best[key] = r
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed runs instead of 10")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternate the two libraries' blocks this often"
    )
    parser.add_argument("--memory", nargs=2, metavar=("NETWORK", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.memory:
        print(json.dumps(measure_memory(args.memory[0], int(args.memory[1]))))
        return
    repeats = 3 if args.quick else 10
    print(f"float32 GEMM (2048^3, NumPy BLAS): {gemm_rate():.0f} GFLOP/s")
    rounds = []
    for r in range(1, args.rounds + 1):
        # Whole blocks alternate, so that both libraries meet the same background load.
        print(f"round {r}, specc (NumPy):")
        ours = specc_block(repeats)
        print(f"round {r}, PyTorch (2 threads, OMP_WAIT_POLICY=PASSIVE):")
        rounds.append((ours, torch_block(repeats)))
    ours = _calmest([o for o, _ in rounds])
    theirs = _calmest([t for _, t in rounds])
    print("peak memory of a run (each in a fresh process):")
    memory_block()
    print()
    print(
        "| network | batch | GFLOP | specc ms (min) | GFLOP/s "
        "| PyTorch ms (min) | specc / PyTorch |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key, r in ours.items():
        t = theirs.get(key)
        torch_ms = f"{t['median'] * 1e3:.1f} ({t['min'] * 1e3:.1f})" if t else "-"
        ratio = f"{r['median'] / t['median']:.2f}x ({r['min'] / t['min']:.2f}x)" if t else "-"
        rate = r["gflops"] / r["min"]
        print(
            f"| {key[0]} | {key[1]} | {r['gflops']:.2f} | {r['median'] * 1e3:.1f} "
            f"({r['min'] * 1e3:.1f}) | {rate:.0f} "
            f"| {torch_ms} | {ratio} |"
        )


if __name__ == "__main__":
    main()
