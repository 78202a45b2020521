"""Keras export of lstm, gru and bidirectional: layers.LSTM, layers.GRU and
layers.Bidirectional, which keep the weights as the spec does."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.interop.pysource import call
from specc.ops.recurrent import GRU, LSTM, Bidirectional, Recurrent

# Keras's leaky_relu has slope 0.2, the spec's 0.3: a layer (a callable that Bidirectional
# can copy) computes it.
SPELLED = {"leaky_relu": "layers.LeakyReLU(negative_slope=0.3)"}


def _activation(name: str | None) -> str:
    if name is None:
        return "None"
    return SPELLED.get(name, f'"{name}"')


def _constructor(op: Recurrent) -> tuple[str, dict[str, object]]:
    """The layer's class and its arguments other than the units, where not Keras's defaults."""
    kwargs: dict[str, object] = {}
    if op.activation != "tanh":
        kwargs["activation"] = _activation(op.activation)
    if op.recurrent_activation != "sigmoid":
        kwargs["recurrent_activation"] = _activation(op.recurrent_activation)
    if not op.bias:
        kwargs["use_bias"] = "False"
    if op.return_sequences:
        kwargs["return_sequences"] = "True"
    if isinstance(op, GRU) and not op.reset_after:
        kwargs["reset_after"] = "False"
    return ("layers.LSTM" if isinstance(op, LSTM) else "layers.GRU"), kwargs


@GENERATORS.register(LSTM, GRU)
def _recurrent(site: Site) -> None:
    op = site.op
    assert isinstance(op, Recurrent)
    function, kwargs = _constructor(op)
    site.layer(function, op.units, **kwargs)


@GENERATORS.register(Bidirectional)
def _bidirectional(site: Site) -> None:
    """The forward layer's weights, then the backward one's: the spec's order."""
    op = site.op
    assert isinstance(op, Bidirectional)
    function, kwargs = _constructor(op.layer)
    merge = {} if op.merge_mode == "concat" else {"merge_mode": f'"{op.merge_mode}"'}
    site.layer("layers.Bidirectional", call(function, op.layer.units, **kwargs), **merge)
