"""A Program: the steps of a spec for a fixed batch and dims, its memory, and the run loop."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from specc.dims import Dim, format_dim, substitute, symbols
from specc.ir import Model, format_shape, weight_key
from specc.limits import Limits
from specc.lower import weights
from specc.lower.builder import INFINITY, Builder, Node, lower
from specc.lower.errors import RunError
from specc.lower.fold import BoundFold
from specc.lower.gemm import WORKSPACE
from specc.lower.inputs import INDEX_DTYPE
from specc.lower.steps import Consts, Step, Storage, Value
from specc.lower.window import NUMPY_BUFFERS
from specc.passes.fold import FoldBatchNorm
from specc.passes.padding import ExplicitPadding, FusePadding
from specc.passes.rewrite import Fold, Pass, PassResult, run_passes
from specc.passes.shapes import Shapes, infer
from specc.units import format_bytes


@dataclass(frozen=True)
class Memory:
    """Bytes a run needs, by kind; `peak` is what `specc plan` reports and the budget checks."""

    weights: int  # the constants the steps read (batch-norm already folded)
    inputs: int
    arena: int  # the reused activation buffers, after liveness
    unshared: int  # what those buffers would take without reuse
    workspace: int  # the kernels' reusable per-thread buffers (patch tiles, padded inputs...)
    # Outputs and kernel-allocated values alive at once, plus a step's temporaries and NumPy's.
    dynamic: int
    outputs: int

    @property
    def peak(self) -> int:
        return self.weights + self.inputs + self.arena + self.workspace + self.dynamic


class Program:
    """The steps of a spec for one batch size and one binding of its symbolic dims."""

    def __init__(
        self,
        shapes: Shapes,
        batch: int,
        dims: Mapping[str, int],
        dtype: np.dtype,
        workspace: int = WORKSPACE,
        fold: bool = True,
    ) -> None:
        self.model = shapes.model
        self.batch = batch
        self.dims = dict(dims)
        self.dtype = np.dtype(dtype)
        sizes = concrete(shapes, self.dims)
        self.shapes = sizes  # per-sample output shape of every input and layer
        self.params = param_specs(shapes, self.dims)
        rewritten = rewrite(shapes.model, sizes, fold)
        lowered = _bound_shapes(rewritten.model)
        self.folds = _bound_folds(rewritten.folds, lowered)
        model = rewritten.model
        b = Builder(model, self.dtype.itemsize, workspace)
        self.inputs: dict[str, Value] = {}
        needed = model.needed()
        for x in model.inputs:
            itemsize = INDEX_DTYPE.itemsize if x.integer else None
            self.inputs[x.name] = b.new(x.name, (batch, *sizes[x.name]), "input", itemsize)
            b.bind_name(x.name, self.inputs[x.name])
            if x.integer and _real_readers(model, x.name, needed):
                b.bind_name(x.name, _as_real(b, self.inputs[x.name]))
        indices = {x.name for x in model.inputs if x.integer}
        for layer in model.layers:
            if layer.name not in needed:
                continue
            b.index = layer.index
            info = lowered.layers[layer.name]
            reads_indices = layer.op.index_bound() is not None
            node = Node(
                layer.name,
                layer.op,
                tuple(
                    self.inputs[n] if reads_indices and n in indices else b.names[n]
                    for n in layer.inputs
                ),
                (batch, *_ints(info.output.shape, self.dims)),
                {p.name: _ints(p.shape, self.dims) for p in info.params},
                layer.index,
            )
            b.bind_name(layer.name, lower(b, node))
        _note_folds(b.steps, self.folds)
        aliases = rewritten.aliases
        self.steps: list[Step] = b.steps
        self.values: list[Value] = b.values
        self.storages: list[Storage] = b.storages
        self.outputs: dict[str, Value] = {  # an input returned as an output is returned as given
            name: self.inputs[name] if name in self.inputs else b.names[aliases.get(name, name)]
            for name in self.model.outputs
        }
        self._layout()
        self._arena: list[NDArray] | None = None
        self._views: dict[int, NDArray] = {}

    def __repr__(self) -> str:
        """`<Program 'mnist' (batch 8, float32, T=100): 7 steps, peak memory 1.52 MiB>`."""
        setting = ", ".join(
            [f"batch {self.batch}", str(self.dtype), *(f"{k}={v}" for k, v in self.dims.items())]
        )
        steps, peak = len(self.steps), format_bytes(self.memory.peak)
        return f"<Program {self.model.name!r} ({setting}): {steps} steps, peak memory {peak}>"

    # -- memory ---------------------------------------------------------------------------
    def _layout(self) -> None:
        """Liveness of every storage, where each lives, and arena slots reused by dead values."""
        members: dict[int, list[Value]] = {}
        for v in self.values:
            members.setdefault(v.storage.id, []).append(v)
        for step in self.steps:
            st = step.output.storage
            if st.first < 0 and st.kind != "input":
                st.first = step.index
            for v in step.inputs:
                v.storage.last = max(v.storage.last, step.index)
        outputs = {v.storage.id for v in self.outputs.values()}
        for st in self.storages:
            st.last = max(st.last, st.first)
            if st.id in outputs:
                st.last = INFINITY
            if st.kind == "input":
                continue
            if self.steps[st.first].mode == "fresh":
                st.kind = "fresh"
            elif st.id in outputs:
                st.kind = "output"
        self.slots = _assign_slots(self.steps, self.storages)
        self._frees: list[list[int]] = [[] for _ in self.steps]
        for st in self.storages:
            if st.kind in ("fresh", "arena") and st.last < INFINITY:
                self._frees[st.last] += [v.id for v in members[st.id]]
        self.memory = self._memory()

    def _memory(self) -> Memory:
        arena = [st for st in self.storages if st.kind == "arena"]
        held = [st for st in self.storages if st.kind in ("fresh", "output")]
        # Each scratch slot keeps its largest buffer between calls.
        kept: dict[str, int] = {}
        for step in self.steps:
            for slot, nbytes in step.scratch.items():
                kept[slot] = max(kept.get(slot, 0), nbytes)
        # A sweep over the steps: a held storage counts from its first writer to its last reader.
        change = [0] * (len(self.steps) + 1)
        for st in held:
            change[st.first] += st.nbytes
            change[min(st.last, len(self.steps) - 1) + 1] -= st.nbytes
        dynamic = live = 0
        for step in self.steps:
            live += change[step.index]
            dynamic = max(dynamic, live + step.temp + NUMPY_BUFFERS)
        return Memory(
            weights=sum(s.const_bytes for s in self.steps),
            inputs=sum(v.nbytes for v in self.inputs.values()),
            arena=sum(self.slots),
            unshared=sum(st.nbytes for st in arena),
            workspace=sum(kept.values()),
            dynamic=dynamic,
            outputs=sum(v.storage.nbytes for v in self.outputs.values()),
        )

    def check_budget(self, max_memory: int | None) -> None:
        """Refuse, before allocating anything, a run whose peak exceeds `max_memory` bytes."""
        if max_memory is not None and self.memory.peak > max_memory:
            m = self.memory
            b = format_bytes
            parts = (
                f"activations {b(m.arena)}, weights {b(m.weights)}, inputs {b(m.inputs)}, "
                f"outputs and temporaries {b(m.dynamic)}, workspace {b(m.workspace)}"
            )
            raise RunError(
                f"running {self.model.name} at batch {self.batch} needs about {b(m.peak)} "
                f"at peak ({parts}), over the memory budget of {b(max_memory)}; "
                "use a smaller batch or raise --max-memory"
            )

    def _allocate(self) -> dict[int, NDArray]:
        """The arena's slots and each arena value's view of its slot, made once per program."""
        if self._arena is None:
            self._arena = [np.empty(n, np.uint8) for n in self.slots]
            for step in self.steps:
                st = step.output.storage
                if step.mode == "out" and st.kind == "arena":
                    assert st.slot is not None
                    self._views[step.output.id] = _view(
                        self._arena[st.slot], step.output, self.dtype
                    )
        return self._views

    # -- binding and running --------------------------------------------------------------
    def bind(self, checked: Mapping[str, NDArray]) -> Executable:
        """An executable for these (already checked) weights; the caller checked the budget."""
        if self.folds:
            checked = dict(checked)
            for f in self.folds:
                f.apply(checked)
        consts = [step.bind(checked) if step.bind else () for step in self.steps]
        return Executable(self, consts, self._allocate())


class Executable:
    """A program with its weights bound: run it as often as needed (one run at a time)."""

    def __init__(self, program: Program, consts: list[Consts], views: dict[int, NDArray]) -> None:
        self.program = program
        self.consts = consts
        self._views = views
        p = program
        # Steps that write a model output: it is a new array on every run (the caller keeps
        # it), made when the step runs, as the plan counts it from its first writer on.
        self._fresh_outputs = {
            step.index
            for step in p.steps
            if step.mode == "out" and step.output.storage.kind == "output"
        }

    def run(
        self, inputs: Mapping[str, NDArray], timings: list[float] | None = None
    ) -> dict[str, NDArray]:
        """The outputs for checked inputs; with `timings`, the seconds of each step are appended."""
        p = self.program
        env: list[NDArray | None] = [None] * len(p.values)
        for name, value in p.inputs.items():
            env[value.id] = inputs[name]
        views = self._views
        clock = time.perf_counter
        for step, consts, frees in zip(p.steps, self.consts, p._frees, strict=True):
            ins = [env[v.id] for v in step.inputs]
            out: NDArray | None
            if step.index in self._fresh_outputs:
                value = step.output
                out = _view(np.empty(value.storage.nbytes, np.uint8), value, p.dtype)
            elif step.mode == "out":
                out = views.get(step.output.id)
            else:
                out = ins[step.target] if step.mode == "in_place" else None
            start = clock() if timings is not None else 0.0
            env[step.output.id] = step.fn(ins, out, consts)  # type: ignore[arg-type]  # inputs are set
            if timings is not None:
                timings.append(clock() - start)
            for vid in frees:
                env[vid] = None
        result = {}
        for name, value in p.outputs.items():
            array = env[value.id]
            assert array is not None and array.shape == value.shape, (name, value.shape)
            result[name] = array.copy() if value.storage.kind == "input" else array
        return result


def _view(raw: NDArray, value: Value, dtype: np.dtype) -> NDArray:
    return raw[: value.nbytes].view(dtype).reshape(value.shape)


def _assign_slots(steps: list[Step], storages: list[Storage]) -> list[int]:
    """Best-fit reuse of arena slots: a storage takes a slot freed before its first writer."""
    slots: list[int] = []
    free: list[int] = []
    ending: dict[int, list[Storage]] = {}
    for step in steps:
        st = step.output.storage
        for done in ending.pop(step.index - 1, []):
            assert done.slot is not None
            free.append(done.slot)
        if st.kind != "arena" or st.first != step.index or step.mode == "view":
            continue
        fits = [s for s in free if slots[s] >= st.nbytes]
        if fits:
            slot = min(fits, key=lambda s: slots[s])
        elif free:
            slot = max(free, key=lambda s: slots[s])
            slots[slot] = st.nbytes
        else:
            slot = len(slots)
            slots.append(st.nbytes)
        if slot in free:
            free.remove(slot)
        st.slot = slot
        ending.setdefault(st.last, []).append(st)
    return slots


def rewrite(model: Model, sizes: Mapping[str, tuple[int, ...]], fold: bool) -> PassResult:
    """The rewrites lowering runs first: batch-norm folding (unless `fold` is False), then
    padding as steps of its own, done by the activation before it where there is one."""
    passes: list[Pass] = [FoldBatchNorm()] if fold else []
    return run_passes(model, [*passes, ExplicitPadding(sizes), FusePadding()])


def _bound_shapes(model: Model) -> Shapes:
    """The rewritten model's shapes and parameters, symbols kept (attributes such as a reshape
    target may name them); `_ints` binds them."""
    shapes = infer(model, Limits(max_elements=1 << 62))  # the budget is checked later
    assert shapes.complete, [d.message for d in shapes.diagnostics]
    return shapes


def _bound_folds(folds: tuple[Fold, ...], shapes: Shapes) -> tuple[BoundFold, ...]:
    out = []
    for f in folds:
        op = shapes.model.layer(f.into)
        assert op is not None
        target = op.op.affine_target()
        kernel = next(p for p in shapes.layers[f.into].params if p.name == target)
        out.append(BoundFold(f, kernel.name, kernel.out_axes))
    return tuple(out)


def _note_folds(steps: list[Step], folds: tuple[BoundFold, ...]) -> None:
    """Name each folded layer in the step that now computes it (plans show it)."""
    for f in folds:
        for step in steps:
            if step.bind is not None and step.layers[0] == f.fold.into:
                step.layers = (*step.layers, f.fold.layer)
                step.detail += f", {f.fold.layer} folded"
                break


def _real_readers(model: Model, name: str, needed: set[str]) -> bool:
    """Whether a layer over real values (not an embedding) reads the input `name`."""
    return any(
        name in layer.inputs and layer.op.index_bound() is None
        for layer in model.layers
        if layer.name in needed
    )


def _as_real(b: Builder, x: Value) -> Value:
    """The integer input `x` converted to the plan's float type, for layers over real values."""
    out = b.new(f"{x.name}:real", x.shape)

    def run(ins: list[NDArray], out: NDArray | None, consts: Consts) -> NDArray:
        assert out is not None
        np.copyto(out, ins[0])
        return out

    return b.emit("cast", None, (x,), out, run, flops=x.size, layers=(x.name,))


def _ints(shape: tuple[Dim, ...], dims: Mapping[str, int]) -> tuple[int, ...]:
    out = tuple(substitute(d, dims) for d in shape)
    assert all(isinstance(d, int) for d in out), (shape, dims)
    return out  # type: ignore[return-value]


def concrete(shapes: Shapes, dims: Mapping[str, int]) -> dict[str, tuple[int, ...]]:
    """Every input's and layer's per-sample shape with the symbols bound; RunError otherwise."""
    out: dict[str, tuple[int, ...]] = {}
    unbound: set[str] = set()
    for name, t in shapes.types.items():
        assert t is not None
        shape = _bind_shape(t.shape, dims)
        if shape is None:
            unbound |= set().union(*(symbols(d) for d in t.shape)) - dims.keys()
            continue
        bad = [i for i, n in enumerate(shape) if n < 1]
        if bad:
            env = ", ".join(f"{k}={v}" for k, v in sorted(dims.items()))
            raise RunError(
                f"with {env}, '{name}' would have the shape {format_shape(shape)}: "
                f"axis {bad[0]} ({format_dim(t.shape[bad[0]])}) is {shape[bad[0]]}, below 1"
            )
        out[name] = shape
    if unbound:
        names = ", ".join(sorted(unbound))
        example = " ".join(f"--dim {n}=..." for n in sorted(unbound))
        raise RunError(
            f"the dimension{'s' if len(unbound) > 1 else ''} {names} of the spec "
            f"{'are' if len(unbound) > 1 else 'is'} "
            f"not bound: give input data, or the value ({example}, or dims={{...}} in Python)"
        )
    return out


def _bind_shape(shape: tuple[Dim, ...], dims: Mapping[str, int]) -> tuple[int, ...] | None:
    out = [substitute(d, dims) for d in shape]
    ints = [d for d in out if isinstance(d, int)]
    return tuple(ints) if len(ints) == len(out) else None


def param_specs(shapes: Shapes, dims: Mapping[str, int]) -> dict[str, weights.ParamSpec]:
    """Every weight array the spec has, in layer order, with concrete shapes and fan-in."""
    specs = {}
    for name, info in shapes.layers.items():
        for p in info.params:
            shape = _bind_shape(p.shape, dims)
            fan_in = substitute(p.fan_in, dims)
            if shape is None or not isinstance(fan_in, int):
                concrete(shapes, dims)  # names the unbound dims
                raise AssertionError(f"{name}.{p.name} {p.shape} is not bound by {dims}")
            key = weight_key(name, p.name)
            specs[key] = weights.ParamSpec(key, name, p.name, shape, fan_in, p.init, p.value)
    return specs
