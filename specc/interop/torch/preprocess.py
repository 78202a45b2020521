"""PyTorch export of preprocessing: rescaling as arithmetic, normalization by buffers."""

from __future__ import annotations

from specc.interop.torch.site import GENERATORS, LAST, Site, Value
from specc.ops.preprocess import KERAS_EPSILON, Normalization, Rescaling


@GENERATORS.register(Rescaling)
def _rescaling(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Rescaling)
    x = site.inputs[0]
    offset = f" + {float(op.offset)!r}" if op.offset else ""
    return site.assign(f"{x.code} * {float(op.scale)!r}{offset}", x.layout)


@GENERATORS.register(Normalization)
def _normalization(site: Site) -> Value:
    """The statistics are buffers, as a batch norm's are: state, not parameters. Keras's
    `count` (the samples adapt() saw) is not used, and not loaded."""
    c = site.channels()
    stats = {}
    for param, init in (("mean", "zeros"), ("variance", "ones")):
        name = site.source.names.fresh(f"{site.attr}_{param}")
        site.source.init.append(f'self.register_buffer("{name}", torch.{init}({c}))')
        site.load(param, f"self.{name}")
        stats[param] = f"self.{name}"
    centred = site.assign(f"{site.input(0, LAST)} - {stats['mean']}", LAST)
    std = f"{stats['variance']}.sqrt().clamp_min({KERAS_EPSILON!r})"
    return site.assign(f"{centred.code} / {std}", LAST)
