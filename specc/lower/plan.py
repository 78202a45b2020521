"""Plan: a compiled spec that runs on sample data as many times as needed."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from specc.dims import symbols
from specc.lower import inputs as inputs_mod
from specc.lower import io
from specc.lower import weights as weightsmod
from specc.lower.budget import default_budget
from specc.lower.errors import RunError, SpecError
from specc.lower.gemm import WORKSPACE
from specc.lower.program import Executable, Memory, Program, param_specs
from specc.lower.steps import Step
from specc.units import format_bytes

if TYPE_CHECKING:
    from specc.api import Checked
from specc.lower.weights import ParamSpec

Inputs = NDArray | Mapping[str, NDArray] | str | os.PathLike[str] | None
Weights = Mapping[str, NDArray] | str | os.PathLike[str] | None
DTYPES = ("float32", "float64")
_CACHE = 4  # programs (and seeded executables) kept per plan, most recent first


@dataclass
class Prepared:
    """One run made ready: its program, checked inputs, weights and executable."""

    program: Program
    inputs: inputs_mod.Bound
    weights: dict[str, NDArray]
    executable: Executable

    def run(self, timings: list[float] | None = None) -> dict[str, NDArray]:
        """The outputs by name; with `timings`, each step's seconds are appended."""
        return self.executable.run(self.inputs.arrays, timings)


class Plan:
    """A checked spec lowered to NumPy steps: `plan.run(x, weights)` gives the outputs.

    The batch size and symbolic dims given here are the defaults of random inputs and of
    `steps`/`memory`; data passed to `run` brings its own (a program per shape is made once
    and kept). `max_memory` (bytes, default half the RAM, None for no limit) is checked
    against a program's peak before anything is allocated. `fold=False` keeps every batch
    norm as a step of its own (to compare against the folded plan).

    Runs of one program share its buffers: use a plan from one thread at a time.
    """

    def __init__(
        self,
        checked: Checked,
        *,
        batch: int = 1,
        dtype: Literal["float32", "float64"] | str = "float32",
        dims: Mapping[str, int] | None = None,
        max_memory: int | Literal["default"] | None = "default",
        workspace: int = WORKSPACE,
        fold: bool = True,
    ) -> None:
        model, shapes = checked.model, checked.shapes
        if model is None or shapes is None or not checked.ok or not shapes.complete:
            raise SpecError(checked.diagnostics, {checked.path: checked.source})
        if str(dtype) not in DTYPES:
            raise RunError(f"dtype {dtype!r} is not supported: use float32 or float64")
        if not isinstance(batch, int) or batch < 1:
            raise RunError(f"the batch size must be a positive integer, not {batch!r}")
        self.model = model
        self.shapes = shapes
        self.dtype = np.dtype(str(dtype))
        self.batch = batch
        self.dims = self._check_dims(dims or {})
        self.max_memory = default_budget() if max_memory == "default" else max_memory
        self.workspace = workspace
        self.fold = fold
        self._bounds = inputs_mod.index_bounds(model)
        self._programs: OrderedDict[tuple[object, ...], Program] = OrderedDict()
        self._seeded: OrderedDict[tuple[object, ...], Executable] = OrderedDict()

    def __repr__(self) -> str:
        """`<Plan 'mnist': 4 layers, 7 steps, peak memory 1.52 MiB (batch 1, float32)>`; with
        symbols left unbound, which ones the steps wait for."""
        setting = ", ".join(
            [f"batch {self.batch}", str(self.dtype), *(f"{k}={v}" for k, v in self.dims.items())]
        )
        head = f"<Plan {self.model.name!r}: {len(self.model.layers)} layers"
        unbound = sorted(self._symbols() - self.dims.keys())
        if unbound:
            verb = "is" if len(unbound) == 1 else "are"
            return f"{head}, steps once {', '.join(unbound)} {verb} bound ({setting})>"
        try:
            program = self.program()
        except RunError as exc:  # dims that leave an axis empty: a repr never raises
            return f"{head}, no steps: {exc} ({setting})>"
        steps, peak = len(program.steps), format_bytes(program.memory.peak)
        return f"{head}, {steps} steps, peak memory {peak} ({setting})>"

    def _symbols(self) -> set[str]:
        known: set[str] = set()
        for t in self.shapes.types.values():
            if t is not None:
                known |= set().union(*(symbols(d) for d in t.shape))
        return known

    def _check_dims(self, dims: Mapping[str, int]) -> dict[str, int]:
        known = self._symbols()
        for name, value in dims.items():
            if name not in known:
                have = ", ".join(sorted(known)) or "none"
                raise RunError(
                    f"the spec has no dimension named {name!r} (its symbolic dimensions: {have})"
                )
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RunError(f"dimension {name} must be a positive integer, not {value!r}")
        self._check_assumptions(dims)
        return dict(dims)

    def _check_assumptions(self, dims: Mapping[str, int]) -> None:
        broken = self.model.assume.broken(dims)
        if broken:
            raise RunError("\n".join(broken))

    # -- programs -------------------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        return [x.name for x in self.model.inputs]

    @property
    def output_names(self) -> list[str]:
        return list(self.model.outputs)

    def program(self, batch: int | None = None, dims: Mapping[str, int] | None = None) -> Program:
        """The lowered steps for this batch and dims (default: the plan's), made once."""
        batch = self.batch if batch is None else batch
        env = {**self.dims, **(dims or {})}
        key = (batch, tuple(sorted(env.items())))
        if key in self._programs:
            self._programs.move_to_end(key)
            return self._programs[key]
        self._check_assumptions(env)  # values from the data too: H/16 is exact only if H % 16 == 0
        program = Program(self.shapes, batch, env, self.dtype, self.workspace, self.fold)
        self._programs[key] = program
        while len(self._programs) > _CACHE:
            self._programs.popitem(last=False)
        return program

    @property
    def steps(self) -> list[Step]:
        return self.program().steps

    @property
    def memory(self) -> Memory:
        return self.program().memory

    # -- weights --------------------------------------------------------------------------
    def weight_shapes(self, dims: Mapping[str, int] | None = None) -> dict[str, tuple[int, ...]]:
        """Every weight array's key and Keras-layout shape, in layer order."""
        return {k: s.shape for k, s in self.params(dims).items()}

    def params(self, dims: Mapping[str, int] | None = None) -> dict[str, ParamSpec]:
        """Every weight array the spec has (key, shape, fan-in), for the plan's dims and `dims`."""
        return param_specs(self.shapes, {**self.dims, **(dims or {})})

    def init_weights(
        self, seed: int = 0, dims: Mapping[str, int] | None = None
    ) -> dict[str, NDArray]:
        """Seeded weights: He-normal kernels, zero biases; gamma 1, beta 0, mean 0, var 1."""
        return self.weights(None, seed=seed, dims=dims)

    def weights(
        self, source: Weights = None, *, seed: int = 0, dims: Mapping[str, int] | None = None
    ) -> dict[str, NDArray]:
        """Checked weights from a mapping or a .npz file; seeded ones when `source` is None."""
        params = self.params(dims)
        if source is None:
            return weightsmod.init(params, seed, self.dtype)
        if isinstance(source, str | os.PathLike):
            shapes = {k: s.shape for k, s in params.items()}
            given: Mapping[str, object] = io.load_weights(source, shapes, self.max_memory)
            label = f"weights file {os.fspath(source)}"
        else:
            given, label = source, "the weights"
        return weightsmod.check(given, params, self.dtype, label)

    def bind(
        self,
        weights: Weights = None,
        *,
        seed: int = 0,
        batch: int | None = None,
        dims: Mapping[str, int] | None = None,
    ) -> Executable:
        """An executable with these weights bound (batch-norm folded) for fast repeated runs."""
        program = self._within_budget(batch, dims)
        if weights is not None:
            return program.bind(self.weights(weights, dims=dims))
        key = (program.batch, tuple(sorted(program.dims.items())), seed)
        if key not in self._seeded:
            self._seeded[key] = program.bind(weightsmod.init(program.params, seed, self.dtype))
            while len(self._seeded) > _CACHE:
                self._seeded.popitem(last=False)
        return self._seeded[key]

    def _within_budget(self, batch: int | None, dims: Mapping[str, int] | None) -> Program:
        """The program for this batch and dims; RunError before any allocation if it is over
        the memory budget (checked here, and nowhere else)."""
        program = self.program(batch, dims)
        program.check_budget(self.max_memory)
        return program

    # -- running --------------------------------------------------------------------------
    def inputs(self, data: Inputs = None, *, seed: int = 0) -> inputs_mod.Bound:
        """Checked input arrays (a seeded random batch when `data` is None), batch and dims."""
        if data is None:
            return self._random_inputs(self._within_budget(None, None), seed)
        return self._given_inputs(data)

    def _random_inputs(self, program: Program, seed: int) -> inputs_mod.Bound:
        arrays = inputs_mod.random(
            self.model.inputs, program.batch, program.shapes, seed, self.dtype, self._bounds
        )
        return inputs_mod.Bound(arrays, program.batch, dict(program.dims))

    def _given_inputs(self, data: Inputs) -> inputs_mod.Bound:
        source = "the input"
        if isinstance(data, str | os.PathLike):
            source = f"input file {os.fspath(data)}"
            ranks = {x.name: x.type.rank + 1 for x in self.model.inputs}
            data = io.load_inputs(data, self.input_names, ranks, self.max_memory)
        if isinstance(data, Mapping):
            given: Mapping[str, object] = data
        else:
            if len(self.input_names) != 1:
                raise RunError(
                    f"the spec has {len(self.input_names)} inputs ({', '.join(self.input_names)}); "
                    "pass a dict keyed by input name"
                )
            given = {self.input_names[0]: data}
        return inputs_mod.bind(
            self.model.inputs, given, self.dims, self.dtype, source, self._bounds
        )

    def prepare(
        self,
        data: Inputs = None,
        weights: Weights = None,
        *,
        seed: int = 0,
        batch: int | None = None,
    ) -> Prepared:
        """Everything one run needs, checked once: the inputs (seeded random ones when `data` is
        None, of `batch` or the plan's batch), the program for their batch and dims (within
        the memory budget, checked before anything large is allocated), the weights (seeded
        when None) and the executable that binds them."""
        if data is None:
            program = self._within_budget(batch, None)
            bound = self._random_inputs(program, seed)
        else:
            bound = self._given_inputs(data)
            if batch is not None and bound.batch != batch:
                raise RunError(
                    f"--batch {batch} contradicts the input data, whose batch is {bound.batch}"
                )
            program = self._within_budget(bound.batch, bound.dims)
        used = self.weights(weights, seed=seed, dims=bound.dims)
        return Prepared(program, bound, used, program.bind(used))

    def run_all(
        self,
        data: Inputs = None,
        weights: Weights = None,
        *,
        seed: int = 0,
        timings: list[float] | None = None,
    ) -> dict[str, NDArray]:
        """Every output by name; `data` or `weights` None means seeded random ones."""
        if weights is None:  # seeded weights: the executable is kept for the next call
            bound = self.inputs(data, seed=seed)
            executable = self.bind(None, seed=seed, batch=bound.batch, dims=bound.dims)
            return executable.run(bound.arrays, timings)
        return self.prepare(data, weights, seed=seed).run(timings)

    def run(
        self, data: Inputs = None, weights: Weights = None, *, seed: int = 0
    ) -> NDArray | dict[str, NDArray]:
        """The output array (a dict by output name when the spec has several outputs)."""
        outputs = self.run_all(data, weights, seed=seed)
        return next(iter(outputs.values())) if len(outputs) == 1 else outputs
