"""Bridges to other engines: ONNX export time, and onnxruntime against the NumPy engine.

    python benchmarks/bench_interop.py              # ResNet-50 export and import, ResNet-18 on both
    python benchmarks/bench_interop.py --quick      # fewer repeats

ResNet-50 is written here as a spec (Keras's ResNet50 layout: biased convolutions, then batch
norm), so that its parameter count can be checked against Keras's 25,636,712 before timing.
Both engines run in one process, one block of runs after the other, on the same input and
weights; compare their ratio, not the absolute times (the machines are shared).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KERAS_RESNET50_TOTAL = 25_636_712


def resnet50_spec() -> str:
    """ResNet-50 v1 (Keras's ResNet50: stride on the first 1x1 of a stage), 224x224x3, with top."""
    lines = [
        "specc: 1",
        "name: resnet50",
        "inputs: {image: [224, 224, 3]}",
        "layers:",
        "  - {name: pad1, type: zero_pad2d, padding: 3}",
        "  - {name: conv1, type: conv2d, filters: 64, kernel: 7, stride: 2}",
        "  - {name: bn1, type: batch_norm, epsilon: 1.001e-5}",
        "  - {name: relu1, type: relu}",
        "  - {name: pad2, type: zero_pad2d, padding: 1}",
        "  - {name: pool1, type: max_pool2d, pool: 3, stride: 2}",
    ]
    x = "pool1"
    for stage, (filters, blocks, stride) in enumerate(
        [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=2
    ):
        for block in range(blocks):
            s = stride if block == 0 else 1
            p = f"s{stage}b{block}"
            if block == 0:
                lines += [
                    f"  - {{name: {p}_short, type: conv2d, filters: {4 * filters}, kernel: 1, "
                    f"stride: {s}, inputs: {x}}}",
                    f"  - {{name: {p}_short_bn, type: batch_norm, epsilon: 1.001e-5}}",
                ]
                short = f"{p}_short_bn"
            else:
                short = x
            lines += [
                f"  - {{name: {p}_1, type: conv2d, filters: {filters}, kernel: 1, stride: {s}, "
                f"inputs: {x}}}",
                f"  - {{name: {p}_1_bn, type: batch_norm, epsilon: 1.001e-5}}",
                f"  - {{name: {p}_1_relu, type: relu}}",
                f"  - {{name: {p}_2, type: conv2d, filters: {filters}, kernel: 3, padding: same}}",
                f"  - {{name: {p}_2_bn, type: batch_norm, epsilon: 1.001e-5}}",
                f"  - {{name: {p}_2_relu, type: relu}}",
                f"  - {{name: {p}_3, type: conv2d, filters: {4 * filters}, kernel: 1}}",
                f"  - {{name: {p}_3_bn, type: batch_norm, epsilon: 1.001e-5}}",
                f"  - {{name: {p}_add, type: add, inputs: [{short}, {p}_3_bn]}}",
                f"  - {{name: {p}_out, type: relu}}",
            ]
            x = f"{p}_out"
    lines += [
        "  - {name: avg_pool, type: global_avg_pool}",
        "  - {name: predictions, type: dense, units: 1000, activation: softmax}",
    ]
    return "\n".join(lines) + "\n"


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, min) seconds of `repeats` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def export_resnet50(repeats: int) -> None:
    from specc.api import check_text
    from specc.interop.onnx import export_model
    from specc.lower import Plan
    from specc.report.summary import summarize

    text = resnet50_spec()
    checked = check_text(text, "resnet50.yaml")
    assert checked.ok and checked.shapes is not None, checked.diagnostics
    total = summarize(checked.shapes).params
    assert total == KERAS_RESNET50_TOTAL, total
    weights = Plan(checked, max_memory=None).weights(None, seed=0)

    def export() -> bytes:
        return bytes(export_model(checked.shapes, weights).SerializeToString())

    size = len(export())
    median, best = timed(export, repeats)
    print(f"export ResNet-50 to ONNX ({total:,} parameters, {size / 2**20:.1f} MiB): "
          f"median {median:.3f} s, best {best:.3f} s")  # fmt: skip

    def whole() -> None:  # what `specc export` does: check, weights, export, serialise
        c = check_text(text, "resnet50.yaml")
        assert c.shapes is not None
        export_model(c.shapes, Plan(c, max_memory=None).weights(None, seed=0)).SerializeToString()

    median, best = timed(whole, repeats)
    print(f"  with checking and seeded weights: median {median:.3f} s, best {best:.3f} s")


def import_resnet50(repeats: int) -> None:
    """`specc import` of the exported ResNet-50 (about 100 MB): read, fold, match, walk, check,
    write the spec's text and the weights in Keras layouts (the .npz is not written here)."""
    import tempfile

    from specc.api import check_text
    from specc.interop.importing import import_model
    from specc.interop.onnx import export_model
    from specc.lower import Plan

    checked = check_text(resnet50_spec(), "resnet50.yaml")
    assert checked.shapes is not None
    weights = Plan(checked, max_memory=None).weights(None, seed=0)
    data = export_model(checked.shapes, weights).SerializeToString()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet50.onnx"
        path.write_bytes(data)
        done = import_model(path)
        total = sum(a.size for a in done.weights.values())
        median, best = timed(lambda: import_model(path), repeats)
    print(f"import ResNet-50 from ONNX ({len(data) / 1e6:.0f} MB, {total:,} weights): "
          f"median {median:.3f} s, best {best:.3f} s")  # fmt: skip


def engines(batch: int, repeats: int) -> None:
    import onnxruntime as ort

    import specc
    from specc.api import check_file
    from specc.interop.onnx import export_model

    path = ROOT / "examples" / "resnet18.yaml"
    plan = specc.compile(path, batch=batch)
    data = plan.inputs(seed=0)
    prepared = plan.prepare(data.arrays, None)
    checked = check_file(path)
    assert checked.shapes is not None
    model = export_model(checked.shapes, prepared.weights)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feed = {"image": data.arrays["image"]}
    numpy_median, numpy_best = timed(prepared.run, repeats)
    ort_median, ort_best = timed(lambda: session.run(None, feed), repeats)
    (y,) = session.run(None, feed)
    err = float(np.abs(y - prepared.run()["fc"]).max())
    print(
        f"ResNet-18 batch {batch}: numpy median {numpy_median * 1e3:.1f} ms (best "
        f"{numpy_best * 1e3:.1f}), onnxruntime median {ort_median * 1e3:.1f} ms (best "
        f"{ort_best * 1e3:.1f}); numpy / onnxruntime = {numpy_median / ort_median:.2f}; "
        f"max difference {err:.2e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    export_resnet50(repeats)
    import_resnet50(repeats)
    for batch in (1, 8):
        engines(batch, repeats)


if __name__ == "__main__":
    main()
