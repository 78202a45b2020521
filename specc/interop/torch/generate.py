"""A checked spec as the source of one PyTorch nn.Module: one walk over the layers, in order."""

from __future__ import annotations

from specc.interop.pysource import INDENT, LINE, GenerateError, Names, camel, fit, literal
from specc.interop.torch.site import (
    FIRST,
    HELPERS,
    LAST,
    Site,
    Source,
    Value,
    Weight,
    convert,
    generate_site,
)
from specc.ir import Model
from specc.passes.shapes import Shapes

# Names the file or nn.Module already uses, which layers must not take (and the helpers').
RESERVED = {
    "self", "torch", "nn", "F", "np", "len", "float", "max", "super", "tuple", "int", "str",
    "SPECC_WEIGHTS", "load_specc_weights", "training", "forward", "add_module",
    "apply", "bfloat16", "buffers", "children", "compile", "cpu", "cuda", "double", "eval",
    "extra_repr", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half",
    "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
    "named_modules", "named_parameters", "parameters", "register_buffer", "register_module",
    "register_parameter", "requires_grad_", "set_extra_state", "set_submodule", "share_memory",
    "state_dict", "to", "to_empty", "train", "type", "xpu", "zero_grad", "dump_patches",
    "call_super_init", "T_destination",
}  # fmt: skip


def generate(shapes: Shapes) -> str:
    """The source of a PyTorch module computing the spec; GenerateError for what it cannot."""
    model = shapes.model
    if not shapes.complete:
        raise GenerateError("the spec has errors; `specc check` shows them")
    cls = camel(model.name)
    source = Source(Names({*RESERVED, *HELPERS, cls}))
    values: dict[str, Value] = {}
    args = []
    integer = {x.name for x in model.inputs if x.integer}
    for x in model.inputs:
        # Indices have no channel axis: an integer input is taken as it is (channels last).
        values[x.name] = Value(source.names.of(x.name), LAST if x.integer else FIRST, x.type.shape)
        args.append(values[x.name].code)
    needed = model.needed()
    for layer in model.layers:
        info = shapes.layers[layer.name]
        reads_indices = layer.op.index_bound() is not None
        site = Site(
            source,
            layer.name,
            source.names.of(layer.name),
            layer.op,
            tuple(
                _real(values[n]) if n in integer and not reads_indices else values[n]
                for n in layer.inputs
            ),
            info.output,
            {p.name: p for p in info.params},
        )
        start = len(source.forward)
        values[layer.name] = generate_site(site)
        if layer.name not in needed:  # its weights count, as in the spec, but nothing reads it
            del source.forward[start:]
    outputs = [convert(values[n], FIRST) for n in model.outputs]
    return _file(model, cls, source, args, outputs)


def _real(x: Value) -> Value:
    """An integer input as real values, for a layer other than an embedding."""
    return Value(f"{x.code}.float()", x.layout, x.shape)


def _file(model: Model, cls: str, source: Source, args: list[str], outputs: list[str]) -> str:
    helpers = [HELPERS[name] for name in sorted(source.helpers)]
    body = "\n".join(source.init + source.forward + helpers)
    imports = ["import numpy as np", "import torch"]
    if "F." in body:
        imports.append("import torch.nn.functional as F")
    imports.append("from torch import nn")
    about = model.description
    tensors = ", ".join(f"{a}: torch.Tensor" for a in args)
    returns = ", ".join(["torch.Tensor"] * len(outputs))
    returns = returns if len(outputs) == 1 else f"tuple[{returns}]"
    lines = [
        '"""A PyTorch module computing a specc spec, written by `specc export`.',
        "",
        *_doc_lines(f"{cls} is the spec {model.name}. {about}"),
        "",
        "forward takes and returns channels-first tensors, (N, C, H, W) for images; flatten and",
        "dense see channels-last values, as in the spec, so dense kernels load as Keras keeps them",
        "(transposed). Batch norm keeps Keras's momentum: 0.99 there is 0.01 here.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *imports,
        "",
        "# Each array of the .npz (Keras layouts) -> the state entry it loads, and the axis order",
        "# that turns its layout into PyTorch's.",
        *(_BLOCKS_NOTE if _has_blocks(source.weights) else []),
        *_weights_table(source.weights),
        "",
    ]
    for helper in helpers:
        lines += ["", *helper.strip("\n").splitlines(), ""]
    lines += [
        "",
        f"class {cls}(nn.Module):",
        f'    """{_clip(about or model.name, 92)}"""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(line for s in source.init for line in fit(s, 2)),
        "",
        *_signature(f"self, {tensors}", returns),
        *(line for s in source.forward for line in fit(s, 2)),
        *fit(f"return {', '.join(outputs)}", 2),
        "",
        *_loader(source.weights),
    ]
    return "\n".join(lines) + "\n"


def _signature(parameters: str, returns: str) -> list[str]:
    """`def forward(...)`, its parameters broken over lines as ruff's format breaks them."""
    line = f"{INDENT}def forward({parameters}) -> {returns}:"
    if len(line) <= LINE:
        return [line]
    head, tail = f"{INDENT}def forward(", f"{INDENT}) -> {returns}:"
    if len(INDENT * 2 + parameters) <= LINE:
        return [head, INDENT * 2 + parameters, tail]
    return [head, *(f"{INDENT * 2}{p}," for p in parameters.split(", ")), tail]


def _weights_table(weights: list[Weight]) -> list[str]:
    """Rows of (key, target, perm), and blocks where some weight has them."""
    blocks = _has_blocks(weights)
    kind = "tuple[int, ...] | None"
    head = f"SPECC_WEIGHTS: tuple[tuple[str, str, {kind}{', ' + kind if blocks else ''}], ...] = ("
    if not weights:
        return [head + ")"]
    rows = []
    for w in weights:
        row = (w.key, w.target, w.perm, *((w.blocks,) if blocks else ()))
        rows += fit(literal(row), 1, ",")
    return [head, *rows, ")"]


_BLOCKS_NOTE = [
    "# Recurrent weights also name the gate blocks of their first axis to take, in PyTorch's",
    "# gate order (Keras's GRU gates are z, r, h; PyTorch's r, z, n).",
]


def _has_blocks(weights: list[Weight]) -> bool:
    return any(w.blocks is not None for w in weights)


def _loader(weights: list[Weight]) -> list[str]:
    """`load_specc_weights`: each array permuted to PyTorch's layout, and its gates reordered
    where the rows have blocks."""
    pad = " " * 16
    if _has_blocks(weights):
        loop = "for key, target, perm, blocks in SPECC_WEIGHTS:"
        gates = [
            f"{pad}if blocks is not None:  # a recurrent layer's gates, in PyTorch's order",
            f"{pad}    size = state[target].shape[0] // len(blocks)",
            f"{pad}    array = array.reshape(-1, size, *state[target].shape[1:])[list(blocks)]",
        ]
    else:
        loop, gates = "for key, target, perm in SPECC_WEIGHTS:", []
    return [
        "    def load_specc_weights(self, path: str) -> None:",
        '        """Load the weights `specc export` wrote beside this file."""',
        "        state = self.state_dict()",
        "        with np.load(path) as arrays:",
        f"            {loop}",
        f"{pad}array = arrays[key] if perm is None else arrays[key].transpose(perm)",
        *gates,
        f"{pad}array = array.reshape(state[target].shape)  # depthwise: (C*m, 1, k, k)",
        f"{pad}state[target] = torch.from_numpy(np.ascontiguousarray(array))",
        "        self.load_state_dict(state)",
    ]


def _doc_lines(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text.replace('"""', "'''").replace("\\", "/"), 96) or [""]


def _clip(text: str, width: int) -> str:
    line = " ".join(text.replace('"""', "'''").replace("\\", "/").split())
    return line if len(line) <= width else line[: width - 3] + "..."
