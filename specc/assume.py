"""What a spec assumes about its symbols: `assume: ["H % 16 == 0", "T >= 7"]`.

Two forms, one symbol each: `SYM % N == R` (R defaults to 0 when `== R` is left out) says
SYM is R modulo N; `SYM >= N` and `SYM > N` give a least value. Congruences change how dims
are built: the symbol becomes `dims.congruent(SYM, N, R)`, so that inference simplifies
ceil(H/16) to H/16 and proves the merges of a U-Net; least values only narrow which values
of the symbol the costs, the report and --dim consider.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from specc.dims import Dim, congruent, symbol

# Kept small on purpose: one symbol, one relation, integer constants of a few digits. The
# pattern is also the schema's, so it avoids what ECMA regexes (editors) read differently.
_NUMBER = "[0-9]{1,6}"
PATTERN = (
    rf"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*"
    rf"(?:%\s*({_NUMBER})(?:\s*==\s*({_NUMBER}))?|(>=|>)\s*({_NUMBER}))\s*$"
)
DESCRIPTION = "an assumption about a symbol: 'H % 16 == 0', 'H % 4 == 1', 'T >= 7' or 'T > 6'"
_FORM = re.compile(PATTERN)


@dataclass(frozen=True)
class Assumption:
    """One `assume:` entry: `symbol` is `residue` mod `modulus` and at least `least`."""

    symbol: str
    modulus: int = 1
    residue: int = 0
    least: int = 1

    def holds(self, value: int) -> bool:
        return value % self.modulus == self.residue and value >= self.least

    def __str__(self) -> str:
        if self.modulus > 1:
            return f"{self.symbol} % {self.modulus} == {self.residue}"
        return f"{self.symbol} >= {self.least}"


def parse(text: str) -> Assumption:
    """Read one entry; ValueError when it is not one of the forms or says nothing possible."""
    match = _FORM.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not {DESCRIPTION}")
    name, modulus_text, residue_text, op, least_text = match.groups()
    if modulus_text is None:
        least = int(least_text) + (op == ">")
        return Assumption(name, least=max(least, 1))
    modulus, residue = int(modulus_text), int(residue_text or 0)
    if modulus < 1:
        raise ValueError(f"'{text}': the modulus must be at least 1")
    if residue >= modulus:
        raise ValueError(f"'{text}': the remainder must be below {modulus}, the modulus")
    return Assumption(name, modulus, residue)


@dataclass(frozen=True)
class Assumptions:
    """Every entry of a spec's `assume:`, combined per symbol."""

    entries: tuple[Assumption, ...] = ()

    def on(self, name: str) -> Assumption:
        """What is known of `name`: one congruence (combined over entries) and a least value."""
        modulus, residue, least = 1, 0, 1
        for a in self.entries:
            if a.symbol != name:
                continue
            least = max(least, a.least)
            joined = _join(modulus, residue, a.modulus, a.residue)
            if joined is not None:
                modulus, residue = joined
        return Assumption(name, modulus, residue, least)

    def add(self, entry: Assumption) -> tuple[Assumptions, Assumption | None]:
        """These assumptions with `entry`, or unchanged with the entry it contradicts."""
        for a in self.entries:
            if (
                a.symbol == entry.symbol
                and _join(a.modulus, a.residue, entry.modulus, entry.residue) is None
            ):
                return self, a
        return Assumptions((*self.entries, entry)), None

    def about(self, name: str) -> bool:
        """Whether any entry is about `name`."""
        return any(a.symbol == name for a in self.entries)

    def form(self, name: str) -> Dim:
        """The symbol as inference counts it: H as 16*(H/16) when H % 16 == 0."""
        known = self.on(name)
        return congruent(name, known.modulus, known.residue) if known.modulus > 1 else symbol(name)

    def forms(self) -> dict[str, Dim]:
        """The forms of every assumed symbol, for `dims.parse_dim`."""
        return {a.symbol: self.form(a.symbol) for a in self.entries}

    def least(self, name: str) -> int:
        """The smallest value of `name` that every assumption on it admits."""
        known = self.on(name)
        return known.least + (known.residue - known.least) % known.modulus

    def broken(self, env: Mapping[str, int]) -> list[str]:
        """Why the values in `env` contradict the assumptions (empty when they do not)."""
        return [
            f"{a.symbol}={env[a.symbol]} contradicts the spec's assumption '{a}'"
            for a in self.entries
            if a.symbol in env and not a.holds(env[a.symbol])
        ]

    def __bool__(self) -> bool:
        return bool(self.entries)


def _join(m1: int, r1: int, m2: int, r2: int) -> tuple[int, int] | None:
    """x = r1 mod m1 and x = r2 mod m2 as one congruence, or None when no x satisfies both."""
    g = math.gcd(m1, m2)
    if (r1 - r2) % g:
        return None
    modulus = m1 // g * m2
    # Step through r1 + k*m1 (at most m2/g steps) to the one that is r2 mod m2.
    residue = next(r for r in range(r1, modulus, m1) if r % m2 == r2)
    return modulus, residue


NONE = Assumptions()
