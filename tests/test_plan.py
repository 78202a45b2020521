"""The lowered plan: a lowering for every op, folding, in-place steps, buffer reuse and memory."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from specc.api import compile
from specc.lower import RunError, SpecError
from specc.lower.builder import LOWERINGS
from specc.lower.program import INFINITY, Program
from specc.units import format_bytes
from tests.conftest import spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def kinds(program: Program) -> list[str]:
    return [s.kind for s in program.steps]


def test_every_registered_op_has_a_lowering() -> None:
    assert list(LOWERINGS.missing()) == []


@pytest.mark.parametrize(
    "argv", [["report", "examples/residual_block.yaml"], ["check", "examples"]]
)
def test_static_commands_never_import_numpy(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from specc.cli import app\n"
        f"result = CliRunner().invoke(app, {argv!r})\n"
        "print(result.exit_code, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    exit_code, imported = out.stdout.split()
    assert exit_code in ("0", "1")
    assert imported == "False"


def test_batch_norm_after_a_conv_is_folded_and_relu_runs_in_place() -> None:
    program = compile(EXAMPLES / "residual_block.yaml").program()
    assert "batch_norm" not in kinds(program)
    stem = next(s for s in program.steps if s.layers[0] == "stem" and s.kind != "pad")
    assert stem.layers == ("stem", "stem_bn")
    relu = next(s for s in program.steps if s.layers == ("stem_relu",))
    assert relu.mode == "in_place" and relu.inputs[0] is stem.output


def test_batch_norm_is_not_folded_past_an_activation_or_a_second_reader() -> None:
    text = spec(
        """
        - {name: a, type: conv2d, filters: 4, kernel: 3, activation: relu}
        - {name: a_bn, type: batch_norm}
        - {name: b, type: conv2d, filters: 4, kernel: 3}
        - {name: b_bn, type: batch_norm}
        - {name: both, type: add, inputs: [b, b_bn]}
        """
    )
    program = compile(text).program()
    assert kinds(program).count("batch_norm") == 2


def test_without_folding_every_batch_norm_is_a_step() -> None:
    plan = compile(EXAMPLES / "residual_block.yaml")
    plan.fold = False
    assert kinds(plan.program(batch=2)).count("batch_norm") == 6


def test_pointwise_convs_are_plain_gemms_and_depthwise_has_its_own_kernel() -> None:
    program = compile(EXAMPLES / "mobilenet_v2.yaml").program()
    by_layer = {s.layers[0]: s.kind for s in program.steps}
    assert by_layer["block1_expand"] == "gemm"
    assert [s.kind for s in program.steps if "block1_dw" in s.layers] == ["depthwise"]
    assert by_layer["block1_dw_relu"] == "relu6"
    # The stem's padding is a step of its own (the padding rewrite names it after the layer).
    stem = [s.kind for s in program.steps if s.layers[0] in ("stem:pad", "stem")]
    assert stem == ["pad", "im2col+gemm"]


def test_an_activation_writes_straight_into_the_padded_input_of_its_reader() -> None:
    program = compile(EXAMPLES / "mobilenet_v2.yaml", batch=2).program()
    fused = next(s for s in program.steps if s.layers == ("block1_expand_relu",))
    assert fused.kind == "relu6+pad" and fused.detail == "(1,1) (1,1)"
    assert fused.output.shape == (2, 114, 114, 96)
    dw = next(s for s in program.steps if s.layers[0] == "block1_dw")
    assert dw.inputs == (fused.output,)
    assert [s.kind for s in program.steps].count("pad") == 1  # only the input image is copied


def test_residual_add_overwrites_a_dead_input() -> None:
    program = compile(EXAMPLES / "resnet18.yaml").program()
    add = next(s for s in program.steps if s.layers == ("layer1_0_add",))
    assert add.mode == "in_place"
    assert add.output.storage is add.inputs[add.target].storage


def test_reused_buffers_never_hold_two_live_values() -> None:
    program = compile(EXAMPLES / "resnet18.yaml", batch=2).program()
    arena = [st for st in program.storages if st.kind == "arena"]
    by_slot: dict[int, list[tuple[int, int]]] = {}
    for st in arena:
        assert st.slot is not None and program.slots[st.slot] >= st.nbytes
        by_slot.setdefault(st.slot, []).append((st.first, st.last))
    for intervals in by_slot.values():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert end < start
    m = program.memory
    assert m.arena < m.unshared / 2
    assert m.peak == m.weights + m.inputs + m.arena + m.workspace + m.dynamic


def test_outputs_live_to_the_end_in_their_own_arrays() -> None:
    program = compile(EXAMPLES / "conv1x1_vs_dense.yaml").program()
    for value in program.outputs.values():
        assert value.storage.kind in ("output", "fresh") and value.storage.last == INFINITY


def test_layers_that_no_output_reads_are_not_run() -> None:
    text = spec(
        """
        - {name: used, type: conv2d, filters: 4, kernel: 3}
        - {name: unused, type: dense, units: 3, inputs: x}
        - {name: out, type: relu, inputs: used}
        """
    ).replace("layers:", "outputs: [out]\nlayers:")
    program = compile(text).program()
    assert all("unused" not in s.layers for s in program.steps)
    assert "unused.kernel" in program.params  # its weights are still part of the spec


def test_memory_budget_is_checked_before_allocating() -> None:
    plan = compile(EXAMPLES / "resnet18.yaml", batch=8, max_memory=64 << 20)
    with pytest.raises(RunError) as err:
        plan.bind()
    message = str(err.value)
    assert "64.0 MiB" in message and "at peak" in message and "--max-memory" in message
    assert plan.program(batch=8)._arena is None


def test_symbolic_dims_need_a_value_or_data() -> None:
    plan = compile(EXAMPLES / "speech_frontend.yaml")
    with pytest.raises(RunError, match=r"T .*not bound.*--dim T="):
        plan.program()
    program = plan.program(dims={"T": 100})
    assert program.outputs["relu2"].shape == (1, 25, 20, 32)


def test_a_dim_too_small_for_the_layers_is_an_error() -> None:
    text = spec("- {name: c, type: conv2d, filters: 2, kernel: 5}", inputs="x: [T, 8, 1]")
    with pytest.raises(RunError, match=r"with T=2, 'c' would have the shape"):
        compile(text, dims={"T": 2}).program()


def test_unknown_dim_names_and_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(RunError, match="no dimension named 'X'"):
        compile(EXAMPLES / "speech_frontend.yaml", dims={"X": 3})
    with pytest.raises(RunError, match="float16"):
        compile(EXAMPLES / "mnist_two_convs.yaml", dtype="float16")
    with pytest.raises(RunError, match="batch size"):
        compile(EXAMPLES / "mnist_two_convs.yaml", batch=0)


def test_a_spec_with_errors_raises_its_diagnostics() -> None:
    text = spec("- {name: c, type: conv2d, filters: 2, kernel: 3, kernal: 3}")
    with pytest.raises(SpecError) as err:
        compile(text)
    assert [d.code for d in err.value.diagnostics] == ["E102"]
    with pytest.raises(SpecError) as missing:
        compile(ROOT / "no_such_spec.yaml")
    assert missing.value.diagnostics[0].code == "E001"


def test_plan_counts_flops_of_a_known_layer() -> None:
    program = compile(EXAMPLES / "keras_question.yaml").program()
    conv2 = next(s for s in program.steps if s.layers == ("conv2",))
    assert conv2.flops == 2 * 85 * 85 * 16 * 7 * 7 * 8
    assert conv2.const_bytes == (7 * 7 * 8 * 16 + 16) * 4


def test_plans_and_programs_say_what_they_are() -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    plan = compile(examples / "keras_question.yaml")
    program = plan.program()
    assert repr(plan) == (
        f"<Plan 'keras-question': 2 layers, {len(program.steps)} steps, peak memory "
        f"{format_bytes(program.memory.peak)} (batch 1, float32)>"
    )
    eight = plan.program(batch=8)
    assert repr(eight) == (
        f"<Program 'keras-question' (batch 8, float32): {len(eight.steps)} steps, "
        f"peak memory {format_bytes(eight.memory.peak)}>"
    )
    speech = compile(examples / "speech_frontend.yaml")
    assert (
        repr(speech)
        == "<Plan 'speech-frontend': 6 layers, steps once T is bound (batch 1, float32)>"
    )
    assert repr(speech.program(dims={"T": 100})).startswith(
        "<Program 'speech-frontend' (batch 1, float32, T=100): 5 steps, peak memory "
    )
    unet = compile(examples / "unet_symbolic.yaml", dims={"H": 32}, dtype="float64")
    assert repr(unet) == (
        "<Plan 'unet-symbolic': 22 layers, steps once W is bound (batch 1, float64, H=32)>"
    )
