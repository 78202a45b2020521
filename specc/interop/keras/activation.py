"""Keras export of the activations, as layers and as the `activation:` of conv and dense."""

from __future__ import annotations

from collections.abc import Callable

from specc.interop.keras.site import GENERATORS, Site
from specc.ops import activation as act

# The one table of this family: the Keras layer of each activation name the spec accepts
# (class, then its arguments given alpha, None for the spec's default), and the name Keras's
# `activation=` argument takes for the same function, where one exists. Keras's "leaky_relu"
# has slope 0.2, the spec's 0.3, so it becomes a layer of its own.
Arguments = Callable[["float | None"], dict[str, object]]
LAYERS: dict[str, tuple[str, Arguments]] = {
    "relu": ("layers.ReLU", lambda alpha: {}),
    "relu6": ("layers.ReLU", lambda alpha: {"max_value": 6.0}),
    "leaky_relu": (
        "layers.LeakyReLU",
        lambda alpha: {"negative_slope": float(0.3 if alpha is None else alpha)},
    ),
    "elu": ("layers.ELU", lambda alpha: {"alpha": float(1.0 if alpha is None else alpha)}),
    "sigmoid": ("layers.Activation", lambda alpha: {"activation": '"sigmoid"'}),
    "tanh": ("layers.Activation", lambda alpha: {"activation": '"tanh"'}),
    "softmax": ("layers.Softmax", lambda alpha: {}),  # over the last axis, the channels
    "gelu": ("layers.Activation", lambda alpha: {"activation": '"gelu"'}),  # exact (erf)
    "silu": ("layers.Activation", lambda alpha: {"activation": '"silu"'}),
    "hard_sigmoid": ("layers.Activation", lambda alpha: {"activation": '"hard_sigmoid"'}),
    "hard_swish": ("layers.Activation", lambda alpha: {"activation": '"hard_swish"'}),
    "hard_silu": ("layers.Activation", lambda alpha: {"activation": '"hard_silu"'}),
    "mish": ("layers.Activation", lambda alpha: {"activation": '"mish"'}),
    "softplus": ("layers.Activation", lambda alpha: {"activation": '"softplus"'}),
}
FUSED = {
    "relu", "relu6", "elu", "sigmoid", "tanh", "softmax", "gelu", "silu", "hard_sigmoid",
    "hard_swish", "hard_silu", "mish", "softplus",
}  # fmt: skip


def fused(name: str | None) -> dict[str, object]:
    """The `activation=` argument of a conv or dense layer, where Keras names the function."""
    return {"activation": f'"{name}"'} if name in FUSED else {}


def after(site: Site, name: str | None) -> None:
    """An activation layer after the layer, where `fused` could not express it."""
    if name is not None and name not in FUSED:
        function, kwargs = LAYERS[name]
        site.helper(name, function, **kwargs(None))


@GENERATORS.register(act.Activation)
def _activation(site: Site) -> None:
    function, kwargs = LAYERS[site.op.type]
    site.layer(function, **kwargs(getattr(site.op, "alpha", None)))


@GENERATORS.register(act.Softmax)
def _softmax(site: Site) -> None:
    """layers.Softmax over the spec's axes, counted with the batch axis."""
    op = site.op
    assert isinstance(op, act.Softmax)
    rank = site.inputs[0].rank
    axes = tuple(a + 1 for a in op.axes(rank))
    if axes == (rank,):
        site.layer("layers.Softmax")
    else:
        site.layer("layers.Softmax", axis=axes[0] if len(axes) == 1 else axes)
