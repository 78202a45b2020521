"""The shape report as a Python object: plain text as its repr, rich and Jupyter displays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from specc.report.summary import Summary


@dataclass(frozen=True)
class Report:
    """What `specc.summary` returns: `repr` is the plain table (as Keras's model.summary()
    prints), a rich console or a notebook draws it as a table; `.data` holds the numbers."""

    data: Summary
    columns: Sequence[str] | None = None

    def __repr__(self) -> str:
        from specc.report.tables import plain

        return plain(self.data, self.columns).rstrip("\n")

    def __rich__(self) -> Any:
        from specc.report.tables import rich_table

        return rich_table(self.data, self.columns)[0]

    def _repr_markdown_(self) -> str:
        from specc.report.tables import markdown

        return markdown(self.data, self.columns)
