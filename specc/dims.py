"""Tensor dimensions: plain ints or exact symbolic integer expressions in canonical form."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NoReturn

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = frozenset({"floor", "ceil"})
# min_value gives up past this bound rather than loop on an expression that never reaches 1.
_SEARCH_LIMIT = 1 << 62
# Exact quotients are printed more simply only for floors of at most this divisor.
MAX_TIDY = 4096


@dataclass(frozen=True)
class _Symbol:
    """A named integer, such as the time axis T."""

    name: str

    @property
    def text(self) -> str:
        return self.name


@dataclass(frozen=True)
class _Floor:
    """floor(num / den), kept reduced: den >= 2 and num is non-constant with its constant in
    [0, den), no coefficient divisible by den, and no factor shared by all coefficients and den."""

    num: Expr
    den: int

    @cached_property
    def text(self) -> str:
        return _floor_text(self.num, self.den)


@dataclass(frozen=True)
class _Unit:
    """(name - residue) / modulus for a symbol known to be `residue` mod `modulus` (a spec's
    `assume:`): an integer, and the unit that symbol's dims are counted in, so that
    floor(name / modulus) is exactly this atom. Expressions print it back in terms of `name`."""

    name: str
    modulus: int
    residue: int

    @property
    def text(self) -> str:
        top = f"({self.name}-{self.residue})" if self.residue else self.name
        return f"{top}/{self.modulus}"


_Atom = _Symbol | _Floor | _Unit
_Mono = tuple[_Atom, ...]  # sorted by text; a repeated atom is a power
_Poly = dict[_Mono, int]  # the empty monomial holds the constant


class Expr:
    """A non-constant integer polynomial over symbols and floor atoms; build it with `symbol`,
    the arithmetic operators, `floordiv` and `ceildiv` rather than directly."""

    def __init__(self, terms: tuple[tuple[_Mono, int], ...]) -> None:
        self._terms = terms  # non-constant terms in print order, then the constant if nonzero
        self._hash = hash(terms)

    @property
    def constant(self) -> int:
        """The constant term (0 when there is none)."""
        mono, coef = self._terms[-1]
        return 0 if mono else coef

    @cached_property
    def _text(self) -> str:
        return _format_expr(self)

    @cached_property
    def _symbols(self) -> frozenset[str]:
        atoms = [atom for mono, _ in self._terms for atom in mono]
        return frozenset().union(
            *(symbols(a.num) if isinstance(a, _Floor) else {a.name} for a in atoms)
        )

    @cached_property
    def _has_units(self) -> bool:
        return any(
            isinstance(a, _Unit) or (isinstance(a, _Floor) and a.num._has_units)
            for mono, _ in self._terms
            for a in mono
        )

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expr):
            return NotImplemented
        return self._hash == other._hash and self._terms == other._terms

    def __hash__(self) -> int:
        return self._hash

    def __add__(self, other: Dim) -> Dim:
        return _combine(self, other, 1) if _is_dim(other) else NotImplemented

    def __sub__(self, other: Dim) -> Dim:
        return _combine(self, other, -1) if _is_dim(other) else NotImplemented

    def __rsub__(self, other: Dim) -> Dim:
        return _combine(other, self, -1) if _is_dim(other) else NotImplemented

    def __mul__(self, other: Dim) -> Dim:
        return _multiply(self, other) if _is_dim(other) else NotImplemented

    def __neg__(self) -> Dim:
        return _multiply(self, -1)

    # The canonical form does not depend on operand order.
    __radd__ = __add__
    __rmul__ = __mul__


Dim = int | Expr


# -- polynomial arithmetic --------------------------------------------------------------------


def _is_dim(x: object) -> bool:
    return isinstance(x, int | Expr)


def _poly(d: Dim) -> _Poly:
    if isinstance(d, int):
        return {(): d} if d else {}
    return dict(d._terms)


def _mono_key(term: tuple[_Mono, int]) -> tuple[int, str]:
    return -len(term[0]), "*".join(atom.text for atom in term[0])


def _sorted_mono(atoms: Iterable[_Atom]) -> _Mono:
    return tuple(sorted(atoms, key=lambda atom: atom.text))


def _build(poly: _Poly) -> Dim:
    """The canonical value of a polynomial: an int when no non-constant term survives."""
    terms = sorted(((m, c) for m, c in poly.items() if m and c), key=_mono_key)
    const = poly.get((), 0)
    if not terms:
        return const
    if const:
        terms.append(((), const))
    return Expr(tuple(terms))


def _combine(a: Dim, b: Dim, sign: int) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a + sign * b
    poly = _poly(a)
    for mono, coef in _poly(b).items():
        poly[mono] = poly.get(mono, 0) + sign * coef
    return _build(poly)


def _multiply(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    poly: _Poly = {}
    for ma, ca in _poly(a).items():
        for mb, cb in _poly(b).items():
            mono = _sorted_mono(ma + mb)
            poly[mono] = poly.get(mono, 0) + ca * cb
    return _build(poly)


# -- construction -----------------------------------------------------------------------------


def symbol(name: str) -> Expr:
    """The dimension named `name`, an identifier such as T, batch or T_2."""
    if not _NAME.match(name) or name in _RESERVED:
        raise ValueError(f"{name!r} is not a valid dimension name (an identifier, not floor/ceil)")
    return Expr((((_Symbol(name),), 1),))


def congruent(name: str, modulus: int, residue: int = 0) -> Dim:
    """The symbol `name` known to be `residue` mod `modulus`, as modulus*q + residue where
    q = (name - residue)/modulus is an integer: floors then simplify exactly (ceil(H/16) is
    H/16 when H % 16 == 0). It prints as `name`; `parse_dim` reads its dims given this form."""
    if modulus < 1 or not 0 <= residue < modulus:
        raise ValueError(f"need 0 <= residue < modulus, got {name} % {modulus} == {residue}")
    base = symbol(name)
    if modulus == 1:
        return base
    return _build({(_Unit(name, modulus, residue),): modulus, (): residue})


def is_symbolic(d: Dim) -> bool:
    """Whether `d` is an expression rather than a known int."""
    return isinstance(d, Expr)


def floordiv(a: Dim, d: int) -> Dim:
    """floor(a / d) for an integer d >= 1, simplified to canonical form."""
    if d < 1:
        raise ValueError(f"divisor must be a positive integer, got {d}")
    if isinstance(a, int):
        return a // d
    if d == 1:
        return a
    # floor((d*Q + R)/d) = Q + floor(R/d): move every term d divides out of the floor.
    quotient: _Poly = {}
    rest: _Poly = {}
    for mono, coef in a._terms:
        if mono and coef % d:
            rest[mono] = coef
        else:
            quotient[mono] = coef // d
    rest[()] = a.constant % d
    return _combine(_build(quotient), _floor_of(rest, d), 1)


def _floor_of(rest: _Poly, d: int) -> Dim:
    """floor(rest / d) where d divides no coefficient of rest and its constant is in [0, d)."""
    coefs = [coef for mono, coef in rest.items() if mono]
    if not coefs:
        return 0
    # floor((g*Y + c)/d) = floor((Y + floor(c/g))/(d/g)) when g divides d and Y is an integer.
    g = math.gcd(d, *coefs)
    if g > 1:
        rest = {mono: coef // g for mono, coef in rest.items()}
        d //= g
    num = _build(rest)
    assert isinstance(num, Expr)
    inner = _single_floor(num)
    if inner is not None and inner[1] == 1:
        # floor((floor(X/a) + c)/b) = floor((X + c*a)/(a*b)): nested floors flatten into one.
        atom = inner[0]
        return floordiv(atom.num + num.constant * atom.den, atom.den * d)
    return _build({(_Floor(num, d),): 1})


def _single_floor(e: Expr) -> tuple[_Floor, int] | None:
    """(F, k) when e is k*F + c for one floor atom F and a constant c."""
    (head, coef), *others = e._terms
    if len(head) != 1 or not isinstance(head[0], _Floor) or any(mono for mono, _ in others):
        return None
    return head[0], coef


def ceildiv(a: Dim, d: int) -> Dim:
    """ceil(a / d) for an integer d >= 1, as floor((a + d - 1) / d)."""
    return floordiv(a + (d - 1), d)


def product(dims: Iterable[Dim]) -> Dim:
    """The product of `dims` (1 when empty)."""
    total: Dim = 1
    for d in dims:
        total = _multiply(total, d)
    return total


def exact_div(a: Dim, b: Dim) -> Dim | None:
    """a / b when it is provably an exact integer quotient, else None."""
    if isinstance(b, int):
        if b == 0 or any(coef % b for coef in _poly(a).values()):
            return None
        return a // b if isinstance(a, int) else _build({m: c // b for m, c in a._terms})
    if a == b:
        return 1
    if len(b._terms) != 1:
        return None
    return _divide_by_monomial(_poly(a), *b._terms[0])


def _divide_by_monomial(poly: _Poly, mono: _Mono, coef: int) -> Dim | None:
    need = Counter(mono)
    out: _Poly = {}
    for m, c in poly.items():
        have = Counter(m)
        if c % coef or have & need != need:
            return None
        out[_sorted_mono((have - need).elements())] = c // coef
    return _build(out)


# -- inspection -------------------------------------------------------------------------------


def symbols(d: Dim) -> frozenset[str]:
    """The names `d` depends on."""
    return d._symbols if isinstance(d, Expr) else frozenset()


def substitute(d: Dim, env: Mapping[str, int]) -> Dim:
    """`d` with the names in `env` bound to their values; an int when every name is bound."""
    if isinstance(d, int) or not symbols(d) & env.keys():
        return d
    total: Dim = 0
    for mono, coef in d._terms:
        term: Dim = coef
        for atom in mono:
            term = _multiply(term, _substitute_atom(atom, env))
        total = _combine(total, term, 1)
    return total


def _substitute_atom(atom: _Atom, env: Mapping[str, int]) -> Dim:
    if isinstance(atom, _Floor):
        return floordiv(substitute(atom.num, env), atom.den)
    if atom.name not in env:
        return _build({(atom,): 1})
    if isinstance(atom, _Unit):  # exact for the values the assumption admits (checked before)
        return (env[atom.name] - atom.residue) // atom.modulus
    return env[atom.name]


def equal(a: Dim, b: Dim) -> bool | None:
    """True when provably equal, False when provably different, None when unknown."""
    diff = _combine(a, b, -1)
    return diff == 0 if isinstance(diff, int) else None


def min_value(d: Dim, name: str) -> int | None:
    """The smallest v >= 1 from which `d` stays >= 1 as `name` grows, when `d` depends on `name`
    alone and visibly never decreases in it; None otherwise."""
    if isinstance(d, int):
        return 1 if d >= 1 else None
    if symbols(d) != {name} or not _non_decreasing(d):
        return None

    def fits(v: int) -> bool:
        value = substitute(d, {name: v})
        assert isinstance(value, int)
        return value >= 1

    if fits(1):
        return 1
    low, high = 1, 2  # invariant: fits(low) is False
    while not fits(high):
        low, high = high, high * 2
        if high > _SEARCH_LIMIT:
            return None
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def grows(d: Dim) -> bool:
    """Whether `d` visibly never decreases as any of its symbols grows, for symbol values of
    at least 1 that the spec's assumptions admit (a sufficient check, as for min_value)."""
    return isinstance(d, int) or _non_decreasing(d)


def _non_decreasing(e: Expr) -> bool:
    """A sufficient check for values >= 1: positive coefficients on symbol products and on
    floors of non-decreasing expressions."""
    for mono, coef in e._terms:
        if not mono:
            continue
        if coef < 0:
            return False
        if len(mono) == 1 and isinstance(mono[0], _Floor):
            if not _non_decreasing(mono[0].num):
                return False
        elif not all(isinstance(atom, _Symbol | _Unit) for atom in mono):
            return False
    return True


# -- text -------------------------------------------------------------------------------------


def format_dim(d: Dim) -> str:
    """`d` as text that `parse_dim` reads back: `640*ceil(T/4)`, `floor((T-3)/4)`, `2*T+1`."""
    return str(d)


def format_count(d: Dim) -> str:
    """6288 -> '6,288'; symbolic counts as their expression."""
    return f"{d:,}" if isinstance(d, int) else format_dim(d)


def period(d: Dim) -> int:
    """A period of the floors and units in `d`: with one symbol, d(v + p) - d(v) is a
    polynomial in v (floor((H-16)/32) over H/16 repeats every 32)."""
    if isinstance(d, int):
        return 1
    return math.lcm(1, *(_atom_period(atom) for mono, _ in d._terms for atom in mono))


def _atom_period(atom: _Atom) -> int:
    if isinstance(atom, _Floor):
        return atom.den * period(atom.num)
    return atom.modulus if isinstance(atom, _Unit) else 1


def _format_expr(e: Expr) -> str:
    if e._has_units:
        return _quotient_text(*_in_symbols(e))
    const = e.constant
    single = _single_floor(e)
    if single is not None and single[1] > 0 and const % single[1] == 0:
        # k*floor(X/d) + k*c reads better as k*floor((X + c*d)/d), the form conv layers give.
        atom, coef = single
        return _term_text(coef, _floor_text(atom.num + const // coef * atom.den, atom.den))
    parts = [_term_text(c, "*".join(a.text for a in m)) for m, c in e._terms if m]
    text = "".join(p if i == 0 or p.startswith("-") else "+" + p for i, p in enumerate(parts))
    return f"{text}{const:+d}" if const else text


def _quotient_text(num: Dim, den: int) -> str:
    """num/den with the terms den divides taken out: H/2-1 rather than (H-2)/2."""
    if den == 1:
        return format_dim(num)
    poly = _poly(num)
    whole = _build({m: c // den for m, c in poly.items() if c % den == 0})
    rest = _build({m: c for m, c in poly.items() if c % den})
    many = isinstance(rest, Expr) and len(rest._terms) > 1
    text = f"({rest})/{den}" if many else f"{rest}/{den}"
    if isinstance(whole, int):
        return f"{text}{whole:+d}" if whole else text
    tail = str(whole)
    return text + (tail if tail.startswith("-") else "+" + tail)


def _in_symbols(d: Dim) -> tuple[Dim, int]:
    """(num, den) with d == num/den exactly and num free of units: H/16 is (H, 16), 16*(H/16)
    is (H, 1), floor((H/16 - 1)/2) is (floor((H-16)/32), 1). The quotient is exact because a
    unit is: the spec assumes it."""
    if isinstance(d, int):
        return d, 1
    total: Dim = 0
    den = 1
    for mono, coef in d._terms:
        term: Dim = coef
        q = 1
        for atom in mono:
            n, k = _atom_in_symbols(atom)
            term, q = _multiply(term, n), q * k
        common = math.lcm(den, q)
        total = _combine(_multiply(total, common // den), _multiply(term, common // q), 1)
        den = common
    g = math.gcd(den, *_poly(total).values())
    quotient = exact_div(total, g)
    assert quotient is not None
    return quotient, den // g


def _atom_in_symbols(atom: _Atom) -> tuple[Dim, int]:
    if isinstance(atom, _Unit):
        return symbol(atom.name) - atom.residue, atom.modulus
    if isinstance(atom, _Floor):
        num, den = _in_symbols(atom.num)
        return _tidy(floordiv(num, den * atom.den), atom.num), 1
    return _build({(atom,): 1}), 1


def _tidy(plain: Dim, num: Expr) -> Dim:
    """`plain` = floor((X + c)/d), or floor(X/d) or ceil(X/d) when that is equal for every
    value the unit in `num` admits: ceil(H/32) rather than ceil((H-15)/32) when H % 16 == 0."""
    units = {a for mono, _ in num._terms for a in mono}
    single = _single_floor(plain) if isinstance(plain, Expr) else None
    if len(units) != 1 or single is None or single[1] != 1:
        return plain
    (unit,) = units
    atom, x = single[0], single[0].num - single[0].num.constant
    if not isinstance(unit, _Unit) or atom.den > MAX_TIDY or not isinstance(x, Expr):
        return plain
    if any(len(mono) > 1 for mono, _ in x._terms):
        return plain  # not linear: the difference need not repeat
    # The difference of two such floors repeats every d in the symbol: one period of the
    # values the assumption admits decides it.
    admitted = [unit.residue + unit.modulus * k for k in range(atom.den)]
    for candidate in (floordiv(x, atom.den), ceildiv(x, atom.den)):
        if all(
            substitute(candidate, {unit.name: v}) == substitute(plain, {unit.name: v})
            for v in admitted
        ):
            return candidate
    return plain


def _term_text(coef: int, body: str) -> str:
    if coef == 1:
        return body
    return "-" + body if coef == -1 else f"{coef}*{body}"


def _floor_text(num: Dim, den: int) -> str:
    assert isinstance(num, Expr)
    shift = 1 - den
    # floor((X + c)/d) == ceil((X + c - d + 1)/d): print whichever has the smaller constant.
    name = "ceil" if abs(num.constant + shift) <= abs(num.constant) else "floor"
    if name == "ceil":
        num = num + shift
        assert isinstance(num, Expr)
    inner = str(num)
    return f"{name}({inner}/{den})" if len(num._terms) == 1 else f"{name}(({inner})/{den})"


# Whitespace, then a number, a name, an operator, or (group 2) any other character.
_TOKEN = re.compile(r"\s*(?:(\d+|[A-Za-z_][A-Za-z0-9_]*|[-+*/()])|(\S))")


def parse_dim(text: str, forms: Mapping[str, Dim] | None = None) -> Dim:
    """Read a dimension written as format_dim writes it; ValueError on anything else.

    `forms` gives the symbols a spec's `assume:` constrains, as `congruent` builds them: with
    {"H": congruent("H", 16)}, `H/2` reads as the exact quotient that inference prints."""
    return _Parser(text, forms or {}).parse()


class _Parser:
    """Recursive descent over + - * ( ) with floor(a/n) and ceil(a/n), and a/n where the
    quotient is exact."""

    def __init__(self, text: str, forms: Mapping[str, Dim]) -> None:
        self.text = text
        self.forms = forms
        self.tokens: list[tuple[str, int]] = []  # (token, column), then ("", end) as a sentinel
        for match in _TOKEN.finditer(text):
            if match.group(2):
                self.fail(match.start(2), f"unexpected character {match.group(2)!r}")
            if match.group(1):
                self.tokens.append((match.group(1), match.start(1)))
        self.tokens.append(("", len(text)))
        self.index = 0

    def fail(self, column: int, why: str) -> NoReturn:
        raise ValueError(f"invalid dimension {self.text!r} at column {column + 1}: {why}")

    def peek(self) -> str:
        return self.tokens[self.index][0]

    def take(self, wanted: str | None = None) -> str:
        """The next token, which must be `wanted` ("" is the end) or else any but the end."""
        token, column = self.tokens[self.index]
        if token != wanted if wanted is not None else not token:
            expected = "a value" if wanted is None else repr(wanted) if wanted else "the end"
            hint = (
                " ('/' is only allowed as floor(a/n), ceil(a/n) or an exact a/n)"
                if token == "/"
                else ""
            )
            self.fail(column, f"expected {expected}, found {_describe(token)}{hint}")
        self.index += 1
        return token

    def parse(self) -> Dim:
        if not self.text.strip():
            raise ValueError("invalid dimension: the text is empty")
        value = self.sum()
        self.take("")
        return value

    def sum(self, divide: bool = True) -> Dim:
        """Terms; `divide` is False in floor(a/n), whose '/' is the floor's own."""
        value = self.product(divide)
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            value = _combine(value, self.product(divide), sign)
        return value

    def product(self, divide: bool) -> Dim:
        value = self.unary()
        while self.peek() == "*" or (divide and self.peek() == "/"):
            if self.take() == "*":
                value = _multiply(value, self.unary())
                continue
            den = self.divisor("a quotient")
            quotient = exact_div(value, den)
            if quotient is None:
                self.fail(
                    self.tokens[self.index - 1][1],
                    f"{format_dim(value)} is not always a multiple of {den}; "
                    f"write floor(.../{den}) or ceil(.../{den})",
                )
            value = quotient
        return value

    def unary(self) -> Dim:
        if self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            return _multiply(sign, self.unary())
        return self.atom()

    def atom(self) -> Dim:
        column = self.tokens[self.index][1]
        token = self.take()
        if token.isdigit():
            return int(token)
        if token in _RESERVED:
            return self.division(token)
        if _NAME.match(token):
            return self.forms.get(token) or symbol(token)
        if token != "(":
            self.fail(column, f"expected a number, a name or '(', found {token!r}")
        value = self.sum()
        self.take(")")
        return value

    def division(self, name: str) -> Dim:
        self.take("(")
        num = self.sum(divide=False)
        self.take("/")
        den = self.divisor(f"{name}()")
        self.take(")")
        return floordiv(num, den) if name == "floor" else ceildiv(num, den)

    def divisor(self, what: str) -> int:
        den, column = self.tokens[self.index]
        if not den.isdigit() or int(den) < 1:
            self.fail(column, f"{what} needs a positive integer divisor, found {_describe(den)}")
        self.index += 1
        return int(den)


def _describe(token: str) -> str:
    return repr(token) if token else "the end"
