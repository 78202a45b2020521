"""What a Keras code generator of one layer sees, and the table of generators by op class.

A generator adds the Keras layers that compute its spec layer, in order (`Site.layer`): most
add one, named as the spec layer, which gets the weights; some add a zero padding before it or
an activation after it, named after it. Each layer reads the previous one's output (the first
one reads the spec layer's inputs), so a wrapper can wrap each of them alike. A layer is called
on its inputs as one list (merges) or one tensor, unless its `Call` says otherwise (attention
takes query and value as arguments of their own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from specc.interop.pysource import GenerateError, Names, call, literal
from specc.ir import TensorType
from specc.ops.base import Op, Param
from specc.ops.parts import Parts


@dataclass(frozen=True)
class Call:
    """How a Keras layer is called: `arguments` passes these inputs (by index, an input may
    come twice) as arguments of their own (`layer(query, value)`), where None passes them all
    as one list (one tensor when there is one); `kwargs` are the call's keyword arguments
    (source text or literals); `pick` follows the call to take its output (`[0]`)."""

    arguments: tuple[int, ...] | None = None
    kwargs: Mapping[str, object] = field(default_factory=dict)
    pick: str = ""


PLAIN = Call()


@dataclass(frozen=True)
class Step:
    """One Keras layer: its class (`layers.Conv2D`), arguments as source text, name, and how
    it is called."""

    function: str
    args: tuple[object, ...]
    kwargs: Mapping[str, object]
    name: str
    how: Call = PLAIN

    def constructor(self) -> str:
        return call(self.function, *self.args, **self.kwargs, name=literal(self.name))

    def apply(self, inputs: Sequence[str]) -> str:
        """The layer made and called on `inputs` (variable names)."""
        if self.how.arguments is not None:
            args = [inputs[i] for i in self.how.arguments]
        else:
            args = [inputs[0] if len(inputs) == 1 else f"[{', '.join(inputs)}]"]
        return call(self.constructor(), *args, **self.how.kwargs) + self.how.pick


@dataclass(frozen=True)
class Site:
    """One spec layer being generated: its op, input types, output type and parameters."""

    names: Names  # the Keras layer names taken
    name: str
    op: Op
    inputs: tuple[TensorType, ...]
    output: TensorType
    params: Mapping[str, Param]
    steps: list[Step] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)  # the file's layer classes (`CLASSES`)

    def layer(self, function: str, *args: object, **kwargs: object) -> None:
        """Add the spec layer's own Keras layer, which takes its name (and weights)."""
        self.steps.append(Step(function, args, kwargs, self.name))

    def layer_called(self, how: Call, function: str, *args: object, **kwargs: object) -> None:
        """`layer`, called on the inputs as `how` says."""
        self.steps.append(Step(function, args, kwargs, self.name, how))

    def helper(self, suffix: str, function: str, *args: object, **kwargs: object) -> None:
        """Add a Keras layer that helps the layer's own (a padding, an activation), named after
        it with `suffix`."""
        name = self.names.fresh(f"{self.name}_{suffix}")
        self.steps.append(Step(function, args, kwargs, name))

    def definition(self, name: str) -> str:
        """A layer class of the file (see `CLASSES`), defined once."""
        self.classes.add(name)
        return name

    def fail(self, why: str) -> GenerateError:
        return GenerateError(f"{self.name}: the Keras export of {self.op.type} {why}")

    def inner(self, op: Op, inputs: tuple[TensorType, ...], output: TensorType) -> Site:
        """The site of `op` (a wrapper's inner layer) with its layers, named after this one."""
        name = self.names.fresh(f"{self.name}_inner")
        site = Site(self.names, name, op, inputs, output, self.params, classes=self.classes)
        generate_site(site)
        return site


Generator = Callable[[Site], None]
GENERATORS: Parts[Generator] = Parts("Keras export", "specc.interop.keras")


def generate_site(site: Site) -> list[Step]:
    """The Keras layers computing the site's layer."""
    generator = GENERATORS.find(type(site.op))
    if generator is None:
        raise GenerateError(f"{site.name}: the Keras export has no mapping for {site.op.type}")
    generator(site)
    return site.steps


def define(name: str, text: str) -> None:
    """Declare a layer class that generators may ask the file for (`Site.definition`), where
    Keras has none; a family defines its own where it imports."""
    if CLASSES.get(name, text) != text:
        raise ValueError(f"two layer classes are named {name}")
    CLASSES[name] = text


# Layer classes a generator may ask the file to define, by name.
CLASSES: dict[str, str] = {}
