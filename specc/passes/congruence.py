"""Where branches meet: for which values of a symbol a merge's input shapes agree.

A 1-D U-Net that halves then doubles a length T gives its skip connection T and 2*ceil(T/2)
rows: equal exactly when T is even. Shape inference cannot prove such shapes equal (S102);
this module finds the residues of the symbol for which the merge's own shape rule accepts
them, so the report can say "T a multiple of 2" instead of only "they differ".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from specc.dims import Dim, format_dim, substitute, symbols
from specc.ir import Layer, TensorType
from specc.ops import Problem

_DIVISOR = re.compile(r"/(\d+)\)")
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

    def clause(self) -> str:
        """As a clause: 'T is a multiple of 2', 'T mod 4 is 1 or 3'."""
        if self.residues == (0,):
            return f"{self.symbol} is a multiple of {self.modulus}"
        listed = " or ".join(str(r) for r in self.residues)
        return f"{self.symbol} mod {self.modulus} is {listed}"


def period(dims: Iterable[Dim]) -> int:
    """A period of the floors in `dims`: with one symbol, d(v + p) - d(v) is a polynomial in v.

    Callers that search every residue check it against MAX_PERIOD first.
    """
    return math.lcm(1, *(int(m) for d in dims for m in _DIVISOR.findall(format_dim(d))))


def merge_condition(
    layer: Layer, inputs: Sequence[TensorType], least: Callable[[str], int] = lambda _: 1
) -> Congruence | None:
    """The residues of the one symbol in `inputs` for which `layer` accepts them, checked
    over three periods of the floors from `least(symbol)` on (exact when the dims are linear
    in the symbol per residue class, as window and upsampling formulas are); None when no such
    rule exists."""
    dims = [d for t in inputs for d in t.shape]
    names = set().union(*(symbols(d) for d in dims))
    if len(names) != 1:
        return None
    (name,) = names
    cycle = period(dims)
    if cycle > MAX_PERIOD:
        return None
    start = least(name)

    def accepts(value: int) -> bool:
        bound = [TensorType(tuple(substitute(d, {name: value}) for d in t.shape)) for t in inputs]
        try:
            layer.op.infer(bound)
        except Problem:
            return False
        return True

    residues = sorted(
        (start + r) % cycle
        for r in range(cycle)
        if all(accepts(start + r + k * cycle) for k in range(3))
    )
    if not residues or len(residues) == cycle:
        return None
    modulus = _smallest_modulus(cycle, residues)
    reduced = tuple(sorted({r % modulus for r in residues}))
    return Congruence(name, modulus, reduced, layer.name)


def _smallest_modulus(cycle: int, residues: list[int]) -> int:
    """The smallest divisor q of `cycle` such that the residue set is a union of classes mod q."""
    have = set(residues)
    for q in range(1, cycle + 1):
        if cycle % q == 0 and all((r + q) % cycle in have for r in have):
            return q
    return cycle
