"""What a check reports: code selection, severity overrides, budgets and the fail level."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from specc.diagnostics import CATALOGUE, Severity

ALL = "ALL"
# Info findings (I) are opt-in, as ruff's default rule set is a subset: on a real network a
# note on every 1x1 convolution would bury the warnings. `--select ALL` shows them.
DEFAULT_SELECT = ("E", "S", "W")


@dataclass(frozen=True)
class Settings:
    """The options of one check, from the command line and `[tool.specc]`.

    `select` and `ignore` hold codes or prefixes (`W`, `S1`, `W101`); `ALL` selects every code;
    the default selects everything but info (I).
    As in ruff, the most specific matching entry wins, and ignore wins a tie.
    """

    select: tuple[str, ...] = DEFAULT_SELECT
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    max_params: int | None = None
    max_activation_mb: float | None = None
    fail_on: Severity = Severity.ERROR

    def enabled(self, code: str) -> bool:
        chosen = _most_specific(self.select, code)
        if chosen is None:
            return False
        dropped = _most_specific(self.ignore, code)
        return dropped is None or _weight(chosen) > _weight(dropped)

    def severity_of(self, code: str, default: Severity) -> Severity:
        """The configured severity of the most specific matching code or prefix (W2, W201)."""
        key = _most_specific(self.severity, code) if self.severity else None
        return default if key is None else self.severity[key]


DEFAULT = Settings()


def _most_specific(selectors: Iterable[str], code: str) -> str | None:
    """The longest selector that matches `code` (`ALL` matches everything, least specifically)."""
    matching = (s for s in selectors if s == ALL or code.startswith(s))
    return max(matching, key=_weight, default=None)


def _weight(selector: str) -> int:
    return 0 if selector == ALL else len(selector)


def unknown_selectors(selectors: Iterable[str]) -> list[str]:
    """The selectors that match no catalogued code (a typo the user should hear about)."""
    return [s for s in selectors if s != ALL and not any(code.startswith(s) for code in CATALOGUE)]


def parse_severities(table: Mapping[str, str]) -> dict[str, Severity]:
    """`{"W102": "error", "W2": "info"}` -> {code or prefix: Severity}; raises ValueError on a
    code or prefix that matches nothing, or an unknown level."""
    out: dict[str, Severity] = {}
    for given, level in table.items():
        code = given.strip().upper()
        if unknown_selectors([code]) or code == ALL:
            raise ValueError(f"unknown code '{given}'")
        try:
            out[code] = Severity.parse(level)
        except (KeyError, AttributeError):
            raise ValueError(f"'{level}' is not a severity (error, warning or info)") from None
    return out
