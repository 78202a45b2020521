"""The networks of the question thread, checked against the numbers published there."""

from __future__ import annotations

from pathlib import Path

import pytest

from specc.api import check_file
from specc.dims import format_dim
from specc.dims import product as dim_product
from specc.ir import format_shape

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def shapes(name: str):  # type: ignore[no-untyped-def]
    result = check_file(EXAMPLES / name)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    assert result.shapes is not None
    return result.shapes.layers


def kernel(info) -> tuple:  # type: ignore[no-untyped-def]
    return next(p.shape for p in info.params if p.name == "kernel")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_is_clean(path: Path) -> None:
    result = check_file(path)
    assert [d.code for d in result.diagnostics if d.severity.name == "ERROR"] == []


def test_keras_question_kernel_is_7x7x8x16() -> None:
    layers = shapes("keras_question.yaml")
    assert kernel(layers["conv1"]) == (11, 11, 1, 8)
    assert kernel(layers["conv2"]) == (7, 7, 8, 16)
    # 101 - 11 + 1 = 91; 91 - 7 + 1 = 85
    assert layers["conv2"].output.shape == (85, 85, 16)
    assert layers["conv2"].param_count == 16 * (7 * 7 * 8 + 1) == 6288


def test_channels_example_has_864_weights() -> None:
    info = shapes("channels_10x5x6.yaml")["conv"]
    assert info.output.shape == (3, 8, 16)  # 8 wide, 3 high, 16 channels
    assert dim_product(kernel(info)) == 6 * 16 * 3 * 3 == 864


def test_mnist_two_convs_have_160_and_4640_params() -> None:
    layers = shapes("mnist_two_convs.yaml")
    assert layers["conv1"].param_count == 160
    assert layers["conv2"].param_count == 4640
    assert layers["conv2"].output.shape == (28, 28, 32)


def test_speech_front_end_is_ceil_t4_by_20_by_32() -> None:
    layers = shapes("speech_frontend.yaml")
    assert format_shape(layers["relu2"].output.shape) == "(ceil(T/4), 20, 32)"
    assert kernel(layers["conv1"]) == (3, 3, 3, 32)
    assert kernel(layers["conv2"]) == (3, 3, 32, 32)
    assert format_dim(layers["bn1"].param_count) == "128"
    assert layers["bn1"].trainable_count == 64


def test_1x1_conv_and_dense_have_the_same_numbers() -> None:
    layers = shapes("conv1x1_vs_dense.yaml")
    conv, dense = layers["pointwise_conv"], layers["per_pixel_dense"]
    assert conv.output == dense.output
    assert conv.param_count == dense.param_count == 64 * 16 + 16
    assert dim_product(kernel(conv)) == dim_product(kernel(dense))


def test_conv3d_1x3x3_matches_time_distributed_conv2d() -> None:
    layers = shapes("conv3d_vs_time_distributed.yaml")
    a, b = layers["conv3d_1x3x3"], layers["td_conv2d_3x3"]
    assert a.output.shape == b.output.shape == (8, 30, 30, 16)
    assert a.param_count == b.param_count == 16 * (3 * 3 + 1)


def test_residual_and_concat_examples() -> None:
    res = shapes("residual_block.yaml")
    assert res["b2_add"].output.shape == (16, 16, 32)
    assert res["probs"].output.shape == (10,)
    cat = shapes("inception_concat.yaml")
    assert cat["mixed"].output.shape == (28, 28, 64 + 128 + 32 + 32)


def test_speech_model_keeps_t_from_the_front_end_through_the_gru() -> None:
    layers = shapes("speech_bigru.yaml")
    assert format_shape(layers["frames"].output.shape) == "(ceil(T/4), 640)"  # 20 x 32 per frame
    assert format_shape(layers["bigru"].output.shape) == "(ceil(T/4), 512)"  # 2 x 256, concat
    # Keras's GRU(256, reset_after=True) on 640 features, once per direction
    assert layers["bigru"].param_count == 2 * 3 * (256 * (640 + 256) + 2 * 256) == 1_379_328
    assert format_shape(layers["scores"].output.shape) == "(ceil(T/4), 29)"
    assert layers["scores"].param_count == 512 * 29 + 29


def test_efficientnet_b0_counts_as_keras_does() -> None:
    # keras.applications.EfficientNetB0(): 5,330,571 parameters, 5,288,548 trainable; the rest
    # are batch norms' moving statistics (2 per channel) and Normalization's mean, variance, count
    from specc.report.summary import summarize

    result = check_file(EXAMPLES / "efficientnet_b0.yaml")
    assert result.ok and result.shapes is not None
    summary = summarize(result.shapes)
    assert (summary.params, summary.trainable_params) == (5_330_571, 5_288_548)
    layers = result.shapes.layers
    bn_channels = sum(
        info.output.shape[-1] for info in layers.values() if info.layer.type == "batch_norm"
    )
    assert summary.params - summary.trainable_params == 2 * bn_channels + (3 + 3 + 1)
    # a squeeze-and-excitation gate (1, 1, 96) scales the (112, 112, 96) map by broadcasting
    assert layers["block2a_se_excite"].inputs[1].shape == (1, 1, 96)
    assert layers["predictions"].output.shape == (1000,)


def test_mobilenet_v3_small_counts_as_keras_does() -> None:
    # keras.applications.MobileNetV3Small(): 2,554,968 parameters, 2,542,856 trainable
    from specc.report.summary import summarize

    result = check_file(EXAMPLES / "mobilenet_v3_small.yaml")
    assert result.ok and result.shapes is not None
    summary = summarize(result.shapes)
    assert (summary.params, summary.trainable_params) == (2_554_968, 2_542_856)
    layers = result.shapes.layers
    assert layers["b8_dw"].output.shape == (7, 7, 288)  # 14 -> 7 after the padded stride-2 5x5
    assert layers["logits"].param_count == 1000 * (1024 + 1)


def test_conformer_block_counts_and_keeps_the_quadratic_attention_cost() -> None:
    from specc.dims import substitute
    from specc.report.summary import summarize

    result = check_file(EXAMPLES / "conformer_block.yaml")
    assert result.ok and result.shapes is not None
    layers = result.shapes.layers
    d, h, k = 144, 4, 36
    feed_forward = 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)  # layer norm, two dense
    attention = 2 * d + 3 * (d * h * k + h * k) + (h * k * d + d)  # layer norm, q k v, output
    convolution = 2 * d + (d * 2 * d + 2 * d) + 31 * d + 4 * d + (d * d + d)
    assert summarize(result.shapes).params == 2 * feed_forward + attention + convolution + 2 * d
    assert format_shape(layers["glu"].output.shape) == "(T, 144)"
    # the attention's scores and weighted values: h x T x T x (k + v) multiply-adds
    macs = layers["mhsa"].layer.op.macs(layers["mhsa"].inputs, layers["mhsa"].output)
    quadratic = substitute(macs, {"T": 2}) - 2 * substitute(macs, {"T": 1})
    assert quadratic == 2 * h * (k + k)  # 2^2 - 2 x 1^2 = 2 times the T^2 coefficient
