"""The law between the two halves of specc: for random valid networks over every layer type, the
shapes inferred statically are the shapes the executor produces, and the parameter counts are
the sizes of the weights it initialises.

The networks come from `tests.strategies`, which draws every registered type and keeps a layer
only when the op accepts its input, so the comparison is with the executor, which computes its
shapes from the arrays.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import specc
from specc.api import check_text
from specc.dims import substitute
from tests.strategies import Network, networks

EXAMPLES = int(os.environ.get("SPECC_FUZZ_EXAMPLES", "0"))
LAW = settings(
    max_examples=EXAMPLES or 100,
    derandomize=not EXAMPLES,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


@LAW
@given(networks(), st.integers(1, 2), st.sampled_from(["float32", "float64"]))
def test_static_shapes_and_params_equal_the_executors(
    network: Network, batch: int, dtype: str
) -> None:
    text, dims = network.text, network.dims
    checked = check_text(text, "drawn.yaml")
    assert checked.ok, [d.message for d in checked.diagnostics]
    assert checked.shapes is not None and checked.shapes.complete
    static = {
        name: tuple(substitute(d, dims) for d in info.output.shape)
        for name, info in checked.shapes.layers.items()
    }
    params = {
        f"{name}.{p.name}": tuple(substitute(d, dims) for d in p.shape)
        for name, info in checked.shapes.layers.items()
        for p in info.params
    }
    counts = {
        name: substitute(info.param_count, dims) for name, info in checked.shapes.layers.items()
    }

    plan = specc.compile(text, batch=batch, dtype=dtype, dims=dims, max_memory=None)
    outputs = plan.run_all(seed=1)
    assert {name: array.shape for name, array in outputs.items()} == {
        name: (batch, *static[name]) for name in network.outputs
    }
    assert all(array.dtype == np.dtype(dtype) for array in outputs.values())
    weights = plan.init_weights(seed=1)
    assert {key: array.shape for key, array in weights.items()} == params
    for name, count in counts.items():
        assert sum(a.size for k, a in weights.items() if k.split(".")[0] == name) == count, name
