"""Where a family keeps the parts of its ops that must not load with `specc check`.

A family's lowering (NumPy), its explain text and its export and import mappings live in
modules parallel to `specc/ops/<family>.py`, for example `specc/lower/ops/<family>.py`. Each such
package registers its parts in a `Parts` table; the table imports the package the first time
it is asked, so that a command pays only for the parts it uses.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from specc.ops.base import REGISTRY, Op

T = TypeVar("T")


def import_all(package: str, path: Iterable[str]) -> None:
    """Import every module of a package (its families), so that each registers its parts;
    a new family module is found without editing any list."""
    for info in pkgutil.iter_modules(list(path)):
        importlib.import_module(f"{package}.{info.name}")


class Parts(Generic[T]):
    """A table from op classes to one kind of part; subclasses inherit their base's entry."""

    def __init__(self, what: str, package: str) -> None:
        self.what = what  # "lowering", "explain" ...: for messages
        self.package = package  # the package whose modules register the parts
        self._table: dict[type[Op], T] = {}
        self._loaded = False

    def add(self, part: T, *classes: type[Op]) -> None:
        """Register `part` for `classes` (each at most once)."""
        for cls in classes:
            if cls in self._table:
                raise ValueError(f"{cls.__name__} has two {self.what} parts")
            self._table[cls] = part

    def register(self, *classes: type[Op]) -> Callable[[T], T]:
        """A decorator form of `add`."""

        def decorate(part: T) -> T:
            self.add(part, *classes)
            return part

        return decorate

    def load(self) -> None:
        """Import the package that registers the parts (its __init__ imports every family)."""
        if not self._loaded:
            self._loaded = True
            importlib.import_module(self.package)

    def find(self, cls: type[Op]) -> T | None:
        """The part of an op class, looked up along its bases; None if it has none."""
        self.load()
        for base in cls.__mro__:
            if base in self._table:
                return self._table[base]
        return None

    def missing(self) -> Iterator[str]:
        """The registered op types without a part (tests assert there are none)."""
        for name, cls in sorted(REGISTRY.items()):
            if self.find(cls) is None:
                yield name
