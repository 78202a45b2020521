"""`specc diff`: what changed between two specs, layer by layer (matched by name), with totals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from specc.dims import Dim, substitute
from specc.passes.costs import Costs

Status = Literal["added", "removed", "changed", "same"]
FIELDS = ("type", "output", "kernel", "params", "macs")


@dataclass(frozen=True)
class Side:
    """One layer as one spec has it."""

    type: str
    output: tuple[Dim, ...]
    kernel: tuple[Dim, ...] | None
    params: Dim
    macs: Dim

    def get(self, name: str) -> object:
        return getattr(self, name)


@dataclass(frozen=True)
class LayerDiff:
    name: str
    old: Side | None
    new: Side | None

    @property
    def changed(self) -> tuple[str, ...]:
        """The fields that differ (every field when the layer was added or removed)."""
        if self.old is None or self.new is None:
            return FIELDS
        return tuple(f for f in FIELDS if self.old.get(f) != self.new.get(f))

    @property
    def status(self) -> Status:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.changed else "same"


@dataclass(frozen=True)
class Total:
    old: Dim
    new: Dim

    @property
    def delta(self) -> Dim:
        return self.new - self.old

    @property
    def percent(self) -> float | None:
        """The change relative to the old value; None when it is symbolic or the old is 0."""
        if isinstance(self.old, int) and isinstance(self.new, int) and self.old:
            return 100.0 * (self.new - self.old) / self.old
        return None


@dataclass(frozen=True)
class Diff:
    old_name: str
    new_name: str
    layers: tuple[LayerDiff, ...]
    params: Total
    macs: Total
    peak: Total | None  # peak activation bytes, when both are single values

    @property
    def changes(self) -> tuple[LayerDiff, ...]:
        return tuple(d for d in self.layers if d.status != "same")

    @property
    def identical(self) -> bool:
        """No layer, total or name differs (what `specc diff --exit-code` tests)."""
        same_peak = self.peak is None or self.peak.old == self.peak.new
        return (
            not self.changes
            and self.old_name == self.new_name
            and self.params.old == self.params.new
            and self.macs.old == self.macs.new
            and same_peak
        )


def diff(old: Costs, new: Costs, dims: Mapping[str, int] | None = None) -> Diff:
    """Compare two analysed specs; `dims` binds symbols in both before comparing."""
    env = dict(dims or {})
    a, b = _sides(old, env), _sides(new, env)
    rows = tuple(LayerDiff(name, a.get(name), b.get(name)) for name in _order(old, new))
    return Diff(
        old_name=old.shapes.model.name,
        new_name=new.shapes.model.name,
        layers=rows,
        params=Total(_sum(s.params for s in a.values()), _sum(s.params for s in b.values())),
        macs=Total(_sum(s.macs for s in a.values()), _sum(s.macs for s in b.values())),
        peak=_peak(old, new, env),
    )


def _sides(costs: Costs, env: Mapping[str, int]) -> dict[str, Side]:
    out = {}
    for name, info in costs.shapes.layers.items():
        kernel = next((p.shape for p in info.params if p.name == "kernel"), None)
        out[name] = Side(
            type=info.layer.type,
            output=tuple(substitute(d, env) for d in info.output.shape),
            kernel=None if kernel is None else tuple(substitute(d, env) for d in kernel),
            params=substitute(info.param_count, env),
            macs=substitute(costs.layers[name].macs, env),
        )
    return out


def _order(old: Costs, new: Costs) -> list[str]:
    """The new spec's order, with each removed layer placed after its old predecessor."""
    old_names = [layer.name for layer in old.shapes.model.layers if layer.name in old.layers]
    new_names = [layer.name for layer in new.shapes.model.layers if layer.name in new.layers]
    kept = set(new_names)
    out: list[str] = []
    pending = list(old_names)
    for name in new_names:
        if name in pending:
            # Removed layers that came before this one in the old spec go first.
            cut = pending.index(name)
            out += [n for n in pending[:cut] if n not in kept]
            pending = pending[cut + 1 :]
        out.append(name)
    return out + [n for n in pending if n not in kept]


def _peak(old: Costs, new: Costs, env: Mapping[str, int]) -> Total | None:
    if old.peak is None or new.peak is None:
        return None
    a, b = old.peak.value(env), new.peak.value(env)
    return None if a is None or b is None else Total(a, b)


def _sum(values: Iterable[Dim]) -> Dim:
    total: Dim = 0
    for v in values:
        total = total + v
    return total


def to_json(d: Diff, everything: bool = False) -> dict[str, object]:
    """The machine-readable diff: changed layers (all with `everything`) and the totals."""
    from specc.report.summary import dim_json, shape_json

    def side(s: Side | None) -> dict[str, object] | None:
        if s is None:
            return None
        return {
            "type": s.type,
            "output_shape": shape_json(s.output),
            "kernel_shape": shape_json(s.kernel),
            "params": dim_json(s.params),
            "macs": dim_json(s.macs),
        }

    def total(t: Total | None) -> dict[str, object] | None:
        if t is None:
            return None
        return {"old": dim_json(t.old), "new": dim_json(t.new), "percent": t.percent}

    rows = d.layers if everything else d.changes
    return {
        "old": d.old_name,
        "new": d.new_name,
        "layers": [
            {
                "name": r.name,
                "status": r.status,
                "changed": list(r.changed) if r.status == "changed" else [],
                "old": side(r.old),
                "new": side(r.new),
            }
            for r in rows
        ],
        "totals": {
            "params": total(d.params),
            "macs": total(d.macs),
            "peak_activation_bytes": total(d.peak),
        },
    }
