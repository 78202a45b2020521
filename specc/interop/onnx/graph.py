"""The ONNX graph under construction: nodes, initializers, and the layout of every value.

Specs are channels-last; ONNX's convolutions and pools are channels-first. Each value of the
graph carries its layout, and a family's exporter asks for its inputs in the layout it needs
(`Graph.value(name, FIRST)`); the graph inserts a Transpose where the layouts differ, once per
value, so that runs of channels-first layers need none between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from specc.dims import Dim, format_dim

Layout = Literal["last", "first", "any"]
LAST: Layout = "last"  # (N, *spatial, C): the spec's layout
FIRST: Layout = "first"  # (N, C, *spatial): ONNX's Conv, Pool, BatchNormalization, Resize...
ANY: Layout = "any"  # whatever the value has (element-wise work)


def to_first(rank: int) -> tuple[int, ...]:
    """The Transpose perm from channels-last to channels-first, for a rank with the batch."""
    return (0, rank - 1, *range(1, rank - 1))


def to_last(rank: int) -> tuple[int, ...]:
    """The Transpose perm from channels-first to channels-last."""
    return (0, *range(2, rank), 1)


@dataclass(frozen=True)
class Tensor:
    """A value of the graph: its name, layout and per-sample shape in the spec's layout."""

    name: str
    layout: Layout
    shape: tuple[Dim, ...]  # channels last, without the batch axis

    @property
    def rank(self) -> int:
        """With the batch axis."""
        return len(self.shape) + 1


class Graph:
    """Nodes and initializers in order, with unique names and layout conversions."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.value_info: list[Any] = []
        self._names: set[str] = set()
        self.claimed: set[str] = set()  # the spec's names: inputs and layers
        self._converted: dict[tuple[str, Layout], str] = {}

    # -- names ------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        """A value name not used yet, made from `hint`."""
        name, i = hint, 1
        while name in self._names:
            i += 1
            name = f"{hint}_{i}"
        self._names.add(name)
        return name

    def claim(self, name: str) -> str:
        """Reserve an exact name (a spec input, layer or output name)."""
        assert name not in self._names, name
        self._names.add(name)
        self.claimed.add(name)
        return name

    # -- building ---------------------------------------------------------------------------
    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        hint: str,
        *,
        out: str | None = None,
        outputs: int = 1,
        **attrs: Any,
    ) -> str:
        """Add a node; its (first) output is `out`, or a fresh name made from `hint`."""
        from onnx import helper

        names = [self.fresh(f"{hint}/{op_type}") for _ in range(outputs)]
        if out:
            names[0] = out
        node = helper.make_node(op_type, list(inputs), names, name=self.fresh(f"{hint}/{op_type}#"))
        for key, value in attrs.items():
            if value is not None:
                node.attribute.append(helper.make_attribute(key, value))
        self.nodes.append(node)
        return names[0]

    def const(self, array: NDArray, hint: str) -> str:
        """An initializer holding `array` (its dtype kept)."""
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values: Sequence[int], hint: str) -> str:
        """An int64 vector constant (shapes, axes, pads)."""
        return self.const(np.asarray(values, np.int64), hint)

    def floats(self, value: float, dtype: np.dtype, hint: str) -> str:
        """A scalar constant of the graph's float type."""
        return self.const(np.asarray(value, dtype), hint)

    # -- layouts ----------------------------------------------------------------------------
    def value(self, t: Tensor, layout: Layout) -> str:
        """The name of `t` in `layout` (ANY: as it is), transposing it once if needed."""
        if layout == ANY or layout == t.layout or t.rank <= 2:
            return t.name
        key = (t.name, layout)
        if key not in self._converted:
            perm = to_first(t.rank) if layout == FIRST else to_last(t.rank)
            self._converted[key] = self.node("Transpose", [t.name], t.name, perm=list(perm))
        return self._converted[key]

    def annotate(self, t: Tensor, elem_type: int) -> None:
        """Record the value's shape (batch `N`, symbols as dim_params) for tools to show."""
        from onnx import helper

        self.value_info.append(helper.make_tensor_value_info(t.name, elem_type, onnx_shape(t)))


def onnx_shape(t: Tensor) -> list[int | str]:
    """The full shape of a value in its layout: `N` first, symbolic dims as their text."""
    dims: list[Dim] = list(t.shape)
    if t.layout == FIRST and len(dims) > 1:
        dims = [dims[-1], *dims[:-1]]
    return ["N", *(d if isinstance(d, int) else format_dim(d) for d in dims)]
