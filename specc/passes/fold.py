"""Batch-norm folding: a per-channel affine layer after a linear one joins its kernel and bias."""

from __future__ import annotations

from dataclasses import dataclass, replace

from specc.ir import Layer, Model
from specc.passes.rewrite import Fold, PassResult, readers, rebuild, sole_reader


@dataclass(frozen=True)
class FoldBatchNorm:
    """Fold every channel-affine layer (batch_norm) that solely reads a layer whose op can take
    it (`Op.affine_target`): the affine layer goes, and its weights join the other's when
    they are bound (`PassResult.folds`)."""

    def call(self, model: Model) -> PassResult:
        by = readers(model)
        gone: dict[str, str] = {}
        folds: list[Fold] = []
        changed: dict[str, Layer] = {}
        for layer in model.layers:
            if layer.op.affine_target() is None or layer.name in gone:
                continue
            reader = sole_reader(model, layer.name, by)
            if reader is None or not reader.op.channel_affine() or reader.name in changed:
                continue
            gone[reader.name] = layer.name
            folds.append(Fold(layer.name, reader.name, reader.op))
            changed[layer.name] = replace(layer, op=layer.op.with_bias())
        if not folds:
            return PassResult(model)
        layers = [changed.get(x.name, x) for x in model.layers if x.name not in gone]
        return PassResult(rebuild(model, layers, gone), True, gone, tuple(folds))
