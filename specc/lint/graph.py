"""Graph reachability: layers whose output reaches no model output, inputs never used."""

from __future__ import annotations

from collections.abc import Iterator

from specc.diagnostics import Severity
from specc.lint.registry import Context, Finding, rule
from specc.lint.words import join

W = Severity.WARNING


def live(ctx: Context) -> set[str]:
    """Every layer and input from which some model output can be reached."""
    return ctx.memo("live", lambda: _reach(ctx))


def _reach(ctx: Context) -> set[str]:
    seen: set[str] = set()
    stack = list(ctx.outputs)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        layer = ctx.layers.get(name)
        if layer is not None:
            stack.extend(layer.inputs)
    return seen


def _feeds_only_dead(ctx: Context, name: str) -> str:
    readers = join([r.name for r in ctx.readers(name)])
    return f"it feeds only layers that reach no model output ({readers})"


@rule(
    "W301",
    "dead-layer",
    W,
    summary="A layer's output reaches no model output.",
    why=(
        "A layer that no output depends on is computed (and, if it has weights, trained) for "
        "nothing. It is usually a branch that was meant to be merged (an `add` or `concat` that "
        "forgot it) or a head missing from `outputs:` (which defaults to the last layer)."
    ),
    bad=(
        "specc: 1\nname: branch\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: a, type: conv2d, filters: 8, kernel: 3, padding: same}\n"
        "  - {name: b, type: conv2d, filters: 8, kernel: 3, padding: same, inputs: image}\n"
        "  - {name: out, type: relu, inputs: a}\n"
    ),
    good=(
        "specc: 1\nname: branch\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: a, type: conv2d, filters: 8, kernel: 3, padding: same}\n"
        "  - {name: b, type: conv2d, filters: 8, kernel: 3, padding: same, inputs: image}\n"
        "  - {name: out, type: add, inputs: [a, b]}\n"
    ),
)
def dead_layer(ctx: Context) -> Iterator[Finding]:
    reached = live(ctx)
    for layer in ctx.model.layers:
        if layer.name in reached:
            continue
        if ctx.readers(layer.name):
            yield Finding(_feeds_only_dead(ctx, layer.name), layer)
        else:
            outputs = join(list(ctx.model.outputs))
            why = f"nothing reads its output and it is not a model output (outputs: {outputs})"
            yield Finding(why, layer)


@rule(
    "W302",
    "unused-input",
    W,
    summary="A model input is never read, or feeds only dead layers.",
    why=(
        "An input that no output depends on still has to be fed by every caller. Either a layer "
        "should read it (a typo in some `inputs:`) or it should be removed from `inputs:`."
    ),
    bad=(
        "specc: 1\nname: two-inputs\ninputs: {image: [32, 32, 3], mask: [32, 32, 1]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, padding: same, inputs: image}\n"
    ),
    good=(
        "specc: 1\nname: two-inputs\ninputs: {image: [32, 32, 3], mask: [32, 32, 1]}\nlayers:\n"
        "  - {name: both, type: concat, inputs: [image, mask]}\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, padding: same}\n"
    ),
)
def unused_input(ctx: Context) -> Iterator[Finding]:
    reached = live(ctx)
    for x in ctx.model.inputs:
        if x.name in reached:
            continue
        why = _feeds_only_dead(ctx, x.name) if ctx.readers(x.name) else "no layer reads it"
        yield Finding(f"{x.name}: the input is never used: {why}", span=x.span)
