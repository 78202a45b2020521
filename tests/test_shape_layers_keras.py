"""The shape layers against Keras 3 (JAX backend): the same inputs give the same outputs."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from conftest import spec

import specc

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
layers = keras.layers


def specc_run(body: str, shapes: dict[str, tuple[int, ...]], data: list[np.ndarray]) -> np.ndarray:
    inputs = "\n  ".join(f"{name}: {list(shape)}" for name, shape in shapes.items())
    plan = specc.compile(spec(body, inputs), dtype="float64", batch=data[0].shape[0])
    y = plan.run(dict(zip(shapes, data, strict=True)))
    assert isinstance(y, np.ndarray)
    return y


def keras_run(make: Any, shapes: dict[str, tuple[int, ...]], data: list[np.ndarray]) -> np.ndarray:
    xs = [keras.Input(shape) for shape in shapes.values()]
    out = make(xs[0] if len(xs) == 1 else xs)
    model = keras.Model(xs, out)
    assert model.count_params() == 0
    return np.asarray(model.predict([d.astype("float32") for d in data], verbose=0))


CASES = [
    ("- {type: cropping1d}", {"x": (7, 3)}, lambda x: layers.Cropping1D()(x)),
    (
        "- {type: cropping2d, cropping: [[1, 2], [0, 3]]}",
        {"x": (6, 7, 2)},
        lambda x: layers.Cropping2D(((1, 2), (0, 3)))(x),
    ),
    (
        "- {type: cropping3d, cropping: [1, [0, 2], 1]}",
        {"x": (4, 5, 6, 2)},
        lambda x: layers.Cropping3D((1, (0, 2), 1))(x),
    ),
    (
        "- {type: permute, dims: [3, 1, 2]}",
        {"x": (3, 4, 5)},
        lambda x: layers.Permute((3, 1, 2))(x),
    ),
    ("- {type: identity}", {"x": (3, 4)}, lambda x: layers.Identity()(x)),
    ("- {type: upsample1d, size: 3}", {"x": (4, 2)}, lambda x: layers.UpSampling1D(3)(x)),
    (
        "- {type: upsample2d, size: [2, 3]}",
        {"x": (3, 4, 2)},
        lambda x: layers.UpSampling2D((2, 3))(x),
    ),
    (
        "- {type: upsample2d, size: [2, 3], interpolation: bilinear}",
        {"x": (3, 4, 2)},
        lambda x: layers.UpSampling2D((2, 3), interpolation="bilinear")(x),
    ),
    (
        "- {type: upsample2d, size: 4, interpolation: bilinear}",
        {"x": (5, 2, 1)},
        lambda x: layers.UpSampling2D(4, interpolation="bilinear")(x),
    ),
    (
        "- {type: upsample3d, size: [1, 2, 3]}",
        {"x": (2, 3, 2, 2)},
        lambda x: layers.UpSampling3D((1, 2, 3))(x),
    ),
    (
        "- {type: global_avg_pool, keepdims: true}",
        {"x": (5, 6, 3)},
        lambda x: layers.GlobalAveragePooling2D(keepdims=True)(x),
    ),
    (
        "- {type: global_max_pool, keepdims: true}",
        {"x": (5, 3)},
        lambda x: layers.GlobalMaxPooling1D(keepdims=True)(x),
    ),
    (
        "- {type: multiply, inputs: [x, g]}",
        {"x": (5, 5, 4), "g": (1, 1, 4)},
        lambda xs: layers.Multiply()(xs),
    ),
    (
        "- {type: multiply, inputs: [x, g]}",
        {"x": (5, 5, 4), "g": (4,)},
        lambda xs: layers.Multiply()(xs),
    ),
    (
        "- {type: add, inputs: [g, x, h]}",
        {"x": (3, 5, 4), "g": (5, 1), "h": (1, 1, 4)},
        lambda xs: layers.Add()(xs),
    ),
    (
        "- {type: subtract, inputs: [g, x]}",
        {"x": (5, 5, 4), "g": (1, 5, 4)},
        lambda xs: layers.Subtract()([xs[1], xs[0]]),  # g - x
    ),
]


@pytest.mark.parametrize(("body", "shapes", "make"), CASES, ids=[c[0] for c in CASES])
def test_keras_agrees(body: str, shapes: dict[str, tuple[int, ...]], make: Any) -> None:
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(2, *shape)) for shape in shapes.values()]
    want = keras_run(make, shapes, data)
    got = specc_run(body, shapes, data)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
