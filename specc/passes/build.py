"""Build the typed IR from schema-valid data: default names, resolved inputs and outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from specc import assume, codes
from specc.diagnostics import Diagnostic, Note, diag
from specc.dims import Dim
from specc.ir import Input, InputDType, Layer, Model, TensorType
from specc.ops import REGISTRY
from specc.schema import layer_label
from specc.source import SourceMap
from specc.suggest import did_you_mean


@dataclass
class Built:
    """The model (None when the spec is too broken to build) and what went wrong."""

    model: Model | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    broken: frozenset[str] = frozenset()  # layers left out because their own entry is invalid


def build(
    data: Mapping[str, Any], source: SourceMap, invalid_layers: frozenset[int] = frozenset()
) -> Built:
    """Resolve names; layers in `invalid_layers` (schema errors) are named but left out."""
    return _Builder(data, source, invalid_layers).run()


class _Builder:
    def __init__(self, data: Mapping[str, Any], source: SourceMap, invalid: frozenset[int]) -> None:
        self.data, self.source, self.invalid = data, source, invalid
        self.diagnostics: list[Diagnostic] = []
        self.defined: dict[str, tuple[str, int]] = {}  # name -> ("input" | "layer", index)

    def run(self) -> Built:
        self.assume = self._assumptions()
        inputs = self._inputs()
        raw_layers = self.data["layers"]
        names = [self._name(i, raw) for i, raw in enumerate(raw_layers)]
        layers: list[Layer] = []
        broken: set[str] = set()
        for i, raw in enumerate(raw_layers):
            self._define(names[i], i)
            if i in self.invalid:
                broken.add(names[i])
                continue
            refs = self._resolve(i, raw, names)
            layer = self._layer(i, raw, names[i], refs)
            if layer is not None:
                layers.append(layer)
        outputs = self._outputs(names)
        model = Model(
            name=self.data["name"],
            description=self.data.get("description", ""),
            inputs=inputs,
            layers=tuple(layers),
            outputs=outputs,
            assume=self.assume,
            source=self.source,
        )
        return Built(model, self.diagnostics, frozenset(broken))

    def _assumptions(self) -> assume.Assumptions:
        """The `assume:` entries that say something possible about a symbol of the inputs."""
        names = sorted(
            {d for dims in self.data["inputs"].values() for d in dims if isinstance(d, str)}
        )
        known = assume.NONE
        for i, text in enumerate(self.data.get("assume", [])):
            node = ("assume", i)
            try:
                entry = assume.parse(text)
            except ValueError as exc:
                self._error(codes.BAD_ASSUMPTION, node, f"assume: {exc}")
                continue
            if entry.symbol not in names:
                listed = ", ".join(names) or "none"
                hint = did_you_mean(entry.symbol, names) or f" (the inputs' symbols: {listed})"
                self._error(
                    codes.BAD_ASSUMPTION,
                    node,
                    f"assume: '{entry.symbol}' is not a symbol of the inputs{hint}",
                )
                continue
            known, clash = known.add(entry)
            if clash is not None:
                self._error(
                    codes.BAD_ASSUMPTION,
                    node,
                    f"assume: '{entry}' contradicts '{clash}': "
                    f"no value of {entry.symbol} meets both",
                )
        return known

    def _inputs(self) -> tuple[Input, ...]:
        out = []
        for i, (name, declared) in enumerate(self.data["inputs"].items()):
            # `name: [dims...]`, or `name: {shape: [dims...], dtype: int32}`
            dims = declared["shape"] if isinstance(declared, dict) else declared
            dtype: InputDType = (
                declared.get("dtype", "float32") if isinstance(declared, dict) else "float32"
            )
            shape: tuple[Dim, ...] = tuple(
                self.assume.form(d) if isinstance(d, str) else d for d in dims
            )
            span = self.source.key(("inputs", name))
            out.append(Input(name, TensorType(shape), span, dtype))
            self.defined[name] = ("input", i)
        return tuple(out)

    def _name(self, index: int, raw: Mapping[str, Any]) -> str:
        return layer_label(self.data, index)

    def _define(self, name: str, index: int) -> None:
        if name in self.defined:
            kind, first = self.defined[name]
            where = (
                self.source.key(("inputs", name))
                if kind == "input"
                else self.source.value(("layers", first))
            )
            self._error(
                codes.DUPLICATE_NAME,
                ("layers", index, "name"),
                f"{name}: the name is already used by "
                + ("an input" if kind == "input" else f"layer {first + 1}"),
                Note("first defined here", where),
            )
            return
        self.defined[name] = ("layer", index)

    def _resolve(
        self, index: int, raw: Mapping[str, Any], names: list[str]
    ) -> tuple[str, ...] | None:
        label = names[index]
        if "inputs" not in raw:
            if index > 0:
                return (names[index - 1],)
            only = list(self.data["inputs"])
            if len(only) == 1:
                return (only[0],)
            self._error(
                codes.AMBIGUOUS_INPUT,
                ("layers", 0),
                f"{label}: the model has {len(only)} inputs ({', '.join(only)}); "
                "say which with `inputs:`",
            )
            return None
        refs = raw["inputs"] if isinstance(raw["inputs"], list) else [raw["inputs"]]
        ok = True
        for j, ref in enumerate(refs):
            node = (
                ("layers", index, "inputs")
                if isinstance(raw["inputs"], str)
                else ("layers", index, "inputs", j)
            )
            ok &= self._check_ref(ref, index, label, names, node)
        return tuple(refs) if ok else None

    def _check_ref(
        self, ref: str, index: int, label: str, names: list[str], node: tuple[Any, ...]
    ) -> bool:
        if ref in self.defined and (
            self.defined[ref][0] == "input" or self.defined[ref][1] < index
        ):
            return True
        if ref in names:
            later = names.index(ref)
            what = "itself" if later == index else f"layer {later + 1} '{ref}', which comes later"
            self._error(
                codes.LATER_REF,
                node,
                f"{label}: reads from {what}; a layer may read only inputs and earlier layers",
                Note(f"'{ref}' is defined here", self.source.value(("layers", later))),
            )
            return False
        known = [n for n, (kind, i) in self.defined.items() if kind == "input" or i < index]
        self._error(
            codes.UNKNOWN_REF,
            node,
            f"{label}: reads from unknown '{ref}'{did_you_mean(ref, known)}",
        )
        return False

    def _layer(
        self, index: int, raw: Mapping[str, Any], name: str, refs: tuple[str, ...] | None
    ) -> Layer | None:
        op_cls = REGISTRY[raw["type"]]
        if refs is None:
            return None
        count = len(refs)
        low, high = op_cls.min_inputs, op_cls.max_inputs
        if count < low or (high is not None and count > high):
            want = (
                f"at least {low}"
                if high is None
                else (str(low) if low == high else f"{low} to {high}")
            )
            self._error(
                codes.ARITY,
                ("layers", index, "inputs") if "inputs" in raw else ("layers", index),
                f"{name}: {op_cls.type} takes {want} input{'s' if want != '1' else ''}; "
                f"got {count}",
            )
            return None
        return Layer(
            name=name,
            op=op_cls.from_mapping(raw),
            inputs=refs,
            index=index,
            span=self.source.value(("layers", index)),
            node=("layers", index),
            explicit_inputs="inputs" in raw,
        )

    def _outputs(self, names: list[str]) -> tuple[str, ...]:
        raw = self.data.get("outputs")
        if raw is None:
            return (names[-1],)
        refs = [raw] if isinstance(raw, str) else list(raw)
        for j, ref in enumerate(refs):
            if ref not in self.defined:
                node = ("outputs",) if isinstance(raw, str) else ("outputs", j)
                self._error(
                    codes.UNKNOWN_REF,
                    node,
                    f"outputs: unknown '{ref}'{did_you_mean(ref, list(self.defined))}",
                )
        return tuple(r for r in refs if r in self.defined)

    def _error(self, code: str, node: tuple[Any, ...], message: str, *notes: Note) -> None:
        self.diagnostics.append(diag(code, message, self.source.value(node), *notes))
