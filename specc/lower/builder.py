"""The lowering registry and the Builder that turns one spec layer at a time into steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from math import prod

from numpy.typing import NDArray

from specc.ir import Layer, Model, weight_key
from specc.lower.steps import Binder, Consts, Kernel, Mode, Step, Storage, StorageKind, Value
from specc.lower.window import KEEP_BYTES, NO_MEMORY, KernelMemory
from specc.ops import Op
from specc.ops.parts import Parts

INFINITY = 1 << 62  # the "last reader" of a model output: it outlives every step


@dataclass(frozen=True)
class Node:
    """One layer as its lowering sees it: concrete shapes with the batch axis, resolved inputs.

    `name` keys the weights ("<name>.<param>"); `label` names the values it makes. They differ
    for the inner layer of time_distributed.
    """

    name: str
    op: Op
    inputs: tuple[Value, ...]
    out_shape: tuple[int, ...]
    params: Mapping[str, tuple[int, ...]]
    index: int

    def key(self, param: str) -> str:
        return weight_key(self.name, param)

    def inner(self, op: Op, inputs: tuple[Value, ...], out_shape: tuple[int, ...]) -> Node:
        return replace(self, op=op, inputs=inputs, out_shape=out_shape)


# How one op class becomes steps: it emits them and returns the value the node computes.
Lowering = Callable[["Builder", Node], Value]

LOWERINGS: Parts[Lowering] = Parts("lowering", "specc.lower.ops")
# `@lowers(*classes)` registers a lowering; subclasses inherit it unless they have their own.
lowers = LOWERINGS.register


def lower(b: Builder, node: Node) -> Value:
    """The value `node` computes, after emitting its steps."""
    found = LOWERINGS.find(type(node.op))
    if found is None:
        raise NotImplementedError(f"no lowering for layer type {node.op.type!r}")
    return found(b, node)


class Builder:
    """Collects steps while the layers are lowered in order, and decides where values live."""

    def __init__(self, model: Model, itemsize: int, workspace: int) -> None:
        self.itemsize = itemsize
        self.workspace = workspace
        self.steps: list[Step] = []
        self.values: list[Value] = []
        self.storages: list[Storage] = []
        self.names: dict[str, Value] = {}  # spec names (inputs and layers) -> their values
        # Set while a PadOutput (from the padding rewrite) is lowered: the (before, after)
        # zeros its final activation writes around its result.
        self.pad_output: tuple[tuple[int, int], ...] | None = None
        self.index = -1  # the layer being lowered
        # storage id -> index of the last layer reading any value that lives in it
        self._last: dict[int, int] = {}
        self._readers: dict[str, list[Layer]] = {}
        self._last_by_name: dict[str, int] = {}
        for layer in model.layers:
            for name in layer.inputs:
                self._readers.setdefault(name, []).append(layer)
                self._last_by_name[name] = max(self._last_by_name.get(name, -1), layer.index)
        for name in model.outputs:
            self._last_by_name[name] = INFINITY

    # -- values ---------------------------------------------------------------------------
    def new(
        self,
        name: str,
        shape: tuple[int, ...],
        kind: StorageKind = "arena",
        itemsize: int | None = None,
    ) -> Value:
        """A value in a storage of its own (of the plan's float type unless `itemsize` says
        otherwise: integer inputs)."""
        itemsize = self.itemsize if itemsize is None else itemsize
        storage = Storage(len(self.storages), prod(shape) * itemsize, kind)
        self.storages.append(storage)
        return self._value(name, shape, storage, itemsize)

    def alias(self, name: str, shape: tuple[int, ...], of: Value) -> Value:
        """A value sharing the storage of `of` (a view of it, or a step that overwrites it)."""
        assert prod(shape) == of.size, (name, shape, of.shape)
        return self._value(name, shape, of.storage, of.itemsize)

    def _value(self, name: str, shape: tuple[int, ...], storage: Storage, itemsize: int) -> Value:
        value = Value(len(self.values), name, tuple(shape), itemsize, storage)
        self.values.append(value)
        self._read_until(storage, self.index)  # raised by bind_name for the values layers read
        return value

    def _read_until(self, storage: Storage, index: int) -> None:
        self._last[storage.id] = max(self._last.get(storage.id, -1), index)

    def bind_name(self, name: str, value: Value) -> None:
        """Make the spec name `name` refer to `value` (a layer's result, or a folded one)."""
        self.names[name] = value
        self._read_until(value.storage, self._last_by_name.get(name, -1))

    def can_overwrite(self, value: Value) -> bool:
        """Whether no one reads `value`'s storage after the current layer (so it may be reused)."""
        if value.storage.kind == "input":
            return False
        return self._last[value.storage.id] <= self.index

    def sole_reader(self, name: str) -> Layer | None:
        """The one layer that reads `name`, when `name` is not also a model output."""
        readers = self._readers.get(name, [])
        if len(readers) != 1 or self._last_by_name.get(name) == INFINITY:
            return None
        return readers[0]

    # -- steps ----------------------------------------------------------------------------
    def emit(
        self,
        kind: str,
        node: Node | None,
        inputs: tuple[Value, ...],
        output: Value,
        fn: Kernel,
        *,
        mode: Mode = "out",
        target: int = 0,
        flops: int = 0,
        scratch: Mapping[str, int] | None = None,
        temp: int = 0,
        detail: str = "",
        bind: Binder | None = None,
        const_bytes: int = 0,
        layers: tuple[str, ...] | None = None,
    ) -> Value:
        traffic = sum(v.nbytes for v in inputs) + const_bytes
        if mode in ("out", "in_place", "fresh"):
            traffic += output.nbytes
        if layers is None:
            assert node is not None, "a step names its layers or its node"
            layers = (node.name,)
        step = Step(
            kind,
            layers,
            inputs,
            output,
            fn,
            mode=mode,
            target=target,
            flops=flops,
            traffic=traffic,
            # A scratch buffer over KEEP_BYTES is not kept: a temporary of this step.
            scratch={slot: n for slot, n in (scratch or {}).items() if n <= KEEP_BYTES},
            temp=temp + sum(n for n in (scratch or {}).values() if n > KEEP_BYTES),
            detail=detail,
            bind=bind,
            const_bytes=const_bytes,
            index=len(self.steps),
        )
        self.steps.append(step)
        return output

    def elementwise(
        self,
        kind: str,
        node: Node,
        x: Value,
        fn: Kernel,
        *,
        flops: int,
        memory: KernelMemory = NO_MEMORY,
        name: str | None = None,
    ) -> Value:
        """An element-wise step, in place when `x` is dead afterwards."""
        label = name or node.name
        scratch, temp = memory
        if self.can_overwrite(x):
            out = self.alias(label, x.shape, x)
            return self.emit(
                kind,
                node,
                (x,),
                out,
                fn,
                mode="in_place",
                flops=flops,
                scratch=scratch,
                temp=temp,
            )
        out = self.new(label, x.shape)
        return self.emit(kind, node, (x,), out, fn, flops=flops, scratch=scratch, temp=temp)

    def view(self, node: Node, x: Value, shape: tuple[int, ...], name: str | None = None) -> Value:
        """A reshaped view of `x` (no copy: every buffer of a plan is contiguous)."""
        out = self.alias(name or node.name, shape, x)

        def reshape(ins: list[NDArray], out: NDArray | None, consts: Consts) -> NDArray:
            return ins[0].reshape(shape)

        return self.emit("view", node, (x,), out, reshape, mode="view")
