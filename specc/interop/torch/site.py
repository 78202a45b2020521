"""What a PyTorch code generator of one layer sees, and the table of generators by op class.

Values in `forward` carry their layout. A channels-first value is (N, C, *spatial), what
PyTorch's convolutions, pools and batch norms take and what `forward` takes and returns; a
channels-last value is (N, *spatial, C), what the spec's flatten, reshape and dense read. A
generator asks for each input in the layout it needs (`Site.input`), and a `movedim` converts
it there; with one axis per sample both layouts are the same tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from specc.dims import Dim
from specc.interop.pysource import GenerateError, Names
from specc.ir import TensorType, weight_key
from specc.ops.base import Op, Param
from specc.ops.parts import Parts

Layout = Literal["first", "last"]
FIRST: Layout = "first"
LAST: Layout = "last"


@dataclass(frozen=True)
class Value:
    """A tensor of `forward`: the source that computes it, its layout and per-sample shape
    (channels last, as the spec writes it)."""

    code: str
    layout: Layout
    shape: tuple[Dim, ...]

    @property
    def rank(self) -> int:
        """Axes per sample."""
        return len(self.shape)

    def axis(self, spec_axis: int) -> int:
        """The tensor dim (batch first) of an axis of the spec's per-sample shape."""
        a = spec_axis % self.rank
        if self.layout == FIRST and self.rank > 1:
            return 1 if a == self.rank - 1 else a + 2
        return a + 1

    def spatial_dim(self, i: int) -> str:
        """The size of spatial axis `i`: a number when the spec knows it, else read at run time."""
        size = self.shape[i]
        return str(size) if isinstance(size, int) else f"{self.code}.shape[{self.axis(i)}]"


def convert(value: Value, layout: Layout) -> str:
    """The source of `value` in `layout`."""
    if value.layout == layout or value.rank < 2:
        return value.code
    return f"{value.code}.movedim({1 if layout == LAST else -1}, {-1 if layout == LAST else 1})"


@dataclass(frozen=True)
class Weight:
    """One array of the .npz loaded into the module: its key, the state entry, the axis order
    that turns its Keras layout into PyTorch's (None: as it is), and `blocks`: None, or the
    blocks of the first axis (in PyTorch's layout) to take, in order, where PyTorch orders a
    recurrent layer's gates otherwise."""

    key: str
    target: str
    perm: tuple[int, ...] | None
    blocks: tuple[int, ...] | None = None


@dataclass
class Source:
    """The parts of the file that the layers fill in."""

    names: Names
    init: list[str] = field(default_factory=list)  # statements of __init__
    forward: list[str] = field(default_factory=list)  # statements of forward
    weights: list[Weight] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)  # module-level functions the code calls


@dataclass(frozen=True)
class Site:
    """One layer being generated: its op, input values, output type and parameters.

    `name` is the spec layer's name (it keys the weights); `attr` is the Python name of its
    module (`self.<attr>`) and of its value in `forward`. A wrapper's inner layer is generated
    at a site of its own (`inner`), with the wrapper's names.
    """

    source: Source
    name: str
    attr: str
    op: Op
    inputs: tuple[Value, ...]
    output: TensorType
    params: Mapping[str, Param]

    def input(self, i: int, layout: Layout) -> str:
        """Input `i` in `layout`."""
        return convert(self.inputs[i], layout)

    def module(self, constructor: str, suffix: str = "") -> str:
        """Create a submodule in __init__ (named after the layer, plus `suffix` for a second
        one) and return how forward refers to it."""
        name = self.source.names.fresh(f"{self.attr}_{suffix}") if suffix else self.attr
        self.source.init.append(f"self.{name} = {constructor}")
        return f"self.{name}"

    def assign(
        self, expression: str, layout: Layout, shape: tuple[Dim, ...] | None = None
    ) -> Value:
        """Compute `expression` into the layer's variable (the output shape unless given)."""
        self.source.forward.append(f"{self.attr} = {expression}")
        return Value(self.attr, layout, self.output.shape if shape is None else shape)

    def load(
        self, param: str, target: str, *, keras: bool = False, blocks: tuple[int, ...] | None = None
    ) -> None:
        """Load the spec's parameter into `target` (`self.conv1.weight`), permuted as the
        parameter declares (kept in Keras's layout with `keras`), taking `blocks` (`Weight`)."""
        key, perm = weight_key(self.name, param), self.params[param].torch_perm
        weight = Weight(key, target.removeprefix("self."), None if keras else perm, blocks)
        self.source.weights.append(weight)

    def helper(self, name: str) -> str:
        """A module-level function of the file (see `HELPERS`), added once."""
        self.source.helpers.add(name)
        return name

    def channels(self, i: int = 0) -> int:
        """The channel count of input `i`, which PyTorch's layers need as a number."""
        c = self.inputs[i].shape[-1]
        if not isinstance(c, int):
            raise self.fail(f"needs a known channel count, not {c}")
        return c

    def fail(self, why: str) -> GenerateError:
        return GenerateError(f"{self.name}: the PyTorch export of {self.op.type} {why}")

    def inner(self, op: Op, inputs: tuple[Value, ...], output: TensorType) -> Value:
        """Generate `op` (a wrapper's inner layer) on `inputs`, with this layer's names."""
        site = Site(self.source, self.name, self.attr, op, inputs, output, self.params)
        return generate_site(site)


Generator = Callable[[Site], Value]
GENERATORS: Parts[Generator] = Parts("PyTorch export", "specc.interop.torch")


def generate_site(site: Site) -> Value:
    """The value computing the site's layer, after adding its code."""
    generator = GENERATORS.find(type(site.op))
    if generator is None:
        raise GenerateError(f"{site.name}: the PyTorch export has no mapping for {site.op.type}")
    return generator(site)


def define(name: str, text: str) -> None:
    """Declare a module-level function that generators may ask the file for (`Site.helper`);
    a family defines its own where it imports."""
    if HELPERS.get(name, text) != text:
        raise ValueError(f"two helpers are named {name}")
    HELPERS[name] = text


# Functions a generator may ask the file to define, by name.
HELPERS: dict[str, str] = {
    "same_pad": '''
def same_pad(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's `same` padding of one axis of `size` cells: the odd cell goes after."""
    total = max((-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2
''',
}
