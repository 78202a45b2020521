"""Running a spec on onnxruntime: exported in memory, then fed the same arrays as `specc run`."""

from __future__ import annotations

from collections.abc import Mapping

from numpy.typing import NDArray

from specc.interop.onnx.export import export_model
from specc.passes.shapes import Shapes


class OnnxRuntime:
    """A spec with its weights as an onnxruntime session; `run` takes and gives the arrays that
    the NumPy engine does (channels last, keyed by the spec's input and output names)."""

    def __init__(self, shapes: Shapes, weights: Mapping[str, NDArray], threads: int = 0) -> None:
        import onnxruntime as ort

        model = export_model(shapes, weights)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: onnxruntime's choice (every core)
        options.log_severity_level = 3  # warnings about unused initializers are not the user's
        self.session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, inputs: Mapping[str, NDArray]) -> dict[str, NDArray]:
        arrays = self.session.run(None, dict(inputs))
        return dict(zip(self.outputs, arrays, strict=True))
