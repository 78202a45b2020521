"""Budgets: the model's parameter count and activation memory against configured limits."""

from __future__ import annotations

from collections.abc import Iterator

from specc.diagnostics import Severity
from specc.dims import product
from specc.ir import FLOAT32_BYTES, format_shape
from specc.lint.registry import Context, Finding, rule
from specc.passes.shapes import LayerShapes

W = Severity.WARNING
MIB = 1024 * 1024


def _mib(size: float, budget: float = 0) -> str:
    """A size in MiB with enough digits to tell it from `budget` and from 0 (1.00 MiB would
    look equal to a budget of 1, and 0.00 MiB to nothing)."""
    digits = 2 if size < 10 else 1
    while digits < 6 and size > budget and round(size, digits) <= budget:
        digits += 1
    return f"{size:,.{digits}f}"


def _known(ctx: Context) -> list[LayerShapes] | None:
    """Every layer's shapes, or None when some are unknown (a budget would be undercounted)."""
    infos = list(ctx.shaped())
    return infos if len(infos) == len(ctx.model.layers) else None


@rule(
    "W501",
    "parameter-budget",
    W,
    summary="The model has more parameters than `max-params` allows.",
    why=(
        "A budget turns 'this model must fit on the device' into a check that runs on every "
        "change: a kernel size or a forgotten pooling layer that multiplies the parameter count "
        "fails CI instead of a deployment. The count is Keras's 'Total params' (trainable and "
        "not); the finding points at the largest layer. Set it with `--max-params` or "
        "`max-params` in `[tool.specc]`."
    ),
    bad=(
        "# specc check --max-params 10000000\n"
        "specc: 1\nname: big-head\ninputs: {features: [7, 7, 512]}\nlayers:\n"
        "  - {type: flatten}\n  - {name: fc1, type: dense, units: 4096}\n"
    ),
    good=(
        "# specc check --max-params 10000000\n"
        "specc: 1\nname: big-head\ninputs: {features: [7, 7, 512]}\nlayers:\n"
        "  - {type: global_avg_pool}\n  - {name: fc1, type: dense, units: 4096}\n"
    ),
    options={"max_params": 10_000_000},
)
def parameter_budget(ctx: Context) -> Iterator[Finding]:
    budget = ctx.settings.max_params
    infos = _known(ctx) if budget is not None else None
    if budget is None or not infos:
        return
    counts = [(count, info) for info in infos if isinstance(count := info.param_count, int)]
    total = sum(count for count, _ in counts)
    # A symbolic count has no single value, but it is never negative: the fixed counts alone
    # are a lower bound, and over the budget they are enough to decide.
    if total <= budget:
        return
    count, largest = max(counts, key=lambda pair: pair[0])
    amount = f"{total:,}" if len(counts) == len(infos) else f"at least {total:,}"
    message = (
        f"the model has {amount} parameters, over the budget of {budget:,} (max-params); "
        f"the largest layer is {largest.layer.name} with {count:,}"
    )
    yield Finding(message, span=largest.layer.span)


@rule(
    "W502",
    "activation-budget",
    W,
    summary="The layer outputs take more memory per sample than `max-activation-mb` allows.",
    why=(
        "Activation memory, not weights, is what usually runs out in training: every layer's "
        "output is kept for the backward pass, for every sample of the batch. specc adds up the "
        "per-sample size of every layer's output at 4 bytes (float32) and compares it with the "
        "budget in MiB (2^20 bytes); the finding points at the layer with the largest output. "
        "Set it with `--max-activation-mb` or `max-activation-mb` in `[tool.specc]`."
    ),
    bad=(
        "# specc check --max-activation-mb 10\n"
        "specc: 1\nname: wide-stem\ninputs: {image: [224, 224, 3]}\nlayers:\n"
        "  - {name: stem, type: conv2d, filters: 64, kernel: 3, padding: same}\n"
    ),
    good=(
        "# specc check --max-activation-mb 10\n"
        "specc: 1\nname: wide-stem\ninputs: {image: [224, 224, 3]}\nlayers:\n"
        "  - {name: stem, type: conv2d, filters: 64, kernel: 3, stride: 2, padding: same}\n"
    ),
    options={"max_activation_mb": 10},
)
def activation_budget(ctx: Context) -> Iterator[Finding]:
    budget = ctx.settings.max_activation_mb
    infos = _known(ctx) if budget is not None else None
    if budget is None or not infos:
        return
    sizes = [(size, info) for info in infos if isinstance(size := product(info.output.shape), int)]
    total = sum(size for size, _ in sizes) * FLOAT32_BYTES / MIB  # a lower bound, as above
    if total <= budget:
        return
    size, largest = max(sizes, key=lambda pair: pair[0])
    amount = _mib(total, budget) if len(sizes) == len(infos) else f"at least {_mib(total, budget)}"
    message = (
        f"the layer outputs take {amount} MiB per sample (float32), over the budget of "
        f"{budget:g} MiB (max-activation-mb); the largest is {largest.layer.name}'s "
        f"{format_shape(largest.output.shape)} output at {_mib(size * FLOAT32_BYTES / MIB)} MiB"
    )
    yield Finding(message, span=largest.layer.span)
