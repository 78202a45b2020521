"""Weights: the arrays a plan expects, seeded initialisation, checking, and batch-norm folding."""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import sqrt

import numpy as np
from numpy.typing import NDArray

from specc.ir import format_shape
from specc.lower.arrays import as_float, nonfinite, noted, refusal
from specc.lower.errors import DataNote, DataWarning, RunError

# Seeded values of every parameter but kernels (which are He-normal).
_CONSTANT = {"bias": 0.0, "beta": 0.0, "moving_mean": 0.0, "gamma": 1.0, "moving_variance": 1.0}


@dataclass(frozen=True)
class ParamSpec:
    """One array the plan needs: its key "<layer>.<param>", Keras-layout shape and fan-in."""

    key: str
    layer: str
    name: str
    shape: tuple[int, ...]
    fan_in: int


def init(specs: Mapping[str, ParamSpec], seed: int, dtype: np.dtype) -> dict[str, NDArray]:
    """He-normal kernels (std sqrt(2 / fan_in)), zero biases and betas, unit gammas, mean 0, var 1.

    Each layer draws from its own stream, seeded by `seed` and the layer's name, so adding a
    layer elsewhere leaves the others' weights unchanged.
    """
    out: dict[str, NDArray] = {}
    streams: dict[str, np.random.Generator] = {}
    for key, spec in specs.items():
        if spec.name in _CONSTANT:
            out[key] = np.full(spec.shape, _CONSTANT[spec.name], dtype)
            continue
        rng = streams.get(spec.layer)
        if rng is None:
            rng = streams[spec.layer] = np.random.default_rng(
                [seed, zlib.crc32(spec.layer.encode())]
            )
        std = sqrt(2.0 / max(spec.fan_in, 1))
        out[key] = (rng.standard_normal(spec.shape) * std).astype(dtype)
    return out


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


# -- batch-norm folding ---------------------------------------------------------------------


def bn_affine(
    weights: Mapping[str, NDArray], layer: str, epsilon: float
) -> tuple[NDArray, NDArray]:
    """(scale, shift) in float64 such that batch_norm(y) == y * scale + shift, per channel."""
    var = weights[f"{layer}.moving_variance"].astype(np.float64)
    mean = weights[f"{layer}.moving_mean"].astype(np.float64)
    scale = 1.0 / np.sqrt(var + epsilon)
    gamma = weights.get(f"{layer}.gamma")
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    beta = weights.get(f"{layer}.beta")
    if beta is not None:
        shift = shift + beta
    return scale, shift


def fold(
    kernel: NDArray,
    bias: NDArray | None,
    scale: NDArray,
    shift: NDArray,
    expand: Callable[[NDArray], NDArray],
) -> tuple[NDArray, NDArray]:
    """Kernel and bias of a linear layer followed by y * scale + shift, computed in float64.

    `expand` lays the per-output-channel `scale` out along the kernel's output axes.
    """
    folded = kernel.astype(np.float64) * expand(scale)
    b = shift if bias is None else bias.astype(np.float64) * scale + shift
    return folded.astype(kernel.dtype), b.astype(kernel.dtype)
