"""specc: a declarative YAML model-spec compiler and static checker."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "check", "compile", "load_model"]


def __getattr__(name: str) -> object:
    # The API is imported lazily so that `import specc` stays cheap for the CLI.
    if name in {"check", "compile", "load_model", "report"}:
        from specc import api

        return getattr(api, name)
    raise AttributeError(name)
