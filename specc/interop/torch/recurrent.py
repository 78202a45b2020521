"""PyTorch export of lstm, gru and bidirectional over (N, T, features), channels last.

With Keras's default activations (tanh, sigmoid), lstm is nn.LSTM and gru (reset_after) is
nn.GRU, batch first, their gates reordered on loading: Keras's LSTM gates i, f, c, o are
PyTorch's i, f, g, o; Keras's GRU z, r, h are PyTorch's r, z, n, and its (2, 3u) bias is
PyTorch's b_ih and b_hh. Keras's LSTM has one bias where PyTorch adds two: b_hh stays zero,
out of training. Other activations, and gru without reset_after (which PyTorch has no module
for), run Keras's equations step by step in a function of the file, the weights in Keras's
layout.
"""

from __future__ import annotations

from specc.interop.pysource import call
from specc.interop.torch.activation import ACTIVATIONS
from specc.interop.torch.site import GENERATORS, LAST, Site, Value, define
from specc.ops.recurrent import GRU, LSTM, Bidirectional, Recurrent

define(
    "lstm",
    '''
def lstm(
    x: torch.Tensor,
    kernel: torch.Tensor,
    recurrent: torch.Tensor,
    bias: torch.Tensor | None,
    act: nn.Module,
    rec: nn.Module,
    sequences: bool,
) -> torch.Tensor:
    """Keras's LSTM over (N, T, features), its weights in Keras's layout: per step
    z = x_t kernel + h recurrent + bias, gates i, f, c, o; c = rec(f) * c + rec(i) * act(z_c),
    h = rec(o) * act(c). Every h (N, T, units) with `sequences`, else the last."""
    h = c = x.new_zeros(x.shape[0], recurrent.shape[0])
    inputs = x @ kernel if bias is None else x @ kernel + bias
    steps = []
    for x_t in inputs.unbind(1):
        i, f, g, o = (x_t + h @ recurrent).chunk(4, dim=-1)
        c = rec(f) * c + rec(i) * act(g)
        h = rec(o) * act(c)
        steps.append(h)
    return torch.stack(steps, 1) if sequences else h
''',
)

define(
    "gru",
    '''
def gru(
    x: torch.Tensor,
    kernel: torch.Tensor,
    recurrent: torch.Tensor,
    bias: torch.Tensor | None,
    act: nn.Module,
    rec: nn.Module,
    sequences: bool,
    reset_after: bool,
) -> torch.Tensor:
    """Keras's GRU over (N, T, features), its weights in Keras's layout: gates z, r, h;
    h = z * h + (1 - z) * act(x_t W_h + r * (h U_h + b'_h)) with reset_after (the bias is
    (2, 3u): input and recurrent), act(x_t W_h + b_h + (r * h) U_h) without."""
    units = recurrent.shape[0]
    h = x.new_zeros(x.shape[0], units)
    split = reset_after and bias is not None
    x_bias, h_bias = (bias[0], bias[1]) if split else (bias, None)
    inputs = x @ kernel if x_bias is None else x @ kernel + x_bias
    steps = []
    for x_t in inputs.unbind(1):
        x_z, x_r, x_h = x_t.chunk(3, dim=-1)
        if reset_after:
            inner = h @ recurrent if h_bias is None else h @ recurrent + h_bias
            h_z, h_r, h_h = inner.chunk(3, dim=-1)
            z, r = rec(x_z + h_z), rec(x_r + h_r)
            candidate = act(x_h + r * h_h)
        else:
            h_z, h_r = (h @ recurrent[:, : 2 * units]).chunk(2, dim=-1)
            z, r = rec(x_z + h_z), rec(x_r + h_r)
            candidate = act(x_h + (r * h) @ recurrent[:, 2 * units :])
        h = z * h + (1 - z) * candidate
        steps.append(h)
    return torch.stack(steps, 1) if sequences else h
''',
)

# PyTorch's GRU gates r, z, n are Keras's blocks 1, 0, 2; its b_hh is the second row of the
# (2, 3u) bias: blocks 4, 3, 5 of it.
GRU_GATES = (1, 0, 2)
GRU_RECURRENT_BIAS = (4, 3, 5)


def _native(op: Recurrent) -> bool:
    """Whether nn.LSTM or nn.GRU computes the layer."""
    default = op.activation == "tanh" and op.recurrent_activation == "sigmoid"
    return default and (not isinstance(op, GRU) or op.reset_after)


def _run(site: Site, op: Recurrent, x: str, direction: str = "") -> str:
    """The source of `op` over the channels-last sequence `x`; `direction` names a
    bidirectional layer's half (its weights are `<direction>_kernel` ...)."""
    prefix = f"{direction}_" if direction else ""
    features = site.channels()
    if not _native(op):
        return _by_hand(site, op, x, prefix, direction)
    module = "nn.LSTM" if isinstance(op, LSTM) else "nn.GRU"
    bias = {} if op.bias else {"bias": "False"}
    rnn = site.module(call(module, features, op.units, batch_first="True", **bias), direction)
    gates = GRU_GATES if isinstance(op, GRU) else None
    site.load(f"{prefix}kernel", f"{rnn}.weight_ih_l0", blocks=gates)
    site.load(f"{prefix}recurrent_kernel", f"{rnn}.weight_hh_l0", blocks=gates)
    if op.bias and isinstance(op, GRU):
        site.load(f"{prefix}bias", f"{rnn}.bias_ih_l0", keras=True, blocks=GRU_GATES)
        site.load(f"{prefix}bias", f"{rnn}.bias_hh_l0", keras=True, blocks=GRU_RECURRENT_BIAS)
    elif op.bias:
        site.load(f"{prefix}bias", f"{rnn}.bias_ih_l0")
        site.source.init.append(f"{rnn}.bias_hh_l0.requires_grad_(False).zero_()  # Keras has one")
    return f"{rnn}({x})[0]" if op.return_sequences else f"{rnn}({x})[0][:, -1]"


def _by_hand(site: Site, op: Recurrent, x: str, prefix: str, direction: str) -> str:
    names = ["kernel", "recurrent_kernel", *(["bias"] if op.bias else [])]
    weights = []
    for name in names:
        shape = site.params[f"{prefix}{name}"].shape
        suffix = f"{direction}_{name}" if direction else name
        sizes = ", ".join(str(d) for d in shape)
        weight = site.module(f"nn.Parameter(torch.zeros({sizes}))", suffix)
        site.load(f"{prefix}{name}", weight, keras=True)
        weights.append(weight)
    if not op.bias:
        weights.append("None")
    activations = []
    for role, activation in (("act", op.activation), ("rec", op.recurrent_activation)):
        made = "nn.Identity()" if activation is None else ACTIVATIONS[activation](None, -1)
        suffix = f"{direction}_{role}" if direction else role
        activations.append(site.module(made, suffix))
    args = [x, *weights, *activations, str(op.return_sequences)]
    if isinstance(op, GRU):
        args.append(str(op.reset_after))
    return f"{site.helper(op.type)}({', '.join(args)})"


@GENERATORS.register(LSTM, GRU)
def _recurrent(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Recurrent)
    return site.assign(_run(site, op, site.input(0, LAST)), LAST)


MERGES = {"sum": "{} + {}", "mul": "{} * {}", "ave": "({} + {}) / 2"}


@GENERATORS.register(Bidirectional)
def _bidirectional(site: Site) -> Value:
    """The backward half reads the sequence reversed; its steps are reversed again, so that
    step t of both halves is step t of the input, as Keras merges them."""
    op = site.op
    assert isinstance(op, Bidirectional)
    x = site.input(0, LAST)
    halves = []
    for direction in ("forward", "backward"):
        code = _run(site, op.layer, x if direction == "forward" else f"{x}.flip(1)", direction)
        name = site.source.names.fresh(f"{site.attr}_{direction[0]}w")  # _fw, _bw
        site.source.forward.append(f"{name} = {code}")
        if direction == "backward" and op.layer.return_sequences:
            site.source.forward.append(f"{name} = {name}.flip(1)")
        halves.append(name)
    if op.merge_mode == "concat":
        return site.assign(f"torch.cat([{', '.join(halves)}], dim=-1)", LAST)
    return site.assign(MERGES[op.merge_mode].format(*halves), LAST)
