"""Keras import: a Keras 3 model (a `.keras` file, or the JSON of `model.to_json()`) as a spec.

`reader.py` reads the config into plain layer records and the graph between them;
`importer.py` walks them in order and maps each by its family's table (`<family>.py`, Keras
class name -> spec type, attributes and weight names in Keras's order); `weights.py` reads
`model.weights.h5` (h5py). Reading a config needs neither Keras nor TensorFlow.
"""

from __future__ import annotations

from specc.ops.parts import import_all


def load_families() -> None:
    """Import every family module, so that each registers its mappings (no list to keep)."""
    import_all(__name__, __path__)
