"""The NumPy kernels against naive loop references, over many attribute combinations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import reference as ref
from numpy.typing import NDArray

from specc.lower import gemm, window
from specc.lower.gemm import conv
from specc.lower.ops.activation import activation, erf
from specc.lower.ops.conv import conv_transpose, depthwise_conv
from specc.lower.ops.dense import dense
from specc.lower.ops.norm import batch_norm
from specc.lower.ops.pool import global_pool, pool
from specc.lower.ops.reshape import upsample_nearest, zero_pad
from specc.ops import REGISTRY
from specc.ops.window import same_pads

DTYPES = [np.float64, np.float32]


def close(got: NDArray, want: NDArray, dtype: Any) -> None:
    """float64 within 1e-10 absolute (O(1) data); float32 within 1e-4 of the output's scale."""
    assert got.dtype == dtype
    assert got.shape == want.shape
    if dtype == np.float64:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    else:
        scale = max(float(np.abs(want).max()), 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


def data(shape: tuple[int, ...], seed: int, dtype: Any = np.float64) -> NDArray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def resolve(
    padding: Any,
    spatial: tuple[int, ...],
    k: tuple[int, ...],
    s: tuple[int, ...],
    d: tuple[int, ...],
) -> ref.Pairs:
    """'valid', 'same' (TensorFlow's, via the shape pass's helper) or explicit pairs."""
    if padding == "valid":
        return ((0, 0),) * len(spatial)
    if padding == "same":
        return tuple(same_pads(*a) for a in zip(spatial, k, s, d, strict=True))
    return tuple(padding)


# (spatial, C, F, kernel, stride, dilation, padding, groups, batch)
CONV_CASES = [
    ((7,), 3, 4, (3,), (1,), (1,), "valid", 1, 2),
    ((9,), 4, 6, (4,), (2,), (2,), "same", 2, 1),
    ((8,), 2, 3, (2,), (3,), (1,), ((2, 1),), 1, 3),
    ((6, 5), 3, 4, (3, 2), (1, 2), (2, 1), ((1, 2), (0, 1)), 1, 3),
    ((7, 6), 2, 3, (3, 3), (2, 2), (1, 1), "same", 1, 2),
    ((6, 7), 3, 2, (2, 4), (1, 1), (1, 1), "same", 1, 1),
    ((7, 7), 2, 3, (4, 2), (2, 3), (1, 2), "same", 1, 2),
    ((5, 6), 6, 6, (3, 3), (1, 1), (1, 1), "same", 3, 2),
    ((6, 6), 4, 2, (2, 2), (2, 1), (2, 2), ((0, 3), (2, 0)), 2, 1),
    ((5, 4), 3, 5, (1, 1), (1, 1), (1, 1), "valid", 1, 2),
    ((6, 5), 3, 4, (1, 1), (2, 2), (1, 1), "valid", 1, 2),
    ((4, 4), 2, 3, (1, 1), (1, 1), (1, 1), ((1, 0), (0, 1)), 1, 1),
    ((4, 5, 3), 2, 3, (2, 3, 2), (1, 2, 1), (1, 1, 1), "same", 1, 2),
    ((5, 4, 4), 2, 2, (2, 2, 2), (2, 1, 1), (1, 2, 1), ((1, 0), (0, 2), (1, 1)), 2, 1),
    ((3, 4, 4), 3, 2, (1, 3, 3), (1, 1, 1), (1, 1, 1), "valid", 1, 1),
]


@pytest.fixture(params=["auto", 1, 3], ids=lambda j: f"unroll-{j}")
def unroll(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a conv test with the chosen unrolling, with plain im2col, and with 3 columns per row."""
    if request.param != "auto":
        monkeypatch.setattr(gemm, "_unroll_factor", lambda *_: request.param)


@pytest.mark.usefixtures("unroll")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "case", CONV_CASES, ids=lambda c: f"{len(c[0])}d-{c[3]}-s{c[4]}-d{c[5]}-g{c[7]}"
)
def test_conv_matches_reference(case: tuple[Any, ...], dtype: Any) -> None:
    spatial, c, f, k, s, d, padding, groups, batch = case
    x, w, b = (
        data((batch, *spatial, c), 1, dtype),
        data((*k, c // groups, f), 2, dtype),
        data((f,), 3, dtype),
    )
    pads = resolve(padding, spatial, k, s, d)
    want = ref.conv(x, w, b, s, d, pads, groups)
    close(conv(x, w, b, stride=s, dilation=d, pads=pads, groups=groups), want, dtype)
    # One output row per tile: tiles cross image boundaries and groups, the result must not move.
    tiled = conv(x, w, b, stride=s, dilation=d, pads=pads, groups=groups, workspace_bytes=1)
    close(tiled, want, dtype)


@pytest.mark.usefixtures("unroll")
def test_conv_tiling_over_batch_and_rows_gives_the_same_result() -> None:
    x, w = data((3, 9, 8, 5), 4), data((3, 3, 5, 7), 5)
    attrs: dict[str, Any] = {"stride": (1, 1), "dilation": (1, 1), "pads": ((1, 1), (1, 1))}
    whole = conv(x, w, **attrs)
    row_bytes = 8 * 9 * 5 * 8
    for budget in (1, row_bytes, 3 * row_bytes, 11 * row_bytes, 100 * row_bytes):
        np.testing.assert_allclose(conv(x, w, workspace_bytes=budget, **attrs), whole, atol=1e-13)


@pytest.mark.usefixtures("unroll")
def test_conv_writes_into_out() -> None:
    # 4 output columns: with 3 per GEMM row the last block overhangs and is cropped into `out`.
    x, w = data((2, 5, 6, 3), 6), data((3, 3, 3, 4), 7)
    out = np.full((2, 3, 4, 4), np.nan)
    y = conv(x, w, stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)), out=out)
    assert y is out
    close(out, ref.conv(x, w, None, (1, 1), (1, 1), ((0, 0), (0, 0))), np.float64)
    pointwise = np.full((2, 5, 6, 4), np.nan)
    conv(x, w[:1, :1], stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)), out=pointwise)
    close(pointwise, np.einsum("nhwc,cf->nhwf", x, w[0, 0]), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pointwise_conv_is_dense_per_pixel(dtype: Any) -> None:
    x, w, b = data((2, 4, 5, 6), 8, dtype), data((1, 1, 6, 3), 9, dtype), data((3,), 10, dtype)
    y = conv(x, w, b, stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)))
    close(y, dense(x, w[0, 0], b).astype(np.float64), dtype)
    for n, i, j in [(0, 0, 0), (1, 3, 4), (0, 2, 1)]:
        close(y[n, i, j], x[n, i, j].astype(np.float64) @ w[0, 0] + b, dtype)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_share_tiles_without_changing_results(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(window, "MIN_SHARE_BYTES", 0)  # these small tensors are split too
    monkeypatch.setattr(window, "MIN_SHARE_FLOPS", 0)
    x = data((3, 9, 8, 6), 60)
    same: dict[str, Any] = {"stride": (1, 1), "dilation": (1, 1), "pads": ((1, 1), (1, 1))}
    for w, groups in [
        (data((3, 3, 6, 70), 61), 1),
        (data((3, 3, 3, 4), 62), 2),
        (data((3, 2, 6, 5), 63), 1),
    ]:
        want = ref.conv(x, w, None, (1, 1), (1, 1), ((1, 1), (1, 1)), groups)
        for budget in (1, 5000, 1 << 20):
            got = conv(x, w, groups=groups, workspace_bytes=budget, threads=threads, **same)
            close(got, want, np.float64)
    pointwise = data((1, 1, 6, 3), 64)
    got = conv(x, pointwise, stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)), threads=threads)
    close(got, dense(x, pointwise[0, 0]), np.float64)
    wd = data((3, 3, 6, 2), 65)
    close(
        depthwise_conv(x, wd, threads=threads, **same),
        ref.depthwise_conv(x, wd, None, **same),
        np.float64,
    )
    for kind in ("max", "avg"):
        got = pool(
            x, kind=kind, window=(3, 3), stride=(2, 1), pads=((1, 1), (1, 1)), threads=threads
        )
        close(got, ref.pool(x, kind, (3, 3), (2, 1), ((1, 1), (1, 1))), np.float64)


# (spatial, C, M, kernel, stride, dilation, padding, batch)
DEPTHWISE_CASES = [
    ((6, 7), 3, 1, (3, 3), (1, 1), (1, 1), "same", 2),
    ((7, 6), 2, 2, (3, 2), (2, 1), (1, 2), "same", 1),
    ((6, 6), 4, 3, (2, 2), (2, 2), (1, 1), ((1, 0), (0, 1)), 3),
    ((8, 5), 2, 1, (3, 3), (1, 2), (2, 1), "valid", 2),
    ((9,), 3, 2, (3,), (2,), (1,), "same", 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=lambda c: f"{c[3]}-m{c[2]}-s{c[4]}-d{c[5]}")
def test_depthwise_matches_reference(case: tuple[Any, ...], dtype: Any) -> None:
    spatial, c, m, k, s, d, padding, batch = case
    x, w, b = (
        data((batch, *spatial, c), 11, dtype),
        data((*k, c, m), 12, dtype),
        data((c * m,), 13, dtype),
    )
    pads = resolve(padding, spatial, k, s, d)
    want = ref.depthwise_conv(x, w, b, s, d, pads)
    close(depthwise_conv(x, w, b, stride=s, dilation=d, pads=pads), want, dtype)
    close(depthwise_conv(x, w, None, stride=s, dilation=d, pads=pads), want - b, dtype)


def test_depthwise_output_channel_is_c_times_m_plus_m() -> None:
    c, m = 3, 4
    x = np.zeros((1, 3, 3, c))
    x[0, 1, 1] = [1.0, 10.0, 100.0]
    for ci in range(c):
        for mi in range(m):
            w = np.zeros((1, 1, c, m))
            w[0, 0, ci, mi] = 1.0
            y = depthwise_conv(x, w, stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)))
            lit = np.flatnonzero(y[0, 1, 1])
            assert lit.tolist() == [ci * m + mi]
            assert y[0, 1, 1, ci * m + mi] == x[0, 1, 1, ci]


def test_depthwise_tiles_match_one_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    x, w = data((3, 9, 7, 4), 14), data((3, 3, 4, 2), 15)
    attrs: dict[str, Any] = {"stride": (1, 1), "dilation": (1, 1), "pads": ((1, 1), (1, 1))}
    whole = depthwise_conv(x, w, **attrs)
    monkeypatch.setattr(window, "TAP_TILE_BYTES", 1)
    np.testing.assert_allclose(depthwise_conv(x, w, **attrs), whole, rtol=0, atol=1e-14)


# (spatial, C, F, kernel, stride, batch)
TRANSPOSE_CASES = [
    ((3, 4), 2, 3, (3, 3), (2, 2), 2),
    ((4, 3), 3, 2, (2, 2), (2, 2), 1),
    ((3, 3), 2, 2, (2, 3), (3, 1), 2),
    ((2, 4), 1, 3, (4, 1), (1, 3), 1),
    ((3, 2), 2, 2, (5, 4), (2, 3), 1),
    ((5,), 2, 3, (3,), (2,), 2),
    ((3, 2, 3), 2, 2, (2, 3, 1), (2, 1, 3), 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: f"{c[3]}-s{c[4]}")
def test_conv_transpose_matches_reference(case: tuple[Any, ...], padding: str, dtype: Any) -> None:
    spatial, c, f, k, s, batch = case
    x, w, b = (
        data((batch, *spatial, c), 16, dtype),
        data((*k, f, c), 17, dtype),
        data((f,), 18, dtype),
    )
    want = ref.conv_transpose(x, w, b, s, padding)
    y = conv_transpose(x, w, b, stride=s, padding=padding)
    close(y, want, dtype)
    out = np.full(want.shape, np.nan, dtype)
    assert conv_transpose(x, w, b, stride=s, padding=padding, out=out) is out
    close(out, want, dtype)
    extra = [0 if padding == "same" else max(kk - ss, 0) for kk, ss in zip(k, s, strict=True)]
    assert y.shape[1:-1] == tuple(n * ss + e for n, ss, e in zip(spatial, s, extra, strict=True))


# (spatial, C, window, stride, padding, batch)
POOL_CASES = [
    ((7,), 3, (3,), (2,), "same", 2),
    ((8,), 2, (2,), (1,), ((1, 0),), 1),
    ((6, 7), 2, (2, 2), (2, 2), "valid", 2),
    ((7, 7), 3, (3, 3), (2, 2), "same", 1),
    ((6, 5), 2, (2, 3), (1, 2), "same", 3),
    ((5, 6), 2, (3, 2), (3, 1), ((1, 1), (0, 1)), 2),
    ((4, 5, 4), 2, (2, 3, 2), (2, 1, 2), "same", 2),
    ((3, 4, 4), 1, (2, 2, 2), (1, 2, 2), "valid", 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[2]}-s{c[3]}-{c[4]}")
def test_pool_matches_reference(case: tuple[Any, ...], kind: str, dtype: Any) -> None:
    spatial, c, window, s, padding, batch = case
    # Negative data: a max that let padding win would show up as zeros.
    x = data((batch, *spatial, c), 19, dtype) - dtype(2)
    pads = resolve(padding, spatial, window, s, (1,) * len(spatial))
    close(
        pool(x, kind=kind, window=window, stride=s, pads=pads),
        ref.pool(x, kind, window, s, pads),
        dtype,
    )


def test_pool_tiles_match_one_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    x = data((3, 9, 8, 4), 20)
    attrs: dict[str, Any] = {"window": (3, 3), "stride": (2, 2), "pads": ((1, 1), (1, 1))}
    whole = {kind: pool(x, kind=kind, **attrs) for kind in ("max", "avg")}
    monkeypatch.setattr(window, "TAP_TILE_BYTES", 1)
    for kind, want in whole.items():
        np.testing.assert_allclose(pool(x, kind=kind, **attrs), want, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 4, 5, 2), (1, 2, 3, 2, 4)])
def test_global_pool(shape: tuple[int, ...], dtype: Any) -> None:
    x = data(shape, 21, dtype)
    rows = x.astype(np.float64).reshape(shape[0], -1, shape[-1])
    for n in range(shape[0]):
        for c in range(shape[-1]):
            values = [float(v) for v in rows[n, :, c]]
            close(global_pool(x, "avg")[n, c : c + 1], np.array([sum(values) / len(values)]), dtype)
            close(global_pool(x, "max")[n, c : c + 1], np.array([max(values)]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_over_the_last_axis(dtype: Any) -> None:
    x, w, b = data((2, 3, 5), 22, dtype), data((5, 4), 23, dtype), data((4,), 24, dtype)
    want = np.zeros((2, 3, 4))
    for i in range(2):
        for j in range(3):
            for u in range(4):
                want[i, j, u] = sum(float(x[i, j, c]) * float(w[c, u]) for c in range(5)) + float(
                    b[u]
                )
    close(dense(x, w, b), want, dtype)
    close(dense(x, w), want - b, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "scale, center", [(True, True), (False, True), (True, False), (False, False)]
)
def test_batch_norm(scale: bool, center: bool, dtype: Any) -> None:
    x = data((2, 3, 4, 5), 25, dtype)
    gamma, beta = (data((5,), 26) if scale else None), (data((5,), 27) if center else None)
    mean, var = data((5,), 28), data((5,), 29) ** 2 + 0.1
    close(
        batch_norm(x, gamma, beta, mean, var, 1e-3),
        ref.batch_norm(x, gamma, beta, mean, var, 1e-3),
        dtype,
    )


ACTIVATIONS = sorted(name for name, op in REGISTRY.items() if op.family == "activation")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_formula(name: str, dtype: Any) -> None:
    x = (data((3, 4, 7), 30) * 8).astype(dtype)
    close(activation(x, name), ref.activation(x, name), dtype)
    inplace = x.copy()
    assert activation(inplace, name, out=inplace) is inplace
    close(inplace, ref.activation(x, name), dtype)


@pytest.mark.parametrize("name, alpha", [("leaky_relu", 0.1), ("elu", 0.5)])
def test_activation_alpha(name: str, alpha: float) -> None:
    x = data((4, 6), 31) * 3
    close(activation(x, name, alpha=alpha), ref.activation(x, name, alpha), np.float64)
    x32 = x.astype(np.float32)
    assert activation(x32, name, alpha=alpha).dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_sum_to_one_and_large_inputs_stay_finite(dtype: Any) -> None:
    x = (data((5, 9), 32) * 1e4).astype(dtype)
    y = activation(x, "softmax")
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)
    shifted = activation(x - dtype(1000), "softmax")
    close(shifted, y.astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_inputs_stay_finite(dtype: Any) -> None:
    x = np.array([-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4], dtype)
    for name in ACTIVATIONS:
        assert np.isfinite(activation(x, name)).all(), name
    np.testing.assert_array_equal(activation(x, "sigmoid")[[0, -1]], [0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_erf_matches_math_erf(dtype: Any) -> None:
    x = np.concatenate([np.linspace(-7, 7, 2001), [-np.inf, np.inf, 0.5, 6.0, -6.0]]).astype(dtype)
    want = np.array([math.erf(float(v)) for v in x])
    close(erf(x), want, dtype)
    if dtype == np.float64:
        np.testing.assert_allclose(erf(x), want, rtol=0, atol=1e-14)
    assert np.isnan(erf(np.array([np.nan, 1.0], dtype))[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_pad_and_upsample(dtype: Any) -> None:
    x = data((2, 3, 4, 2), 33, dtype)
    pairs = ((1, 2), (0, 3))
    close(zero_pad(x, pairs), ref.zero_pad(x, pairs), dtype)
    close(upsample_nearest(x, (2, 3)), ref.upsample_nearest(x, (2, 3)), dtype)
    x1 = data((2, 5, 3), 34, dtype)
    close(zero_pad(x1, ((2, 0),)), ref.zero_pad(x1, ((2, 0),)), dtype)
    close(upsample_nearest(x1, (3,)), ref.upsample_nearest(x1, (3,)), dtype)
    unpadded = zero_pad(x, ((0, 0), (0, 0)))
    assert unpadded is not x and np.array_equal(unpadded, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_without_a_gemm_write_into_out(dtype: Any) -> None:
    # The plan hands these kernels a buffer of its arena: they must fill it and return it.
    x = data((2, 5, 6, 3), 48, dtype) - dtype(1)
    mean, var = data((3,), 49, dtype), data((3,), 50, dtype) ** 2
    pads = ((1, 0), (0, 1))
    cases = [
        (
            lambda out: pool(x, kind="max", window=(2, 2), stride=(2, 2), pads=pads, out=out),
            ref.pool(x, "max", (2, 2), (2, 2), pads),
        ),
        (
            lambda out: pool(x, kind="avg", window=(3, 2), stride=(1, 2), pads=pads, out=out),
            ref.pool(x, "avg", (3, 2), (1, 2), pads),
        ),
        (lambda out: global_pool(x, "max", out=out), x.max(axis=(1, 2))),
        (lambda out: global_pool(x, "avg", out=out), x.astype(np.float64).mean(axis=(1, 2))),
        (lambda out: upsample_nearest(x, (2, 3), out=out), ref.upsample_nearest(x, (2, 3))),
        (
            lambda out: batch_norm(x, None, None, mean, var, 0.5, out=out),
            (x - mean) / np.sqrt(var.astype(np.float64) + 0.5),
        ),
    ]
    for run, want in cases:
        out = np.full(want.shape, np.nan, dtype)
        assert run(out) is out
        close(out, want, dtype)
    # A strided buffer (a slice of a larger one) is written through, not copied and dropped.
    wide = np.full((2, 10, 18, 6), np.nan, dtype)
    target = wide[..., ::2]
    assert upsample_nearest(x, (2, 3), out=target) is target
    close(wide[..., ::2], ref.upsample_nearest(x, (2, 3)), dtype)
    assert np.isnan(wide[..., 1::2]).all()


def test_float32_stays_float32_with_float64_weights() -> None:
    x = data((1, 6, 6, 4), 35, np.float32)
    w64, b64 = data((3, 3, 4, 2), 36), data((2,), 37)
    same: dict[str, Any] = {"stride": (1, 1), "dilation": (1, 1), "pads": ((1, 1), (1, 1))}
    outputs = [
        conv(x, w64, b64, **same),
        conv(x, w64[:1, :1], b64, stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0))),
        depthwise_conv(x, data((3, 3, 4, 1), 38), data((4,), 39), **same),
        conv_transpose(x, data((2, 2, 3, 4), 40), data((3,), 41), stride=(2, 2), padding="same"),
        pool(x, kind="avg", window=(2, 2), stride=(2, 2), pads=((0, 0), (0, 0))),
        pool(x, kind="max", window=(3, 3), stride=(1, 1), pads=((1, 1), (1, 1))),
        global_pool(x, "avg"),
        dense(x, data((4, 3), 42), data((3,), 43)),
        batch_norm(x, data((4,), 44), data((4,), 45), data((4,), 46), data((4,), 47) ** 2, 1e-3),
        zero_pad(x, ((1, 1), (1, 1))),
        upsample_nearest(x, (2, 2)),
        *(
            activation(x, name, alpha=0.2 if name in ("elu", "leaky_relu") else None)
            for name in ACTIVATIONS
        ),
    ]
    assert [y.dtype for y in outputs] == [np.float32] * len(outputs)


def test_against_torch() -> None:
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    x = data((2, 9, 8, 6), 50)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())

    def nhwc(t: Any) -> NDArray:
        return t.numpy().transpose(0, 2, 3, 1)

    w = data((3, 2, 3, 4), 51)
    y = conv(x, w, stride=(2, 1), dilation=(1, 2), pads=((1, 1), (2, 2)), groups=2)
    wt = torch.from_numpy(w.transpose(3, 2, 0, 1).copy())
    close(
        y,
        nhwc(f.conv2d(xt, wt, stride=(2, 1), dilation=(1, 2), padding=(1, 2), groups=2)),
        np.float64,
    )

    wd = data((3, 3, 6, 2), 52)
    y = depthwise_conv(x, wd, stride=(1, 2), dilation=(1, 1), pads=((1, 1), (1, 1)))
    wdt = torch.from_numpy(wd.reshape(3, 3, 12).transpose(2, 0, 1)[:, None].copy())
    close(y, nhwc(f.conv2d(xt, wdt, stride=(1, 2), padding=1, groups=6)), np.float64)

    wtr = data((4, 3, 5, 6), 53)
    full = nhwc(
        f.conv_transpose2d(xt, torch.from_numpy(wtr.transpose(3, 2, 0, 1).copy()), stride=2)
    )
    close(conv_transpose(x, wtr, stride=(2, 2), padding="valid"), full[:, :, :17], np.float64)
    close(conv_transpose(x, wtr, stride=(2, 2), padding="same"), full[:, 1:19, :16], np.float64)

    pads = ((1, 1), (1, 1))
    close(
        pool(x, kind="max", window=(3, 3), stride=(2, 2), pads=pads),
        nhwc(f.max_pool2d(xt, 3, 2, 1)),
        np.float64,
    )
    avg = f.avg_pool2d(xt, 3, 2, 1, count_include_pad=False)
    close(pool(x, kind="avg", window=(3, 3), stride=(2, 2), pads=pads), nhwc(avg), np.float64)


def test_scratch_keeps_small_buffers_only_and_can_be_released() -> None:
    window.release_scratch()
    x, w = data((2, 9, 9, 4), 70), data((3, 3, 4, 5), 71)
    conv(x, w, stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)))
    activation(x, "silu")
    kept = window.scratch_bytes()
    assert 0 < kept < 1 << 20
    activation(np.zeros(window.KEEP_BYTES // 8 + 1), "sigmoid")  # temporaries over the cap
    assert window.scratch_bytes() == kept
    window.release_scratch()
    assert window.scratch_bytes() == 0
