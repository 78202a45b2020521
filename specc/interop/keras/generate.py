"""A checked spec as the source of a Keras 3 functional model: one walk over the layers."""

from __future__ import annotations

import textwrap

from specc.dims import product
from specc.interop.keras.site import CLASSES, Site, generate_site
from specc.interop.pysource import GenerateError, Names, call, fit, literal, static
from specc.ir import Model, format_shape
from specc.passes.shapes import Shapes

RESERVED = {
    "keras", "layers", "np", "model", "build_model", "load_specc_weights", "SPECC_WEIGHTS",
    "len", "float", "tuple", "dict", "str",
}  # fmt: skip


def generate(shapes: Shapes) -> str:
    """The source of `build_model()` computing the spec; GenerateError for what it cannot."""
    model = shapes.model
    if not shapes.complete:
        raise GenerateError("the spec has errors; `specc check` shows them")
    variables = Names(RESERVED | set(CLASSES))
    layer_names = Names({x.name for x in model.inputs} | {layer.name for layer in model.layers})
    body: list[str] = []
    weights: list[tuple[str, tuple[str, ...]]] = []
    values: dict[str, str] = {}
    classes: set[str] = set()
    real: dict[str, str] = {}  # integer inputs as floats, for layers other than embeddings
    for x in model.inputs:
        values[x.name] = variables.of(x.name)
        shape = tuple(d if isinstance(d, int) else None for d in x.type.shape)
        dtype = {"dtype": literal(x.dtype)} if x.integer else {}
        made = call("keras.Input", shape=shape, **dtype, name=literal(x.name))
        body.append(f"{values[x.name]} = {made}")
    integer = {x.name for x in model.inputs if x.integer}
    needed = model.needed()  # the functional model holds only what an output depends on
    for layer in (x for x in model.layers if x.name in needed):
        info = shapes.layers[layer.name]
        for param in info.params:  # Keras makes its weights from the input's channels
            static(product(param.shape), f"{layer.name}: {param.name} {format_shape(param.shape)}")
        site = Site(
            layer_names, layer.name, layer.op, info.inputs, info.output,
            {p.name: p for p in info.params}, classes=classes,
        )  # fmt: skip
        steps = generate_site(site)
        var = variables.of(layer.name)
        current = []
        for n in layer.inputs:
            if n in integer and layer.op.index_bound() is None and n not in real:
                real[n] = variables.fresh(f"{values[n]}_real")
                body.append(f'{real[n]} = keras.ops.cast({values[n]}, "float32")')
            cast = n in integer and layer.op.index_bound() is None
            current.append(real[n] if cast else values[n])
        for step in steps:
            body.append(f"{var} = {step.apply(current)}")
            current = [var]
        values[layer.name] = var
        if info.params:
            weights.append((layer.name, tuple(p.name for p in info.params)))
    ins = _one_or_list([values[x.name] for x in model.inputs])
    outs = _one_or_list([values[n] for n in model.outputs])
    body.append("return " + call("keras.Model", inputs=ins, outputs=outs, name=literal(model.name)))
    return _file(model, body, weights, [CLASSES[name] for name in sorted(classes)])


def _one_or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"[{', '.join(names)}]"


def _file(
    model: Model, body: list[str], weights: list[tuple[str, tuple[str, ...]]], classes: list[str]
) -> str:
    about = f"The spec {model.name}. {model.description}".replace("\\", "/").replace('"""', "'''")
    lines = [
        '"""A Keras 3 functional model computing a specc spec, written by `specc export`.',
        "",
        *textwrap.wrap(about, 96),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import keras",
        "import numpy as np",
        "from keras import layers",
        "",
        "# The arrays of each layer in the .npz (Keras layouts already), in the order Keras keeps",
        "# the layer's weights.",
        *_weights_table(weights),
        "",
    ]
    for text in classes:
        lines += ["", *text.strip("\n").splitlines(), ""]
    lines += [
        "",
        "def build_model() -> keras.Model:",
        '    """The model, channels-last as the spec; symbolic dims are None."""',
        *(line for statement in body for line in fit(statement, 1)),
        "",
        "",
        "def load_specc_weights(model: keras.Model, path: str) -> None:",
        '    """Set every layer\'s weights from the .npz `specc export` wrote beside this file."""',
        "    with np.load(path) as arrays:",
        "        for layer, params in SPECC_WEIGHTS.items():",
        "            target = model.get_layer(layer)",
        '            target.set_weights([arrays[f"{layer}.{p}"] for p in params])',
        "            if isinstance(target, layers.Normalization):  # it reads them when built",
        "                target.finalize_state()",
    ]
    return "\n".join(lines) + "\n"


def _weights_table(weights: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    head = "SPECC_WEIGHTS: dict[str, tuple[str, ...]] = {"
    if not weights:
        return [head + "}"]
    lines = [head]
    for name, params in weights:
        lines += fit(f"{literal(name)}: {literal(params)}", 1, ",")
    return [*lines, "}"]
