"""specc: a declarative YAML model-spec compiler and static checker."""

from __future__ import annotations

__version__ = "0.1.0"

_API = ("check_file", "check_text", "compile", "summary")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    # The API is imported lazily so that `import specc` stays cheap for the CLI.
    if name in _API:
        from specc import api

        return getattr(api, name)
    raise AttributeError(f"module 'specc' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy attributes are part of the module too: dir() and completion should list them.
    return sorted({*globals(), *__all__})
