"""`model.weights.h5` of a `.keras` file (Keras 3's layout: `layers/<name>/<group>/vars/<i>`),
read with h5py (the optional extra `specc[keras]`)."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence
from typing import Any

from specc.interop.onnx.reader import ImportFailed


class WeightsFile:
    """The variables of every layer, by Keras layer name."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        try:
            import h5py
        except ImportError:
            raise ImportFailed(
                "reading the weights of a .keras file needs h5py: pip install 'specc[keras]' "
                "(or import the model's JSON config, model.to_json(), without weights)"
            ) from None
        try:
            with zipfile.ZipFile(path) as z:
                data = z.read("model.weights.h5")
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ImportFailed(f"cannot read the weights of {path}: {exc}") from None
        self._file = h5py.File(io.BytesIO(data), "r")

    def arrays(self, layer: str, groups: Sequence[str], count: int) -> list[Any]:
        """The layer's variables in Keras's order: each group's `vars/0`, `vars/1` ..."""
        import numpy as np

        root = self._file.get(f"layers/{layer}")
        if root is None:
            raise ImportFailed(f"the weights file has no variables of the layer {layer}")
        out: list[Any] = []
        for group in groups:
            where = root.get(f"{group}/vars" if group else "vars")
            if where is None:
                raise ImportFailed(f"the weights file has no {group or 'variables'} of {layer}")
            out += [np.asarray(where[k]) for k in sorted(where.keys(), key=int)]
        if len(out) != count:
            raise ImportFailed(
                f"the weights file has {len(out)} variables for the layer {layer}; specc "
                f"expects {count}"
            )
        return out

    def close(self) -> None:
        self._file.close()
