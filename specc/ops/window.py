"""One N-d sliding-window formula for every convolution and pooling kind."""

from __future__ import annotations

from collections.abc import Sequence

from specc.dims import Dim, ceildiv, floordiv, format_dim, is_symbolic
from specc.ops.base import Problem
from specc.ops.common import Pads


def effective(kernel: int, dilation: int) -> int:
    """The extent a dilated kernel covers: d*(k-1)+1."""
    return dilation * (kernel - 1) + 1


def window_out(
    size: Dim, kernel: int, stride: int, dilation: int, pad: tuple[int, int] | str
) -> Dim:
    """Output length of one axis. `same` follows TensorFlow: ceil(size/stride)."""
    if pad == "same":
        return ceildiv(size, stride)
    assert isinstance(pad, tuple)
    return floordiv(size + pad[0] + pad[1] - effective(kernel, dilation), stride) + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's `same` padding of one axis: the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + effective(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def window_shape(
    spatial: Sequence[Dim],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    padding: Pads,
    what: str = "kernel",
) -> tuple[Dim, ...]:
    """Output spatial dims of a window op; S104 when an axis shrinks to zero or below."""
    out: list[Dim] = []
    for axis, size in enumerate(spatial):
        pad = "same" if padding == "same" else padding[axis]
        o = window_out(size, kernel[axis], stride[axis], dilation[axis], pad)
        if not is_symbolic(o) and o < 1:  # type: ignore[operator]
            raise Problem(
                "S104", _shrink_message(axis, size, kernel[axis], dilation[axis], pad, what)
            )
        out.append(o)
    return tuple(out)


def _shrink_message(
    axis: int, size: Dim, k: int, d: int, pad: tuple[int, int] | str, what: str
) -> str:
    eff = effective(k, d)
    padded = format_dim(size) if pad == "same" else f"{format_dim(size)} + {pad[0]} + {pad[1]}"
    span = f"{k}-wide" if d == 1 else f"{k}-wide (dilated to {eff})"
    return (
        f"spatial axis {axis} shrinks to zero or below: the {span} {what} does not fit "
        f"the padded input of {padded}"
    )
