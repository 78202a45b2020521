"""Array files: read-only loading of .npy/.npz, and atomic writes that never clobber by accident."""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import numpy as np
from numpy.typing import NDArray

from specc import files
from specc.exits import IO_ERROR
from specc.ir import format_shape
from specc.lower.arrays import refusal
from specc.lower.errors import RunError
from specc.safe_text import clip, printable
from specc.units import format_bytes

SUFFIXES = (".npy", ".npz")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Header:
    """What a .npy header says about the array after it, read before any of its data."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def describe(self) -> str:
        return f"{format_shape(self.shape)} {self.dtype} ({format_bytes(self.nbytes)})"

    def stand_in(self) -> NDArray:
        """An array of this shape and dtype that costs no memory (a broadcast zero): enough for
        the checks to name what is wrong with an array that is never decompressed."""
        return np.broadcast_to(np.zeros((), self.dtype), self.shape)


# Decide from its header whether an array is worth reading (the spec wants one of its name,
# rank and type); the others become stand-ins that the spec checks then report.
Wanted = Callable[[str, Header], bool]
_CHUNK = 1 << 20


def read_arrays(
    path: str | os.PathLike[str],
    what: str,
    wanted: Wanted | None = None,
    budget: int | None = None,
) -> NDArray | dict[str, NDArray]:
    """The array of a .npy file or the arrays of a .npz file, read without ever writing to it.

    Every header is read first: an array that its file cannot hold (a corrupt or truncated
    file), pickled objects (loading them would run code), or arrays over `budget` bytes are
    refused before any data is decompressed; the data is then read in bounded chunks.
    """
    label = f"{what} {os.fspath(path)}"
    try:
        with open(path, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
            f.seek(0)
            if head.startswith(_NPY_MAGIC):
                size = os.fstat(f.fileno()).st_size
                header, start = _header(f, label), f.tell()
                _check_fits(label, "", header, size - start)
                _check_budget(label, {"": header}, budget)
                return _data(f, header, label)
            if head.startswith(_ZIP_MAGIC):
                return _read_npz(f, label, wanted, budget)
            raise RunError(f"{label}: not a .npy or .npz file (it does not start like one)")
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
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise RunError(f"{label}: not a valid .npy or .npz file ({exc})") from None
    except (NotImplementedError, RuntimeError) as exc:  # a compression zipfile lacks, encryption
        raise RunError(f"{label}: cannot be read ({exc})") from None


def _read_npz(
    f: BinaryIO, label: str, wanted: Wanted | None, budget: int | None
) -> dict[str, NDArray]:
    with zipfile.ZipFile(f) as archive:
        members = archive.infolist()
        headers: dict[str, tuple[zipfile.ZipInfo, Header, int]] = {}
        for info in members:
            if info.is_dir():
                continue
            name = info.filename.removesuffix(".npy")
            if name == info.filename or name in headers:
                why = "is not a .npy array" if name == info.filename else "appears twice"
                raise RunError(f"{label}: the member {printable(info.filename)!r} {why}")
            with archive.open(info) as member:
                header = _header(member, f"{label}: array {printable(name)!r}")
                start = member.tell()
            _check_fits(label, name, header, info.file_size - start)
            headers[name] = (info, header, start)
        chosen = {
            name: header
            for name, (_, header, _) in headers.items()
            if wanted is None or wanted(name, header)
        }
        _check_budget(label, chosen, budget)
        out: dict[str, NDArray] = {}
        for name, (info, header, start) in headers.items():
            if name not in chosen:
                out[name] = header.stand_in()
                continue
            with archive.open(info) as member:
                member.read(start)
                out[name] = _data(member, header, f"{label}: array {printable(name)!r}")
        return out


def _header(stream: IO[bytes], label: str) -> Header:
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        else:  # 2.0, and 3.0, which differs only in the header's text encoding
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    except ValueError as exc:
        raise RunError(f"{label}: not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise RunError(f"{label}: holds Python objects (pickled data), which specc never loads")
    return Header(tuple(shape), dtype, fortran)


def _check_fits(label: str, name: str, header: Header, room: int) -> None:
    """A header that promises more data than the file holds: corrupt or truncated."""
    if header.nbytes > max(room, 0):
        array = f" array {printable(name)!r}" if name else ""
        raise RunError(
            f"{label}:{array} the header says {header.describe()}, but the file holds only "
            f"{format_bytes(max(room, 0))} of data; the file is corrupt or truncated"
        )


def _check_budget(label: str, headers: Mapping[str, Header], budget: int | None) -> None:
    total = sum(h.nbytes for h in headers.values())
    if budget is not None and total > budget:
        parts = ", ".join(
            f"{printable(n)!r} {h.describe()}" if n else h.describe() for n, h in headers.items()
        )
        raise RunError(
            f"{label}: its arrays need {format_bytes(total)} ({clip(parts, 300)}), over the memory "
            f"budget of {format_bytes(budget)}; raise --max-memory to load them"
        )


def _data(stream: IO[bytes], header: Header, label: str) -> NDArray:
    """The array after a header, read in chunks into memory allocated once."""
    flat = np.empty(math.prod(header.shape), header.dtype)
    buffer = flat.view(np.uint8).reshape(-1).data
    done = 0
    while done < len(buffer):
        n = stream.readinto(buffer[done : done + _CHUNK])  # type: ignore[attr-defined]
        if not n:
            raise RunError(f"{label}: the data ends early; the file is corrupt or truncated")
        done += n
    if header.fortran:
        return flat.reshape(header.shape[::-1]).transpose()
    return flat.reshape(header.shape)


def load_inputs(
    path: str | os.PathLike[str],
    names: list[str],
    ranks: Mapping[str, int] | None = None,
    budget: int | None = None,
) -> dict[str, NDArray]:
    """Input arrays keyed by input name: a .npy holds the one input, a .npz one array per input.

    With `ranks` (axes per input, the batch axis included), arrays the spec has no input for,
    or of the wrong rank, are reported without being decompressed.
    """

    def wanted(name: str, header: Header) -> bool:
        return ranks is None or ranks.get(name) == len(header.shape)

    data = read_arrays(path, "input file", wanted, budget)
    if isinstance(data, dict):
        return data
    if len(names) != 1:
        raise RunError(
            f"input file {os.fspath(path)}: one array, but the spec has {len(names)} inputs "
            f"({', '.join(names)}); give a .npz keyed by input name"
        )
    return {names[0]: data}


def load_weights(
    path: str | os.PathLike[str],
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    budget: int | None = None,
) -> dict[str, NDArray]:
    """Weight arrays keyed "<layer>.<param>" from a .npz file.

    With `shapes` (the spec's), an array with a key or a shape the spec does not have, or of
    a type that cannot be used, is reported without being decompressed.
    """

    def wanted(name: str, header: Header) -> bool:
        if shapes is None:
            return True
        return shapes.get(name) == header.shape and refusal(header.dtype) is None

    data = read_arrays(path, "weights file", wanted, budget)
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
    try:
        files.refuse_special(target, what)
    except files.FileRefused as exc:
        raise RunError(str(exc), exit_code=IO_ERROR) from None
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
