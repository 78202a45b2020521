"""Which files a check reads and the settings for each: paths, directories and globs, and the
`[tool.specc]` table of the nearest pyproject.toml (command-line options win)."""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specc import codes as _codes  # noqa: F401 - registers the E and S codes
from specc.diagnostics import Severity
from specc.discover import expand_glob, is_spec
from specc.limits import DEFAULT_LIMITS, MAX_DEPTH, Limits
from specc.lint import Settings
from specc.lint.settings import DEFAULT_SELECT, parse_severities, unknown_selectors
from specc.suggest import did_you_mean

PYPROJECT = "pyproject.toml"
_STARS = re.compile(r"\*{3,}")
SUFFIXES = (".yaml", ".yml")
_KEYS = (
    "select", "extend-select", "ignore", "fail-on", "max-params", "max-activation-mb",
    "severity", "per-file-ignores", "exclude", "limits",
)  # fmt: skip
_LIMIT_KEYS = tuple(f.name.replace("_", "-") for f in dataclasses.fields(Limits))


class ConfigError(Exception):
    """A mistake in the configuration or the options: the command stops with exit code 2."""


@dataclass(frozen=True)
class Config:
    """One `[tool.specc]` table, checked; `root` is the folder its patterns are relative to."""

    root: Path
    path: str | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity | None = None
    max_params: int | None = None
    max_activation_mb: float | None = None
    severity: Mapping[str, Severity] = field(default_factory=dict)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True)
class Overrides:
    """What the command line sets; None (or empty) leaves the configuration's value."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity | None = None
    max_params: int | None = None
    max_activation_mb: float | None = None
    config: Path | None = None  # an explicit file: no discovery


def read_config(path: Path) -> Config:
    """Read `[tool.specc]` from a pyproject.toml, or the top level of any other TOML file."""
    document = _load_toml(path)
    if path.name != PYPROJECT:
        return parse_config(document, path)
    table = _tool_specc(document, path)
    return parse_config({} if table is None else table, path)


def _load_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise ConfigError(f"cannot read {shown(path)}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown(path)}: invalid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown(path)}: invalid TOML: the file is not UTF-8 text") from None


def _tool_specc(document: Mapping[str, Any], path: Path) -> object:
    """The `[tool.specc]` value of a pyproject.toml document (None when there is none)."""
    tool = document.get("tool", {})
    if not isinstance(tool, Mapping):
        raise ConfigError(f"{shown(path)}: [tool] must be a table")
    return tool.get("specc")


def shown(path: Path) -> str:
    """A path as short as it can be said: relative to the working folder when inside it."""
    relative = os.path.relpath(os.path.realpath(path))
    return str(path) if relative.startswith("..") else relative


def parse_config(table: object, path: Path) -> Config:
    """Check a configuration table and turn it into a Config; raises ConfigError."""
    where = f"{shown(path)}: [tool.specc]" if path.name == PYPROJECT else shown(path)
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table of settings")
    values = {key.replace("_", "-"): value for key, value in table.items()}
    _known(values, _KEYS, where, "key")
    try:
        return Config(
            root=Path(os.path.realpath(path)).parent,
            path=str(path),
            select=_selectors(values, "select") if "select" in values else None,
            extend_select=_selectors(values, "extend-select"),
            ignore=_selectors(values, "ignore"),
            fail_on=_level(values["fail-on"]) if "fail-on" in values else None,
            max_params=_number(values, "max-params", int),
            max_activation_mb=_number(values, "max-activation-mb", float),
            severity=parse_severities(_table(values, "severity")),
            per_file_ignores=tuple(
                (pattern, _selectors({(k := f'per-file-ignores["{pattern}"]'): codes}, k))
                for pattern, codes in _table(values, "per-file-ignores").items()
            ),
            exclude=_strings(values, "exclude"),
            limits=_limits(_table(values, "limits"), f"{where}: limits"),
        )
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


def _known(values: Mapping[str, Any], keys: Sequence[str], where: str, what: str) -> None:
    """Raise ConfigError for a key that is not one of `keys`, with the closest as a hint."""
    for key in values:
        if key not in keys:
            hint = did_you_mean(key, keys) or f" ({', '.join(keys)})"
            raise ConfigError(f"{where}: unknown {what} '{key}'{hint}")


def _limits(table: Mapping[str, Any], where: str) -> Limits:
    """`[tool.specc.limits]`: raise (or lower) the bounds that protect against hostile files."""
    values = {key.replace("_", "-"): value for key, value in table.items()}
    _known(values, _LIMIT_KEYS, where, "limit")
    chosen = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"limits: '{key}' must be a positive whole number; got {value!r}")
        if key == "max-depth" and value > MAX_DEPTH:
            raise ValueError(f"limits: 'max-depth' can be at most {MAX_DEPTH}; got {value:,}")
        chosen[key.replace("-", "_")] = value
    return dataclasses.replace(DEFAULT_LIMITS, **chosen)


def _strings(values: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = values.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{key}' must be a list of strings")
    return tuple(value)


def _selectors(values: Mapping[str, Any], key: str) -> tuple[str, ...]:
    selectors = tuple(s.strip().upper() for s in _strings(values, key) if s.strip())
    check_selectors(selectors, f"'{key}'")
    return selectors


def check_selectors(selectors: Sequence[str], where: str) -> None:
    """Raise ValueError for a selector that matches no code (a typo would silence nothing)."""
    unknown = unknown_selectors(selectors)
    if unknown:
        raise ValueError(f"{where}: '{unknown[0]}' matches no code (see `specc rules`)")


def _level(value: object) -> Severity:
    try:
        return Severity.parse(str(value))
    except KeyError:
        raise ValueError(f"'fail-on' must be error, warning or info; got {value!r}") from None


def _number(values: Mapping[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:  # NaN too
        raise ValueError(f"'{key}' must be a non-negative number; got {value!r}")
    if kind is int and not isinstance(value, int):
        raise ValueError(f"'{key}' must be a whole number; got {value!r}")
    return kind(value)


def _table(values: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = values.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"'{key}' must be a table")
    return value


class Resolver:
    """Finds the files to check and the settings for each, reading each pyproject.toml once."""

    def __init__(self, overrides: Overrides) -> None:
        self.overrides = overrides
        try:
            check_selectors(overrides.select or (), "--select")
            check_selectors(overrides.extend_select, "--extend-select")
            check_selectors(overrides.ignore, "--ignore")
        except ValueError as error:
            raise ConfigError(str(error)) from None
        self.fixed = read_config(overrides.config) if overrides.config else None
        self._near: dict[Path, Config] = {}
        self._read: dict[Path, Config | None] = {}

    # -- settings -------------------------------------------------------------------------
    def config_for(self, path: str) -> Config:
        """The configuration that governs `path`: the explicit one, or the nearest pyproject.toml
        with a `[tool.specc]` table, walking up from the file's folder."""
        if self.fixed is not None:
            return self.fixed
        start = Path(os.path.realpath(path))  # a symlink loop stays as it is, reported later
        folder = start if start.is_dir() else start.parent
        walked: list[Path] = []
        found: Config | None = None
        for directory in (folder, *folder.parents):
            if directory in self._near:
                found = self._near[directory]
                break
            walked.append(directory)
            found = self._pyproject(directory / PYPROJECT)
            if found is not None:
                break
        config = found or Config(root=Path.cwd())
        for directory in walked:
            self._near[directory] = config
        return config

    def _pyproject(self, path: Path) -> Config | None:
        if path not in self._read:
            config = None
            if path.is_file():
                table = _tool_specc(_load_toml(path), path)
                config = None if table is None else parse_config(table, path)
            self._read[path] = config
        return self._read[path]

    def limits_for(self, path: str) -> Limits:
        """The limits for one file: the defaults, or its configuration's `limits` table."""
        return self.config_for(path).limits

    def settings_for(self, path: str) -> Settings:
        """The settings for one file: its configuration, then the command line on top."""
        config, given = self.config_for(path), self.overrides
        # As in ruff, --select starts the selection afresh: the configured ignore and
        # extend-select go with it; extend-select adds to whichever selection is in force.
        if given.select is None:
            ignored, chosen = (
                config.ignore,
                (*(config.select or DEFAULT_SELECT), *config.extend_select),
            )
        else:
            ignored, chosen = (), given.select
        ignore = (*ignored, *_matching(config.per_file_ignores, path, config.root))
        return Settings(
            select=(*chosen, *given.extend_select),
            ignore=(*ignore, *given.ignore),
            severity=config.severity,
            max_params=_first(given.max_params, config.max_params),
            max_activation_mb=_first(given.max_activation_mb, config.max_activation_mb),
            fail_on=given.fail_on or config.fail_on or Severity.ERROR,
        )

    # -- files ----------------------------------------------------------------------------
    def files(
        self, args: Sequence[str], specs_only: bool = False, force_exclude: bool = False
    ) -> list[str]:
        """Expand the arguments, keeping their order and dropping repeats.

        A directory gives its `*.yaml`/`*.yml` files that carry `specc:` (hidden folders and
        `exclude` patterns are skipped); a glob gives the matching files that carry `specc:`;
        a file is checked as given (with `specs_only`, only if it carries `specc:`; with
        `force_exclude`, only if no `exclude` pattern covers it, as a hook that names every
        staged file needs). A path that does not exist is kept, so that the check reports it.
        """
        found: dict[str, str] = {}  # the real path -> the path as first given
        for arg in args:
            if os.path.isdir(arg):
                paths: Iterable[str] = self._walk(arg)
            elif not os.path.exists(arg) and glob.has_magic(arg):
                paths = self._glob(arg)
            elif force_exclude and self._excluded(arg, self.config_for(arg)):
                paths = []
            elif not (specs_only and os.path.isfile(arg) and not is_spec(arg)):
                paths = [arg]
            else:
                paths = []
            for path in paths:
                found.setdefault(os.path.realpath(path), path)
        return list(found.values())

    def _glob(self, pattern: str) -> Iterator[str]:
        matches = expand_glob(pattern)
        if not matches:
            yield pattern  # reported as a file that cannot be read
        for match in matches:
            if os.path.isdir(match):
                yield from self._walk(match)
            elif self._wanted(match, self.config_for(match)):
                yield match

    def _walk(self, top: str) -> Iterator[str]:
        config = self.config_for(top)
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and not self._excluded(os.path.join(folder, d), config)
            )
            for name in sorted(names):
                path = os.path.normpath(os.path.join(folder, name))
                if self._wanted(path, config):
                    yield path

    def _wanted(self, path: str, config: Config) -> bool:
        """A `*.yaml`/`*.yml` file, not excluded, that carries `specc:`. A FIFO or a device
        found on the way is never opened (reading it could block); a link that leads nowhere
        is kept, so that the check says so."""
        if not path.endswith(SUFFIXES) or self._excluded(path, config):
            return False
        dangling = os.path.islink(path) and not os.path.exists(path)
        return dangling or (os.path.isfile(path) and is_spec(path))

    @staticmethod
    def _excluded(path: str, config: Config) -> bool:
        return any(_matches(pattern, path, config.root) for pattern in config.exclude)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _matching(table: tuple[tuple[str, tuple[str, ...]], ...], path: str, root: Path) -> list[str]:
    return [code for pattern, codes in table if _matches(pattern, path, root) for code in codes]


def _matches(pattern: str, path: str, root: Path) -> bool:
    """Whether a pattern covers a path. A pattern with a `/` inside matches the path relative
    to the configuration's folder, or a folder above it (`legacy/old` covers
    `legacy/old/a.yaml`); one without matches any file or folder name on the way. A leading
    `/` or `./` and a trailing `/` change nothing, `*` matches across `/` (fnmatch), and `**/`
    may also stand for no folder at all."""
    pattern = pattern.removeprefix("./").lstrip("/").rstrip("/") or "."
    pattern = _STARS.sub("**", pattern)  # `***...` means what `**` does, and is cheap to match
    if "**/" in pattern:
        return _matches(pattern.replace("**/", "*/"), path, root) or _matches(
            pattern.replace("**/", ""), path, root
        )
    absolute = Path(os.path.realpath(path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:  # outside the folder (--config elsewhere): its folders above never count
        return fnmatch.fnmatchcase(absolute.name if "/" not in pattern else str(absolute), pattern)
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(name, pattern) for name in relative.parts)
    return any(
        fnmatch.fnmatchcase(p.as_posix(), pattern) for p in (relative, *relative.parents[:-1])
    )
