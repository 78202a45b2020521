"""The catalogue of built-in diagnostic codes: E (file, syntax and schema) and S (graph and shape).

Codes are an interface: never renumber or reuse one. W0xx are the loader's warnings about how
the file reads; lint rules (W1xx and up, I) live in `specc.lint`.
"""

from __future__ import annotations

from specc.diagnostics import Code, Severity, register

E = Severity.ERROR


def _code(
    code: str,
    name: str,
    summary: str,
    why: str = "",
    bad: str = "",
    good: str = "",
    severity: Severity = E,
) -> str:
    register(Code(code, name, severity, summary, why, bad, good))
    return code


# -- E0xx: reading and parsing the file -------------------------------------------------------
IO_ERROR = _code(
    "E001", "unreadable-file", "The file cannot be read (missing, a directory, or no permission)."
)
YAML_SYNTAX = _code(
    "E002",
    "yaml-syntax",
    "The file is not valid YAML.",
    why="specc cannot check a spec it cannot parse; the message gives the parser's own reason.",
    bad="layers:\n  - type: conv2d\n   filters: 8",
    good="layers:\n  - type: conv2d\n    filters: 8",
)
DUPLICATE_KEY = _code(
    "E003",
    "duplicate-key",
    "A mapping has the same key twice.",
    why="YAML parsers silently keep the last value; specc refuses to guess which one you meant.",
    bad="- type: conv2d\n  filters: 8\n  filters: 16",
    good="- type: conv2d\n  filters: 16",
)
NOT_A_SPEC = _code("E004", "not-a-spec", "The document is empty or is not a mapping of spec keys.")
TOO_LARGE = _code("E005", "file-too-large", "The file is larger than the configured limit.")
ALIAS_BOMB = _code(
    "E006",
    "alias-expansion",
    "Anchors and aliases expand to more nodes than the limit.",
    why="A few nested aliases can expand to billions of nodes ('billion laughs').",
)
TOO_DEEP = _code("E007", "nesting-too-deep", "The document is nested deeper than the limit.")
ENCODING = _code(
    "E008", "bad-encoding", "The file is not UTF-8 text (binary data or another encoding)."
)
TAB_INDENT = _code(
    "E009",
    "tab-indentation",
    "A tab character is used for indentation; YAML allows only spaces.",
)
TOO_MANY_LAYERS = _code(
    "E010",
    "too-many-layers",
    "The `layers:` list has more entries than the limit.",
    why="It is checked while the file is read, so a huge generated list is refused before it "
    "is validated or built.",
)
AMBIGUOUS_NUMBER = _code(
    "E011",
    "ambiguous-number",
    "A number that YAML 1.1 and 1.2 read differently: a leading zero (`010`) or base 60 (`1:30`).",
    why="PyYAML (YAML 1.1) reads `kernel: 010` as octal 8, YAML 1.2 tools and people read 10; "
    "specc refuses to guess.",
    bad="- {type: conv2d, filters: 8, kernel: 010}",
    good="- {type: conv2d, filters: 8, kernel: 10}",
)

# -- W0xx: how the file reads -----------------------------------------------------------------
TRUTHY = _code(
    "W001",
    "yaml-truthy",
    "A plain `yes`, `no`, `on` or `off`, which YAML 1.1 reads as a boolean.",
    why="`bias: no` is false to specc (YAML 1.1) but the text 'no' to YAML 1.2 tools; "
    "`inputs: {on: [3]}` names the input 'True'. Write true or false, or quote the text.",
    bad="- {type: conv2d, filters: 8, kernel: 3, bias: no}",
    good="- {type: conv2d, filters: 8, kernel: 3, bias: false}",
    severity=Severity.WARNING,
)
UNUSED_SUPPRESSION = _code(
    "W002",
    "unused-suppression",
    "A `# specc: ignore` comment suppresses nothing on its line, or names an unknown code.",
    why="A suppression outlives the finding it was written for: the layer is fixed or moved, "
    "and the comment then hides the next, unrelated finding on that line. A misspelt code "
    "suppresses nothing at all. Comments are judged against every rule, selected or not; "
    "nothing is judged in a file with errors (its rules ran on part of the model at most).",
    bad="- {name: fc, type: dense, units: 10}  # specc: ignore[W101]",
    good="- {name: fc, type: dense, units: 10}",
    severity=Severity.WARNING,
)

# -- E1xx: the JSON Schema --------------------------------------------------------------------
SCHEMA_REQUIRED = _code("E101", "missing-key", "A required key is missing.")
SCHEMA_UNKNOWN_KEY = _code(
    "E102",
    "unknown-attribute",
    "A key that this layer type (or the spec) does not have.",
    why="A misspelt attribute would otherwise be ignored and its default used silently.",
    bad="- type: conv2d\n  filters: 8\n  kernel_size: 3",
    good="- type: conv2d\n  filters: 8\n  kernel: 3",
)
SCHEMA_TYPE = _code(
    "E103", "wrong-type", "A value has the wrong type (e.g. a string where a number must be)."
)
SCHEMA_RANGE = _code("E104", "out-of-range", "A number is outside its allowed range.")
SCHEMA_UNKNOWN_TYPE = _code(
    "E105",
    "unknown-layer-type",
    "The layer `type` is not one specc knows.",
    bad="- type: conv2D\n  filters: 8\n  kernel: 3",
    good="- type: conv2d\n  filters: 8\n  kernel: 3",
)
SCHEMA_VALUE = _code("E106", "invalid-value", "A value is not one of the allowed forms.")
SCHEMA_VERSION = _code(
    "E107", "unsupported-version", "The `specc:` format version is not supported."
)
SCHEMA_LENGTH = _code("E108", "wrong-length", "A list has too few or too many entries.")
BAD_ASSUMPTION = _code(
    "E109",
    "bad-assumption",
    "An `assume:` entry says nothing possible: a remainder not below its modulus, a symbol "
    "no input has, or a congruence that contradicts another.",
    bad='inputs: {image: [H, W, 1]}\nassume: ["H % 16 == 0", "H % 4 == 1"]',
    good='inputs: {image: [H, W, 1]}\nassume: ["H % 16 == 0", "W % 16 == 0"]',
)

# -- S0xx: names and graph structure ----------------------------------------------------------
UNKNOWN_REF = _code(
    "S001",
    "unknown-reference",
    "A layer reads from (or `outputs` names) something that does not exist.",
    bad="- name: a\n  type: relu\n  inputs: imagee",
    good="- name: a\n  type: relu\n  inputs: image",
)
LATER_REF = _code(
    "S002",
    "forward-reference",
    "A layer reads from itself or from a layer defined after it.",
    why="Layers run in the order written; reading a later layer would make a cycle.",
)
DUPLICATE_NAME = _code(
    "S003", "duplicate-name", "Two layers (or a layer and an input) share a name."
)
AMBIGUOUS_INPUT = _code(
    "S004",
    "ambiguous-input",
    "The first layer has no `inputs:` but the model has several inputs, so specc cannot pick one.",
)
ARITY = _code("S005", "wrong-input-count", "A layer has the wrong number of inputs for its type.")
# -- S1xx: shapes -----------------------------------------------------------------------------
RANK = _code(
    "S101",
    "wrong-rank",
    "A layer's input has the wrong number of axes for its type.",
    bad="inputs: {x: [28, 28]}\nlayers:\n  - {type: conv2d, filters: 8, kernel: 3}",
    good="inputs: {x: [28, 28, 1]}\nlayers:\n  - {type: conv2d, filters: 8, kernel: 3}",
)
MERGE_MISMATCH = _code(
    "S102",
    "merge-mismatch",
    "The inputs of add, multiply or concat have incompatible shapes.",
    bad="- {name: a, type: add, inputs: [c56, c28]}  # (56, 56, 64) + (28, 28, 64)",
)
GROUPS = _code("S103", "bad-groups", "`groups` does not divide the input channels or the filters.")
NONPOSITIVE_DIM = _code(
    "S104",
    "nonpositive-dim",
    "An output dimension shrinks to zero or below.",
    why="A window larger than its (padded) input has nowhere to go.",
)
RESHAPE = _code(
    "S105", "bad-reshape", "A reshape does not keep the number of elements, or is ambiguous."
)
AXIS = _code("S106", "bad-axis", "An axis is out of range for the input's rank.")
SPATIAL_RANK = _code(
    "S107",
    "wrong-attribute-length",
    "A per-axis attribute has a different length than the layer's spatial axes.",
)
SYMBOLIC = _code(
    "S108",
    "unprovable-dim",
    "A dimension depends on a symbol in a way specc cannot prove valid.",
)
INCOMPATIBLE = _code(
    "S112",
    "incompatible-attributes",
    "A layer's attribute values cannot be combined, or this layer type does not take the value.",
    why="Keras refuses them too: a transposed convolution with both a stride and a dilation "
    "above 1, or `padding: causal` on anything but conv1d.",
    bad="- {type: conv2d_transpose, filters: 8, kernel: 3, stride: 2, dilation: 2}",
    good="- {type: conv2d_transpose, filters: 8, kernel: 3, stride: 2}",
)
UNKNOWN_SYMBOL = _code("S109", "unbound-symbol", "A symbolic dimension is not bound to a value.")
INDEX_DTYPE = _code(
    "S111",
    "not-indices",
    "A layer that reads integer indices (an embedding) reads real values.",
    why="An embedding looks up a row per index; only a model input declared with "
    "`dtype: int32` holds indices (every layer's output is real-valued).",
    bad="inputs: {tokens: [T]}\nlayers:\n  - {type: embedding, input_dim: 1000, output_dim: 64}",
    good="inputs: {tokens: {shape: [T], dtype: int32}}\nlayers:\n"
    "  - {type: embedding, input_dim: 1000, output_dim: 64}",
)
TOO_BIG = _code(
    "S110",
    "tensor-too-large",
    "An input, output or weight tensor has more elements than the limit.",
    why="Shapes are exact integers, so a chain of huge dims would otherwise grow without bound "
    "and only fail when something tries to allocate it.",
)
