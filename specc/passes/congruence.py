"""Where branches meet: for which values of a symbol a merge's input shapes agree.

A 1-D U-Net that halves then doubles a length T gives its skip connection T and 2*ceil(T/2)
rows: equal exactly when T is even. Shape inference cannot prove such shapes equal (S102);
this module finds the residues of the symbol for which the merge's own shape rule accepts
them, so the report can say "T a multiple of 2" instead of only "they differ".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from specc import dims
from specc.assume import NONE, Assumptions
from specc.dims import Dim, substitute, symbols
from specc.ir import Layer, TensorType
from specc.ops import Problem

# Periods above this are not searched: a hostile spec can make the lcm of its floors' divisors
# astronomical, and each residue costs shape inferences. Real networks stay far below (a
# U-Net of five halvings has period 32).
MAX_PERIOD = 4096


@dataclass(frozen=True)
class Congruence:
    """Branches meeting at `where` agree only when `symbol` mod `modulus` is in `residues`."""

    symbol: str
    modulus: int
    residues: tuple[int, ...]
    where: str

    def holds(self, value: int) -> bool:
        return value % self.modulus in self.residues

    def __str__(self) -> str:
        if self.residues == (0,):
            return f"{self.symbol} a multiple of {self.modulus}"
        listed = ", ".join(str(r) for r in self.residues)
        return f"{self.symbol} mod {self.modulus} in {{{listed}}}"

    def assumption(self) -> str:
        """A sufficient condition as the spec's `assume:` writes it: 'H % 16 == 0' when
        multiples pass (the one that later merges of a U-Net need too), else 'T % 4 == 1'."""
        residue = 0 if 0 in self.residues else self.residues[0]
        return f"{self.symbol} % {self.modulus} == {residue}"

    def clause(self) -> str:
        """As a clause: 'T is a multiple of 2', 'T mod 4 is 1 or 3'."""
        if self.residues == (0,):
            return f"{self.symbol} is a multiple of {self.modulus}"
        first, last = self.residues[0], self.residues[-1]
        if len(self.residues) > 2 and last - first == len(self.residues) - 1:
            return f"{self.symbol} mod {self.modulus} is {first} to {last}"
        listed = " or ".join(str(r) for r in self.residues)
        return f"{self.symbol} mod {self.modulus} is {listed}"


def period(values: Iterable[Dim]) -> int:
    """A period of the floors in `values`: with one symbol, d(v + p) - d(v) is a polynomial
    in v. Callers that search every residue check it against MAX_PERIOD first.
    """
    return math.lcm(1, *(dims.period(d) for d in values))


def merge_condition(
    layer: Layer, inputs: Sequence[TensorType], least: Callable[[str], int] = lambda _: 1
) -> Congruence | None:
    """The one condition of `merge_conditions` when there is exactly one, else None."""
    found = merge_conditions(layer, inputs, least)
    return found[0] if len(found) == 1 else None


def merge_conditions(
    layer: Layer,
    inputs: Sequence[TensorType],
    least: Callable[[str], int] = lambda _: 1,
    assume: Assumptions = NONE,
) -> tuple[Congruence, ...]:
    """For each symbol in `inputs`, the residues for which `layer` accepts them, when the
    accepted values are exactly those where every symbol is in its residues (an H by W
    U-Net: H a multiple of 16 and W a multiple of 16); () when no such rule exists.

    Each residue combination is checked over two (three for one symbol) periods of the floors from
    `least(symbol)` on (exact when the dims are linear in the symbols per residue class, as
    window and upsampling formulas are). Only values that `assume` admits are tried: `least`
    must give one of them."""
    found = [d for t in inputs for d in t.shape]
    names = sorted(set().union(*(symbols(d) for d in found)))
    if not names:
        return ()
    cycles = [period(d for d in found if name in symbols(d)) for name in names]
    steps = [assume.on(name).modulus for name in names]  # admitted values lie this far apart
    cycles = [math.lcm(c, s) for c, s in zip(cycles, steps, strict=True)]
    if math.prod(cycles) > MAX_PERIOD:
        return ()
    starts = [least(name) for name in names]

    def accepts(values: Sequence[int]) -> bool:
        env = dict(zip(names, values, strict=True))
        bound = [TensorType(tuple(substitute(d, env) for d in t.shape)) for t in inputs]
        try:
            layer.op.infer(bound)
        except Problem:
            return False
        return True

    # One symbol: three periods; several: every corner of two periods in each.
    shifts = (
        [(k,) for k in range(3)]
        if len(names) == 1
        else list(itertools.product(range(2), repeat=len(names)))
    )

    def always(offsets: Sequence[int]) -> bool:
        return all(
            accepts(
                [s + r + k * c for s, r, c, k in zip(starts, offsets, cycles, shift, strict=True)]
            )
            for shift in shifts
        )

    admitted = [range(0, c, s) for c, s in zip(cycles, steps, strict=True)]
    good = {offsets for offsets in itertools.product(*admitted) if always(offsets)}
    every = math.prod(len(r) for r in admitted)
    if not good or len(good) == every:
        return ()
    per_symbol = [sorted({o[i] for o in good}) for i in range(len(names))]
    if len(good) != math.prod(len(r) for r in per_symbol):
        return ()  # the symbols interact: no condition on each one alone says it
    out = []
    for name, start, cycle, offsets, step in zip(
        names, starts, cycles, per_symbol, steps, strict=True
    ):
        if len(offsets) == cycle // step:
            continue  # this symbol is free
        residues = sorted((start + r) % cycle for r in offsets)
        modulus = _smallest_modulus(cycle, residues)
        reduced = tuple(sorted({r % modulus for r in residues}))
        out.append(Congruence(name, modulus, reduced, layer.name))
    return tuple(out)


def _smallest_modulus(cycle: int, residues: list[int]) -> int:
    """The smallest divisor q of `cycle` such that the residue set is a union of classes mod q."""
    have = set(residues)
    for q in range(1, cycle + 1):
        if cycle % q == 0 and all((r + q) % cycle in have for r in have):
            return q
    return cycle
