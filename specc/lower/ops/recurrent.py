"""Recurrent layers in NumPy: the input projection of every step in one GEMM, then a loop over
the steps with one GEMM of the state per step (two for a GRU without reset_after)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.ops.activation import activation, activation_memory
from specc.lower.steps import Binder, Consts, Kernel, Value
from specc.lower.window import KernelMemory
from specc.ops.recurrent import DIRECTIONS, GRU, LSTM, Bidirectional, Recurrent

ABSENT = np.empty(0)  # a bias the layer does not have, in the constants tuple
CONSTS = 5  # constants per direction (`_binder`)


@dataclass(frozen=True)
class Cell:
    """What the kernel needs to know of a recurrent op besides its weights."""

    kind: Literal["lstm", "gru"]
    units: int
    activation: str | None
    recurrent_activation: str | None
    reset_after: bool = True

    @property
    def gates(self) -> int:
        return 4 if self.kind == "lstm" else 3


def cell_of(op: Recurrent) -> Cell:
    kind: Literal["lstm", "gru"] = "lstm" if isinstance(op, LSTM) else "gru"
    reset_after = op.reset_after if isinstance(op, GRU) else True
    return Cell(kind, op.units, op.activation, op.recurrent_activation, reset_after)


@lowers(LSTM, GRU)
def _recurrent(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Recurrent)
    (x,) = node.inputs
    cell = cell_of(op)
    sequences = op.return_sequences

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        assert out is not None
        return recurrent(ins[0], c, cell, sequences=sequences, out=out)

    memory = recurrent_memory(x.shape, cell, b.itemsize)
    return _emit(b, node, op, x, run, memory, 1, _binder(node, cell, ""))


@lowers(Bidirectional)
def _bidirectional(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Bidirectional)
    (x,) = node.inputs
    cell, mode = cell_of(op.layer), op.merge_mode
    sequences = op.layer.return_sequences
    binders = [_binder(node, cell, f"{d}_") for d in DIRECTIONS]

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        return (*binders[0](weights), *binders[1](weights))

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        assert out is not None
        forward, backward = c[:CONSTS], c[CONSTS:]
        return bidirectional(ins[0], forward, backward, cell, mode, sequences, out)

    memory = recurrent_memory(x.shape, cell, b.itemsize)
    if mode != "concat":  # the backward result, before it is merged into the forward one
        memory = KernelMemory(memory.scratch, memory.temp + _size(node.out_shape) * b.itemsize)
    return _emit(b, node, op.layer, x, run, memory, 2, bind)


def _emit(
    b: Builder,
    node: Node,
    op: Recurrent,
    x: Value,
    run: Kernel,
    memory: KernelMemory,
    directions: int,
    bind: Binder,
) -> Value:
    steps, features = x.shape[1:]
    g, u = cell_of(op).gates, op.units
    weights = features * g * u + u * g * u + (_bias_size(node) if op.bias else 0)
    out = b.new(node.name, node.out_shape)
    return b.emit(
        op.type if directions == 1 else f"bi-{op.type}",
        node,
        (x,),
        out,
        run,
        flops=directions * 2 * x.shape[0] * steps * g * u * (features + u),
        scratch=memory.scratch,
        temp=memory.temp,
        detail=f"{steps} steps, {features}->{g}x{u}" + (" +bias" if op.bias else ""),
        bind=bind,
        const_bytes=directions * weights * b.itemsize,
    )


def _bias_size(node: Node) -> int:
    shape = next(s for p, s in node.params.items() if p.endswith("bias"))
    return _size(shape)


def _size(shape: tuple[int, ...]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _binder(node: Node, cell: Cell, prefix: str) -> Binder:
    """(kernel, input bias, recurrent kernel, recurrent kernel of h for a GRU without
    reset_after, recurrent bias); ABSENT for what the layer does not have."""
    u = cell.units

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        kernel = weights[node.key(f"{prefix}kernel")]
        rec = weights[node.key(f"{prefix}recurrent_kernel")]
        bias = weights.get(node.key(f"{prefix}bias"))
        rec_bias = ABSENT
        if bias is not None and bias.ndim == 2:  # GRU reset_after: (input bias, recurrent bias)
            bias, rec_bias = bias[0], bias[1]
        rec_h = ABSENT
        if cell.kind == "gru" and not cell.reset_after:  # (r * h) meets U_h in a GEMM of its own
            rec, rec_h = (
                np.ascontiguousarray(rec[:, : 2 * u]),
                np.ascontiguousarray(rec[:, 2 * u :]),
            )
        return kernel, ABSENT if bias is None else bias, rec, rec_h, rec_bias

    return bind


def recurrent(
    x: NDArray,
    consts: Consts,
    cell: Cell,
    *,
    sequences: bool,
    out: NDArray,
    reverse: bool = False,
) -> NDArray:
    """Run the cell over the steps of x (N, T, in) from a zero state; `reverse` runs from the
    last step to the first. Writes h at step t to out[:, t] (N, T, u) with `sequences`, else
    the final h to out (N, u); `out` may be a strided view (one half of a concat)."""
    kernel, bias, rec, rec_h, rec_bias = consts
    n, steps, features = x.shape
    u, g = cell.units, cell.gates
    proj = np.empty((n, steps, g * u), x.dtype)  # x_t kernel + bias, for every step at once
    np.matmul(x.reshape(n * steps, features), kernel, out=proj.reshape(n * steps, g * u))
    if bias.size:
        proj += bias
    h = np.zeros((n, u), x.dtype)
    gates = np.empty((n, g * u), x.dtype)
    tmp = np.empty((n, u), x.dtype)
    c = np.zeros((n, u), x.dtype) if cell.kind == "lstm" else tmp
    for i in range(steps):
        t = steps - 1 - i if reverse else i
        if cell.kind == "lstm":
            _lstm_step(cell, proj[:, t], rec, h, c, gates, tmp)
        elif cell.reset_after:
            _gru_after_step(cell, proj[:, t], rec, rec_bias, h, gates, tmp)
        else:
            _gru_before_step(cell, proj[:, t], rec, rec_h, h, gates, tmp)
        if sequences:
            np.copyto(out[:, t], h)
    if not sequences:
        np.copyto(out, h)
    return out


def _act(name: str | None, x: NDArray, out: NDArray | None = None) -> NDArray:
    """`name` element-wise into `out` (default: in place); None is the identity."""
    y = x if out is None else out
    if name is None:
        if y is not x:
            np.copyto(y, x)
        return y
    return activation(x, name, out=y)


def _lstm_step(
    cell: Cell, xt: NDArray, rec: NDArray, h: NDArray, c: NDArray, z: NDArray, tmp: NDArray
) -> None:
    u, act, rec_act = cell.units, cell.activation, cell.recurrent_activation
    np.matmul(h, rec, out=z)
    z += xt
    i, f, g, o = (z[:, k * u : (k + 1) * u] for k in range(4))
    _act(rec_act, i)
    _act(rec_act, f)
    _act(act, g)
    _act(rec_act, o)
    c *= f
    np.multiply(i, g, out=tmp)
    c += tmp
    _act(act, c, tmp)
    np.multiply(o, tmp, out=h)


def _gru_after_step(
    cell: Cell,
    xt: NDArray,
    rec: NDArray,
    rec_bias: NDArray,
    h: NDArray,
    hu: NDArray,
    tmp: NDArray,
) -> None:
    """h~ = act(x W_h + b_h + r * (h U_h + b'_h)): the reset gate after the product."""
    u, act, rec_act = cell.units, cell.activation, cell.recurrent_activation
    np.matmul(h, rec, out=hu)
    if rec_bias.size:
        hu += rec_bias
    z, r, cand = hu[:, :u], hu[:, u : 2 * u], hu[:, 2 * u :]
    z += xt[:, :u]
    _act(rec_act, z)
    r += xt[:, u : 2 * u]
    _act(rec_act, r)
    cand *= r
    cand += xt[:, 2 * u :]
    _act(act, cand)
    _blend(h, z, cand, tmp)


def _gru_before_step(
    cell: Cell,
    xt: NDArray,
    rec_zr: NDArray,
    rec_h: NDArray,
    h: NDArray,
    gates: NDArray,
    tmp: NDArray,
) -> None:
    """h~ = act(x W_h + b_h + (r * h) U_h): the reset gate before the product (two GEMMs)."""
    u, act, rec_act = cell.units, cell.activation, cell.recurrent_activation
    n = h.shape[0]
    flat = gates.reshape(-1)  # two contiguous blocks, each a GEMM's output
    zr, cand = flat[: n * 2 * u].reshape(n, 2 * u), flat[n * 2 * u :].reshape(n, u)
    np.matmul(h, rec_zr, out=zr)
    zr += xt[:, : 2 * u]
    z, r = zr[:, :u], zr[:, u:]
    _act(rec_act, z)
    _act(rec_act, r)
    np.multiply(r, h, out=tmp)
    np.matmul(tmp, rec_h, out=cand)
    cand += xt[:, 2 * u :]
    _act(act, cand)
    _blend(h, z, cand, tmp)


def _blend(h: NDArray, z: NDArray, cand: NDArray, tmp: NDArray) -> None:
    """h = z * h + (1 - z) * cand, as cand + z * (h - cand)."""
    np.subtract(h, cand, out=tmp)
    tmp *= z
    np.add(cand, tmp, out=h)


def bidirectional(
    x: NDArray,
    forward: Consts,
    backward: Consts,
    cell: Cell,
    mode: str,
    sequences: bool,
    out: NDArray,
) -> NDArray:
    """Both directions, merged as Keras's Bidirectional: concat (forward first), sum, mul or
    ave. The backward pass reads the steps last to first and writes each output back at its
    own step, so that with `sequences` both halves are in the input's time order."""
    u = cell.units
    if mode == "concat":
        recurrent(x, forward, cell, sequences=sequences, out=out[..., :u])
        recurrent(x, backward, cell, sequences=sequences, out=out[..., u:], reverse=True)
        return out
    recurrent(x, forward, cell, sequences=sequences, out=out)
    back = np.empty_like(out)
    recurrent(x, backward, cell, sequences=sequences, out=back, reverse=True)
    if mode == "mul":
        out *= back
    else:
        out += back
        if mode == "ave":
            out *= out.dtype.type(0.5)
    return out


def recurrent_memory(x_shape: tuple[int, ...], cell: Cell, itemsize: int) -> KernelMemory:
    """What `recurrent` allocates: the projection (N, T, G*u), the state h, the gates (N, G*u),
    one (N, u) temporary and an LSTM's cell state; the activations' buffers on (N, u) gates
    (and a (N, u) mask of bytes, which a sigmoid makes)."""
    n, steps = x_shape[:2]
    u, g = cell.units, cell.gates
    state = n * u * (1 + g + 1 + (1 if cell.kind == "lstm" else 0))
    temp = (n * steps * g * u + state) * itemsize + n * u
    scratch: dict[str, int] = {}
    most = 0
    for name in (cell.activation, cell.recurrent_activation):
        if name is None:
            continue
        m = activation_memory(name, (n, u), itemsize)
        for slot, nbytes in m.scratch.items():
            scratch[slot] = max(scratch.get(slot, 0), nbytes)
        most = max(most, m.temp)
    return KernelMemory(scratch, temp + most)
