"""The rewrite passes, each alone on a small model: what they change and what they leave."""

from __future__ import annotations

from specc.api import check_text
from specc.ir import Model
from specc.passes.fold import FoldBatchNorm
from specc.passes.padding import ExplicitPadding, FusePadding, PadOutput
from specc.passes.rewrite import run_passes
from tests.conftest import spec


def _model(body: str, inputs: str = "x: [6, 6, 2]") -> Model:
    checked = check_text(spec(body, inputs))
    assert checked.ok and checked.model is not None, checked.diagnostics
    return checked.model


def _layers(model: Model) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(x.name, x.op.type, x.inputs) for x in model.layers]


def test_a_batch_norm_after_a_linear_layer_is_folded_into_it() -> None:
    model = _model(
        """
        - {name: c, type: conv2d, filters: 3, kernel: 3, bias: false}
        - {name: bn, type: batch_norm}
        - {name: r, type: relu}
        """
    )
    result = FoldBatchNorm().call(model)
    assert result.modified
    assert _layers(result.model) == [("c", "conv2d", ("x",)), ("r", "relu", ("c",))]
    assert result.model.layers[0].op.bias is True  # type: ignore[attr-defined]
    assert result.aliases == {"bn": "c"}
    assert [(f.into, f.layer) for f in result.folds] == [("c", "bn")]


def test_no_fold_after_an_activation_a_second_reader_or_an_output() -> None:
    model = _model(
        """
        - {name: a, type: conv2d, filters: 3, kernel: 1, activation: relu}
        - {name: bn1, type: batch_norm}
        - {name: b, type: dense, units: 3, inputs: x}
        - {name: bn2, type: batch_norm}
        - {name: other, type: relu, inputs: b}
        - {name: c, type: conv2d, filters: 2, kernel: 1, inputs: x}
        - {name: bn3, type: batch_norm}
        """
    )
    model = replace_outputs(model, ("bn1", "bn2", "other", "c", "bn3"))
    result = FoldBatchNorm().call(model)
    assert not result.modified and result.model is model


def replace_outputs(model: Model, outputs: tuple[str, ...]) -> Model:
    from dataclasses import replace

    return replace(model, outputs=outputs)


def test_same_padding_becomes_a_zero_pad_layer_before_the_convolution() -> None:
    # 'same' on 6 with kernel 4, stride 1: 3 in total, 1 before and 2 after (TensorFlow's rule)
    model = _model("- {name: c, type: conv2d, filters: 2, kernel: 4, padding: same}")
    sizes = {"x": (6, 6, 2)}
    result = ExplicitPadding(sizes).call(model)
    assert _layers(result.model) == [("c:pad", "zero_pad2d", ("x",)), ("c", "conv2d", ("c:pad",))]
    pad, conv = result.model.layers
    assert pad.op.pairs == ((1, 2), (1, 2))  # type: ignore[attr-defined]
    assert conv.op.padding == "valid"  # type: ignore[attr-defined]
    unpadded = _model("- {name: c, type: conv2d, filters: 2, kernel: 1, padding: same}")
    assert not ExplicitPadding(sizes).call(unpadded).modified


def test_an_activation_writes_into_the_padded_buffer_of_its_one_reader() -> None:
    model = _model(
        """
        - {name: r, type: relu}
        - {name: c, type: conv2d, filters: 2, kernel: 3, padding: 1}
        """
    )
    result = run_passes(model, [ExplicitPadding({"x": (6, 6, 2), "r": (6, 6, 2)}), FusePadding()])
    assert _layers(result.model) == [
        ("r", "", ("x",)),
        ("c", "conv2d", ("r",)),
    ]  # PadOutput: internal, no type
    fused = result.model.layers[0].op
    assert isinstance(fused, PadOutput) and fused.pairs == ((1, 1), (1, 1))
    assert result.aliases == {"c:pad": "r"}


def test_no_fusion_when_the_activation_is_read_twice() -> None:
    model = _model(
        """
        - {name: r, type: relu}
        - {name: c, type: conv2d, filters: 2, kernel: 3, padding: 1}
        - {name: d, type: conv2d, filters: 2, kernel: 1, inputs: r}
        - {name: out, type: concat, inputs: [c, d], axis: 0}
        """,
    )
    sizes = {"x": (6, 6, 2), "r": (6, 6, 2)}
    result = run_passes(model, [ExplicitPadding(sizes), FusePadding()])
    assert [x.op.type for x in result.model.layers] == [
        "relu",
        "zero_pad2d",
        "conv2d",
        "conv2d",
        "concat",
    ]
