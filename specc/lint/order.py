"""Layer order: a bias that batch_norm cancels, stacked activations, squashing activations
inside the network, and dropout in the wrong place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from specc.diagnostics import Severity
from specc.dims import format_dim, product
from specc.ir import Layer
from specc.lint.graph import live
from specc.lint.registry import Context, Finding, rule
from specc.lint.words import join

W = Severity.WARNING
T = TypeVar("T")
SQUASHING = frozenset({"softmax", "sigmoid", "hard_sigmoid"})
# sigmoid (hard or not) and softmax weights are meant to scale another branch, of their shape or
# broadcast over a larger one (squeeze-and-excitation's (1, 1, C) gate over an (H, W, C) map)
GATES = frozenset({"multiply"})
RESHAPES = frozenset({"flatten", "reshape"})  # move values around without changing them
MOVES = RESHAPES | {"concat"}  # ...or put them beside others, unchanged


def activation_of(layer: Layer) -> str | None:
    """The activation a layer applies last: its own type, or its `activation:` attribute (a
    wrapper's, that of the op it applies)."""
    op = layer.op.innermost
    if op.family == "activation":
        return op.type
    value = getattr(op, "activation", None)
    return value if isinstance(value, str) else None


def _names(layers: tuple[Layer, ...] | list[Layer]) -> str:
    return join([layer.name for layer in layers])


@rule(
    "W201",
    "bias-before-batch-norm",
    W,
    summary="A convolution or dense layer with a bias feeds straight into batch_norm.",
    why=(
        "batch_norm subtracts the per-channel mean, so a constant added per channel just before it "
        "has no effect on the output: the bias parameters are wasted and receive no useful "
        "gradient, and batch_norm's own offset (beta) already does their job. Set `bias: false` "
        "on the layer before batch_norm."
    ),
    bad=(
        "specc: 1\nname: conv-bn\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 16, kernel: 3, padding: same}\n"
        "  - {name: bn1, type: batch_norm}\n  - {name: relu1, type: relu}\n"
    ),
    good=(
        "specc: 1\nname: conv-bn\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 16, kernel: 3, padding: same, bias: false}\n"
        "  - {name: bn1, type: batch_norm}\n  - {name: relu1, type: relu}\n"
    ),
)
def bias_before_batch_norm(ctx: Context) -> Iterator[Finding]:
    for info in ctx.applied():
        layer = info.layer
        readers = ctx.readers(layer.name)
        if not getattr(layer.op, "bias", False) or activation_of(layer) is not None:
            continue
        if layer.name in ctx.outputs or not readers or any(r.type != "batch_norm" for r in readers):
            continue
        count = sum((product(p.shape) for p in info.params if p.name == "bias"), 0)
        subtract = "subtracts" if len(readers) == 1 else "subtract"
        message = (
            f"its bias ({format_dim(count)} parameters) is cancelled by batch_norm "
            f"{_names(readers)}, which {subtract} the per-channel mean; set `bias: false`"
        )
        yield Finding(message, layer, "bias")


@rule(
    "W202",
    "double-activation",
    W,
    summary="An activation layer directly follows another activation.",
    why=(
        "Two non-linearities in a row with nothing in between are almost always a slip: a "
        "`relu` layer after a convolution that already has `activation: relu` does nothing, and "
        "other pairs (sigmoid then relu, softmax then tanh) squash values twice. Keep one."
    ),
    bad=(
        "specc: 1\nname: twice\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, padding: same, activation: relu}\n"
        "  - {name: relu1, type: relu}\n"
    ),
    good=(
        "specc: 1\nname: twice\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, padding: same, activation: relu}\n"
    ),
)
def double_activation(ctx: Context) -> Iterator[Finding]:
    for layer in (info.layer for info in ctx.applied()):
        if layer.op.family != "activation" or len(layer.inputs) != 1:
            continue
        before = ctx.layers.get(layer.inputs[0])
        previous = None if before is None else activation_of(before)
        if before is None or previous is None:
            continue
        if before.op.family == "activation":
            what = f"the {previous} layer {before.name}"
        else:
            what = f"{before.name}, which already applies {previous} (`activation: {previous}`)"
        yield Finding(f"{layer.type} directly after {what}; keep one of the two", layer)


def _kind(layer: Layer) -> str:
    """What a layer does to values: its type, or a wrapper's inner type (per slice)."""
    return layer.op.innermost.type


def _backwards(ctx: Context, step: Callable[[str, dict[str, T]], T], key: str) -> dict[str, T]:
    """`step(name, done)` for every layer, the last first: a layer's readers come after it in
    the spec, so `done` already holds theirs. One pass, no recursion."""

    def compute() -> dict[str, T]:
        done: dict[str, T] = {}
        for layer in reversed(ctx.model.layers):
            done[layer.name] = step(layer.name, done)
        return done

    return ctx.memo(key, compute)


def _misplaced_reader(ctx: Context, name: str) -> Layer | None:
    """The first reader of `name` that a squashed value should not reach. A gate is fine, and so
    is a reshape or concat whose own readers are fine; a dead reader is W301's."""

    def step(name: str, done: dict[str, Layer | None]) -> Layer | None:
        for reader in ctx.readers(name):
            if _kind(reader) in GATES or reader.name not in live(ctx):
                continue
            found = done[reader.name] if _kind(reader) in MOVES else reader
            if found is not None:
                return found
        return None

    return _backwards(ctx, step, "misplaced-reader")[name]


@rule(
    "W203",
    "squashing-activation-inside",
    W,
    summary="A softmax or sigmoid feeds a later layer other than a gate (multiply, "
    "broadcasting or not).",
    why=(
        "softmax and sigmoid squash values into (0, 1); they belong at a network's output "
        "(class probabilities) or in a gate that scales another branch (attention, or "
        "squeeze-and-excitation, whose (1, 1, C) gate a multiply broadcasts over the (H, W, C) "
        "map). "
        "Inside the network they saturate and shrink gradients, and a softmax before the loss is "
        "often applied twice when the loss expects logits. Use relu (or another hidden activation) "
        "inside, and put the softmax last."
    ),
    bad=(
        "specc: 1\nname: hidden-softmax\ninputs: {features: [64]}\nlayers:\n"
        "  - {name: fc1, type: dense, units: 32, activation: softmax}\n"
        "  - {name: fc2, type: dense, units: 10}\n"
    ),
    good=(
        "specc: 1\nname: hidden-softmax\ninputs: {features: [64]}\nlayers:\n"
        "  - {name: fc1, type: dense, units: 32, activation: relu}\n"
        "  - {name: fc2, type: dense, units: 10, activation: softmax}\n"
    ),
)
def squashing_activation_inside(ctx: Context) -> Iterator[Finding]:
    for layer in (info.layer for info in ctx.applied()):
        act = activation_of(layer)
        if act not in SQUASHING:
            continue
        reader = _misplaced_reader(ctx, layer.name)
        if reader is None:
            continue
        if layer.name in ctx.outputs:
            message = (
                f"its {act} output is a model output and also feeds {reader.name} "
                f"({reader.type}); let {reader.name} read the values before the {act}"
            )
        else:
            message = (
                f"its {act} output feeds {reader.name} ({reader.type}); {act} belongs at the "
                "output or in a gate (multiply), not inside the network"
            )
        yield Finding(message, layer, None if layer.op.family == "activation" else "activation")


def _rate(layer: Layer) -> str:
    return f"{getattr(layer.op, 'rate', 0):g}"


def _drops(layer: Layer) -> bool:
    """A dropout layer that zeroes something in training: at rate 0 it is the identity."""
    return layer.type == "dropout" and getattr(layer.op, "rate", 0) > 0


@rule(
    "W204",
    "dropout-at-output",
    W,
    summary="A dropout layer with a rate above 0 is a model output, or reaches one through "
    "reshapes only.",
    why=(
        "Dropout after the last layer zeroes a random part of the predictions during training "
        "and does nothing at inference, so the model trains against outputs it will never produce. "
        "Put dropout before the last layer (on the features it reads), not after it."
    ),
    bad=(
        "specc: 1\nname: late-dropout\ninputs: {features: [64]}\nlayers:\n"
        "  - {name: fc, type: dense, units: 10}\n  - {name: drop, type: dropout, rate: 0.5}\n"
    ),
    good=(
        "specc: 1\nname: late-dropout\ninputs: {features: [64]}\nlayers:\n"
        "  - {name: drop, type: dropout, rate: 0.5}\n  - {name: fc, type: dense, units: 10}\n"
    ),
)
def dropout_at_output(ctx: Context) -> Iterator[Finding]:
    for layer in ctx.model.layers:
        if not _drops(layer):
            continue
        output = _output_through_reshapes(ctx, layer)
        if output is None:
            continue
        where = (
            "is a model output"
            if output is layer
            else f"reaches model output {output.name} with only reshapes in between"
        )
        message = (
            f"dropout (rate {_rate(layer)}) {where}: in training it zeroes part of the "
            "predictions, at inference it does nothing"
        )
        yield Finding(message, layer)


def _output_through_reshapes(ctx: Context, layer: Layer) -> Layer | None:
    """The model output that `layer`'s values reach unchanged (only reshaped), if any."""

    def step(name: str, done: dict[str, Layer | None]) -> Layer | None:
        if name in ctx.outputs:
            return ctx.layers.get(name)
        reshaped = (done[r.name] for r in ctx.readers(name) if _kind(r) in RESHAPES)
        return next((found for found in reshaped if found is not None), None)

    return _backwards(ctx, step, "output-through-reshapes")[layer.name]


@rule(
    "W205",
    "dropout-before-batch-norm",
    W,
    summary="A dropout layer with a rate above 0 feeds batch_norm (directly, or through "
    "dropout and reshapes).",
    why=(
        "batch_norm learns its moving variance from activations that dropout has thinned and "
        "rescaled in training; at inference dropout is off, the variance is different, and the "
        "normalisation is wrong (the 'variance shift' of Li et al., 2019). Put dropout after "
        "the last batch_norm, or before a layer without batch_norm."
    ),
    bad=(
        "specc: 1\nname: drop-bn\ninputs: {features: [64]}\nlayers:\n"
        "  - {name: drop, type: dropout, rate: 0.5}\n  - {name: bn, type: batch_norm}\n"
        "  - {name: fc, type: dense, units: 10}\n"
    ),
    good=(
        "specc: 1\nname: drop-bn\ninputs: {features: [64]}\nlayers:\n"
        "  - {name: bn, type: batch_norm}\n  - {name: drop, type: dropout, rate: 0.5}\n"
        "  - {name: fc, type: dense, units: 10}\n"
    ),
)
def dropout_before_batch_norm(ctx: Context) -> Iterator[Finding]:
    for layer in ctx.model.layers:
        if not _drops(layer):
            continue
        norms = _norms_reached(ctx, layer.name)
        if norms:
            message = (
                f"dropout (rate {_rate(layer)}) feeds batch_norm {_names(norms)}, whose moving "
                "variance learnt with dropout on is wrong at inference"
            )
            yield Finding(message, layer)


def _norms_reached(ctx: Context, name: str) -> tuple[Layer, ...]:
    """The batch norms that read `name` directly or through more dropout and reshapes."""

    def step(name: str, done: dict[str, tuple[Layer, ...]]) -> tuple[Layer, ...]:
        found: dict[str, Layer] = {}
        for reader in ctx.readers(name):
            if _kind(reader) == "batch_norm":
                found[reader.name] = reader
            elif _kind(reader) == "dropout" or _kind(reader) in RESHAPES:
                found.update((norm.name, norm) for norm in done[reader.name])
        return tuple(found.values())

    return _backwards(ctx, step, "norms-reached")[name]
