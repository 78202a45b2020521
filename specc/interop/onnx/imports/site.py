"""What an ONNX importer of one operator sees, and the table of importers by operator type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from specc.interop.onnx.layout import Const, Perm, Val, first, identity, permute_dims
from specc.interop.onnx.reader import ImportFailed, Node

if TYPE_CHECKING:
    from specc.interop.onnx.importer import Builder

WeightLayout = Literal["keras", "torch"]


class Unsupported(ImportFailed):
    """One operator (or one use of it) that the spec cannot express."""


@dataclass
class Emitted:
    """A layer the importer wrote: its spec type, attributes, inputs and weights."""

    name: str
    type: str
    attrs: dict[str, Any]
    inputs: tuple[str, ...]
    weights: dict[str, tuple[NDArray, WeightLayout]] = field(default_factory=dict)


@dataclass(frozen=True)
class Site:
    """One ONNX node being imported, with the builder that holds the spec so far."""

    b: Builder
    node: Node

    # -- inputs -------------------------------------------------------------------------------
    def const(self, i: int) -> NDArray | None:
        """Input `i` when it is a constant (None when absent or computed)."""
        if i >= len(self.node.inputs) or not self.node.inputs[i]:
            return None
        v = self.b.values.get(self.node.inputs[i])
        return v.array if isinstance(v, Const) else None

    def val(self, i: int = 0) -> Val:
        """Input `i`, a value the model computes."""
        v = self.b.values.get(self.node.inputs[i])
        if not isinstance(v, Val):
            raise self.unsupported("with a constant where the spec needs a computed value")
        return v

    def has(self, i: int) -> bool:
        return i < len(self.node.inputs) and bool(self.node.inputs[i])

    def as_perm(self, v: Val, perm: Perm, hint: str | None = "permute") -> Val:
        """`v` with its spec value seen through `perm`, adding a permute layer if needed."""
        if v.flat is not None:
            v = self.b.unflatten(v, self.node)
        if v.perm == perm:
            return v
        dims = permute_dims(v.perm, perm)
        if dims == tuple(range(1, len(dims) + 1)):
            return Val(v.ref, v.shape, perm, nonneg=v.nonneg)
        out = self.emit("permute", [v], {"dims": dims}, perm, hint=hint)
        return Val(out.ref, out.shape, perm, nonneg=v.nonneg)

    def first(self, i: int = 0) -> Val:
        """Input `i` as ONNX's (N, C, *spatial), the spec value channels last."""
        v = self.val(i)
        return self.as_perm(v, first(v.rank))

    def plain(self, i: int = 0) -> Val:
        """Input `i` with the spec's axes in ONNX's order (no permutation)."""
        v = self.val(i)
        return self.as_perm(v, identity(v.rank))

    # -- outputs ------------------------------------------------------------------------------
    def emit(
        self,
        type_: str,
        inputs: list[Val],
        attrs: Mapping[str, Any],
        perm: Perm | None = None,
        weights: Mapping[str, tuple[NDArray, WeightLayout]] | None = None,
        hint: str | None = None,
        nonneg: bool = False,
    ) -> Val:
        """Add a spec layer; its output seen through `perm` (default: as its first input)."""
        return self.b.emit(
            self, type_, inputs, dict(attrs), perm, dict(weights or {}), hint, nonneg
        )

    def out(self, v: Val | NDArray, k: int = 0) -> None:
        """Set the node's output `k` (a computed value, or a constant)."""
        self.b.values[self.node.outputs[k]] = v if isinstance(v, Val) else Const(np.asarray(v))

    def unsupported(self, why: str) -> Unsupported:
        return Unsupported(f"{self.node.op_type} {why} (node {self.node.name})")

    def attr(self, key: str, default: Any = None) -> Any:
        return self.node.attr(key, default)


Importer = Callable[[Site], None]
# ONNX operator type (fused patterns: "specc.<Type>") -> its importer.
IMPORTS: dict[str, Importer] = {}


def imports(*op_types: str) -> Callable[[Importer], Importer]:
    """Register an importer for these operator types (each at most once)."""

    def decorate(f: Importer) -> Importer:
        for t in op_types:
            if t in IMPORTS:
                raise ValueError(f"{t} has two importers")
            IMPORTS[t] = f
        return f

    return decorate


def key(node: Node) -> str:
    """The table key of a node: its type, with the specc domain for fused patterns."""
    return f"{node.domain}.{node.op_type}" if node.domain else node.op_type
