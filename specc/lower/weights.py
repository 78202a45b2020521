"""Weights: the arrays a plan expects, seeded initialisation and checking."""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from math import prod, sqrt

import numpy as np
from numpy.typing import NDArray

from specc.ir import format_shape
from specc.lower.arrays import as_float, nonfinite, noted, refusal
from specc.lower.errors import DataNote, DataWarning, RunError
from specc.ops.base import Init


@dataclass(frozen=True)
class ParamSpec:
    """One array the plan needs: its key, the layer and the parameter with concrete sizes."""

    key: str
    layer: str
    name: str
    shape: tuple[int, ...]
    fan_in: int
    init: Init = "zeros"
    value: float = 0.0  # the fill of init "constant"


def init(specs: Mapping[str, ParamSpec], seed: int, dtype: np.dtype) -> dict[str, NDArray]:
    """Every parameter drawn by the initialiser its op declares (`Param.init`).

    Each layer draws from its own stream, seeded by `seed` and the layer's name, so adding a
    layer elsewhere leaves the others' weights unchanged.
    """
    out: dict[str, NDArray] = {}
    streams: dict[str, np.random.Generator] = {}
    for key, spec in specs.items():
        if spec.init in ("zeros", "ones", "constant"):
            fill = {"zeros": 0.0, "ones": 1.0}.get(spec.init, spec.value)
            out[key] = np.full(spec.shape, fill, dtype)
            continue
        if spec.init == "unit_forget_bias":  # LSTM gates i, f, c, o: the forget gate starts at 1
            out[key] = np.zeros(spec.shape, dtype)
            units = spec.shape[-1] // 4
            out[key][..., units : 2 * units] = 1
            continue
        rng = streams.get(spec.layer)
        if rng is None:
            rng = streams[spec.layer] = np.random.default_rng(
                [seed, zlib.crc32(spec.layer.encode())]
            )
        out[key] = _draw(rng, spec).astype(dtype)
    return out


def _draw(rng: np.random.Generator, spec: ParamSpec) -> NDArray:
    """One random parameter: He-normal, Glorot-uniform, uniform or orthogonal."""
    fan_in = max(spec.fan_in, 1)
    if spec.init == "he_normal":
        return rng.standard_normal(spec.shape) * sqrt(2.0 / fan_in)
    fan_out = spec.shape[-1] if spec.shape else 1
    if spec.init == "uniform":  # Keras's "uniform": RandomUniform(-0.05, 0.05)
        return rng.uniform(-0.05, 0.05, spec.shape)
    if spec.init == "glorot_uniform":
        limit = sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, spec.shape)
    assert spec.init == "orthogonal", spec.init
    rows = prod(spec.shape[:-1])
    a = rng.standard_normal((max(rows, fan_out), min(rows, fan_out)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return (q if rows >= fan_out else q.T).reshape(spec.shape)


def check(
    given: Mapping[str, object],
    specs: Mapping[str, ParamSpec],
    dtype: np.dtype,
    source: str = "the weights",
) -> dict[str, NDArray]:
    """The weights as contiguous arrays of `dtype`, or one RunError listing every problem.

    Integer and boolean arrays are converted (with a DataNote); complex, text and object
    arrays are refused. NaN or Inf values are a DataWarning.
    """
    problems: list[str] = []
    converted: list[str] = []
    arrays: dict[str, NDArray] = {}
    for key, spec in specs.items():
        if key not in given:
            problems.append(f"missing {key}: expected shape {format_shape(spec.shape)}")
            continue
        value = given[key]
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        if array.shape != spec.shape:
            problems.append(
                f"wrong shape {key}: got {format_shape(array.shape)}, "
                f"expected {format_shape(spec.shape)}"
            )
            continue
        refused = refusal(array.dtype)
        if refused:
            problems.append(f"wrong type {key}: {refused}")
            continue
        if noted(array.dtype):
            converted.append(f"{key} ({array.dtype})")
        arrays[key] = as_float(array, dtype)
    for key in sorted(set(given) - set(specs)):
        value = given[key]
        shape = f" (shape {format_shape(value.shape)})" if isinstance(value, np.ndarray) else ""
        problems.append(f"extra {key}{shape}: the spec has no such parameter")
    if problems:
        listing = "\n".join(f"  {p}" for p in problems)
        raise RunError(
            f"{source} do not match the spec ({_count(problems)}):\n{listing}\n"
            "  (keys are '<layer>.<param>' with the Keras-layout shapes that `specc report` prints)"
        )
    if converted:
        warnings.warn(
            f"{source}: converted to {dtype}: {', '.join(converted)}", DataNote, stacklevel=2
        )
    bad = [key for key, a in arrays.items() if nonfinite(a)]
    if bad:
        warnings.warn(f"{source}: NaN or Inf values in {', '.join(bad)}", DataWarning, stacklevel=2)
    return arrays


def _count(problems: list[str]) -> str:
    kinds = {
        "missing": "missing",
        "wrong shape": "with the wrong shape",
        "wrong type": "of the wrong type",
    }
    parts = []
    for prefix, words in kinds.items():
        n = sum(p.startswith(prefix) for p in problems)
        if n:
            parts.append(f"{n} {words}")
    n = sum(p.startswith("extra") for p in problems)
    if n:
        parts.append(f"{n} extra")
    return ", ".join(parts)
