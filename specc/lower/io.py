"""Array files: read-only loading of .npy/.npz, and atomic writes that never clobber by accident."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from specc import files
from specc.exits import IO_ERROR
from specc.lower.errors import RunError

SUFFIXES = (".npy", ".npz")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def read_arrays(path: str | os.PathLike[str], what: str) -> NDArray | dict[str, NDArray]:
    """The array of a .npy file or the arrays of a .npz file, read without ever writing to it.

    Pickled objects are refused: loading them would run code from the file.
    """
    label = f"{what} {os.fspath(path)}"
    try:
        with open(path, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
            f.seek(0)
            if not (head.startswith(_NPY_MAGIC) or head.startswith(_ZIP_MAGIC)):
                raise RunError(f"{label}: not a .npy or .npz file (it does not start like one)")
            loaded = np.load(f, allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                return loaded
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise RunError(f"{label}: not a .npy or .npz file")
            with loaded:
                return {name: loaded[name] for name in loaded.files}
    except RunError:
        raise
    except FileNotFoundError:
        raise RunError(f"{label}: no such file", exit_code=IO_ERROR) from None
    except IsADirectoryError:
        raise RunError(
            f"{label}: is a directory, not a .npy or .npz file", exit_code=IO_ERROR
        ) from None
    except PermissionError:
        raise RunError(f"{label}: permission denied", exit_code=IO_ERROR) from None
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise RunError(
                f"{label}: holds Python objects (pickled data), which specc never loads"
            ) from None
        raise RunError(f"{label}: not a valid .npy or .npz file ({exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise RunError(f"{label}: not a valid .npy or .npz file ({exc})") from None


def load_inputs(path: str | os.PathLike[str], names: list[str]) -> dict[str, NDArray]:
    """Input arrays keyed by input name: a .npy holds the one input, a .npz one array per input."""
    data = read_arrays(path, "input file")
    if isinstance(data, dict):
        return data
    if len(names) != 1:
        raise RunError(
            f"input file {os.fspath(path)}: one array, but the spec has {len(names)} inputs "
            f"({', '.join(names)}); give a .npz keyed by input name"
        )
    return {names[0]: data}


def load_weights(path: str | os.PathLike[str]) -> dict[str, NDArray]:
    """Weight arrays keyed "<layer>.<param>" from a .npz file."""
    data = read_arrays(path, "weights file")
    if not isinstance(data, dict):
        raise RunError(
            f"weights file {os.fspath(path)}: a single array; "
            "weights come as a .npz keyed '<layer>.<param>'"
        )
    return data


def check_target(
    path: str | os.PathLike[str], force: bool, what: str, *, suffixes: tuple[str, ...] = SUFFIXES
) -> Path:
    """Refuse, before any work, a file that cannot or must not be written."""
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise RunError(
            f"{what} {target}: the name must end in {' or '.join(suffixes)}", exit_code=IO_ERROR
        )
    if target.is_dir():
        raise RunError(f"{what} {target}: is a directory", exit_code=IO_ERROR)
    if not target.parent.is_dir():
        raise RunError(
            f"{what} {target}: the directory {target.parent} does not exist", exit_code=IO_ERROR
        )
    if (target.exists() or target.is_symlink()) and not force:
        raise RunError(
            f"{what} {target} already exists; pass --force to replace it", exit_code=IO_ERROR
        )
    return target


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], force: bool, what: str
) -> None:
    """specc.files.atomic_write, with a refusal reported as a RunError (exit 2)."""
    try:
        files.atomic_write(path, write, force, what)
    except files.FileRefused as exc:
        raise RunError(str(exc), exit_code=IO_ERROR) from None


def save_arrays(
    path: str | os.PathLike[str], arrays: NDArray | Mapping[str, NDArray], force: bool, what: str
) -> None:
    """One array as .npy, or named arrays as .npz, written atomically."""
    target = Path(path)
    if target.suffix.lower() == ".npy":
        if isinstance(arrays, Mapping):
            if len(arrays) != 1:
                raise RunError(
                    f"{what} {target}: {len(arrays)} arrays need a .npz file", exit_code=IO_ERROR
                )
            (arrays,) = arrays.values()
        single = arrays

        def write(f: BinaryIO) -> None:
            np.save(f, single, allow_pickle=False)
    else:
        named = dict(arrays) if isinstance(arrays, Mapping) else {"output": arrays}

        def write(f: BinaryIO) -> None:
            np.savez(f, allow_pickle=False, **named)

    atomic_write(target, write, force, what)
