"""Keras export of normalisation: BatchNormalization, LayerNormalization and
GroupNormalization, and scale as a small layer class of the file (Keras has none)."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site, define
from specc.ops.norm import BatchNorm, GroupNorm, LayerNorm, Scale

define(
    "Scale",
    '''
class Scale(layers.Layer):
    """ConvNeXt's layer scale: the input times a learnt gamma per channel (the last axis)."""

    def __init__(self, init_value: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.init_value = init_value

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.gamma = self.add_weight(
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.init_value),
            name="gamma",
        )

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        return x * self.gamma

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape
''',
)


def _affine(op: BatchNorm | LayerNorm | GroupNorm) -> dict[str, object]:
    """epsilon, and center and scale where they are off; the weights are then [gamma, beta]
    without the ones left out: the spec's order."""
    kwargs: dict[str, object] = {"epsilon": float(op.epsilon)}
    if not op.center:
        kwargs["center"] = "False"
    if not op.scale:
        kwargs["scale"] = "False"
    return kwargs


@GENERATORS.register(BatchNorm)
def _batch_norm(site: Site) -> None:
    """The moving statistics follow gamma and beta, as in the spec."""
    op = site.op
    assert isinstance(op, BatchNorm)
    site.layer("layers.BatchNormalization", **_affine(op))


@GENERATORS.register(LayerNorm)
def _layer_norm(site: Site) -> None:
    """The spec's axes, counted with the batch axis."""
    op = site.op
    assert isinstance(op, LayerNorm)
    rank = site.inputs[0].rank
    axes = tuple(a + 1 for a in op.axes(rank))
    if axes == (rank,):
        site.layer("layers.LayerNormalization", **_affine(op))
    else:
        axis = axes[0] if len(axes) == 1 else axes
        site.layer("layers.LayerNormalization", axis=axis, **_affine(op))


@GENERATORS.register(GroupNorm)
def _group_norm(site: Site) -> None:
    op = site.op
    assert isinstance(op, GroupNorm)
    site.layer("layers.GroupNormalization", groups=op.groups, **_affine(op))


@GENERATORS.register(Scale)
def _scale(site: Site) -> None:
    op = site.op
    assert isinstance(op, Scale)
    site.layer(site.definition("Scale"), float(op.init_value))
