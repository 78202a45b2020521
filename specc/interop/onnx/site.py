"""What an ONNX exporter of one layer sees, and the table of exporters by op class."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from specc.interop.layouts import to_torch
from specc.interop.onnx.graph import Graph, Layout, Tensor
from specc.ir import TensorType, weight_key
from specc.ops.base import Op, Param
from specc.ops.parts import Parts


class ExportError(Exception):
    """A spec the target cannot express; the message names the layer and what is missing."""


@dataclass(frozen=True)
class Site:
    """One layer being exported: its op, input values, output type, parameters and weights.

    `name` is the spec layer's name: it keys the weights and names the nodes. A wrapper's
    inner layer is exported at a site of its own (`inner`), with the wrapper's name.
    """

    graph: Graph
    name: str
    op: Op
    inputs: tuple[Tensor, ...]
    output: TensorType
    params: Mapping[str, Param]
    weights: Mapping[str, NDArray]
    dtype: np.dtype

    def weight(self, param: str, layout: str = "keras") -> str:
        """An initializer holding the parameter in the spec's layout, or PyTorch's ("torch")."""
        array = np.asarray(self.weights[weight_key(self.name, param)], self.dtype)
        if layout == "torch":
            array = to_torch(array, self.params[param])
        return self.graph.const(array, weight_key(self.name, param))

    def has(self, param: str) -> bool:
        return param in self.params

    def value(self, i: int, layout: Layout) -> str:
        """Input `i` in `layout`."""
        return self.graph.value(self.inputs[i], layout)

    def out(self, name: str, layout: Layout) -> Tensor:
        """The layer's result: the value `name`, in `layout`, of the inferred output shape."""
        return Tensor(name, layout, self.output.shape)

    def inner(self, op: Op, inputs: tuple[Tensor, ...], output: TensorType) -> Tensor:
        """Export `op` (a wrapper's inner layer) on `inputs`, with this layer's weights."""
        site = Site(
            self.graph, self.name, op, inputs, output, self.params, self.weights, self.dtype
        )
        return export_site(site)


Exporter = Callable[[Site], Tensor]
EXPORTS: Parts[Exporter] = Parts("ONNX export", "specc.interop.onnx")


def export_site(site: Site) -> Tensor:
    """The value computing the site's layer, after adding its nodes."""
    exporter = EXPORTS.find(type(site.op))
    if exporter is None:
        raise ExportError(f"{site.name}: ONNX export has no mapping for {site.op.type}")
    return exporter(site)
