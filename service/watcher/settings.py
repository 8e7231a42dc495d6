"""Reading settings from the environment: the machinery the service's and the gateway's settings
share. A settings class is a frozen dataclass of `setting(...)` fields; field `foo_bar` is read
from `<PREFIX>FOO_BAR`, the process environment winning over a `.env` file, and a value that does
not parse stops the program with a message naming the variable (never a silent default).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from watcher.names import boolean


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


def _bounded(
    convert: Callable[[str], Any], above: float, inclusive: bool, says: str
) -> Callable[[str], Any]:
    """A parser of numbers `convert` reads, refusing those below `above` (or at it)."""

    def parse(raw: str) -> Any:
        value = convert(raw)
        if value < above or (value == above and not inclusive) or value != value:  # NaN too
            raise ValueError(says)
        return value

    return parse


positive_int = _bounded(int, 1, True, "must be a positive integer")
non_negative_int = _bounded(int, 0, True, "must not be negative")
positive_float = _bounded(float, 0, False, "must be a positive number")
non_negative_float = _bounded(float, 0, True, "must not be negative")


def optional_path(raw: str) -> Path | None:
    """An empty value means "not configured" (so `.env.example` can list the variable blank)."""
    return Path(raw.strip()) if raw.strip() else None


def port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def log_level(raw: str) -> str:
    return choice("debug", "info", "warning", "error", "critical")(raw).upper()


def flag(raw: str) -> bool:
    return boolean(raw) or False  # empty: not set


def email_address(raw: str) -> str:
    """An email address (a contact's), or empty; ValueError otherwise."""
    value = raw.strip()
    if value and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise ValueError("must be an email address such as ta@example.edu")
    return value


def comma_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def setting(default: Any, parse: Callable[[str], Any], doc: str, secret: bool = False) -> Any:
    return dataclasses.field(
        default=default, repr=not secret, metadata={"parse": parse, "doc": doc, "secret": secret}
    )


@dataclasses.dataclass(frozen=True)
class EnvSettings:
    """Reading a frozen settings dataclass from `<PREFIX><FIELD>` environment variables.

    Subclasses are frozen dataclasses whose fields come from `setting` (this one has none);
    `from_env` is the one place that knows the precedence (environment over `.env`) and turns a
    bad value into a SettingsError.
    """

    PREFIX: ClassVar[str] = "WATCHER_"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Self:
        """Build settings from `environ` (default os.environ) over a `.env` file, if any."""
        values: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            values.update(read_dotenv(dotenv))
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Self:
        kwargs: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            name, raw = cls._raw_value(field.name, values)
            if raw is None:
                continue
            try:
                kwargs[field.name] = field.metadata["parse"](raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r}: {exc}") from None
        return cls(**kwargs)

    @classmethod
    def _raw_value(cls, field: str, values: Mapping[str, str]) -> tuple[str, str | None]:
        """(variable name, raw value or None) of one field; subclasses add aliases here."""
        name = cls.PREFIX + field.upper()
        return name, values.get(name)

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) of every setting: for --help and the README."""
        rows = []
        for field in dataclasses.fields(cls):
            default = field.default
            if isinstance(default, tuple):
                default = ",".join(default)
            shown = "" if default is None else str(default)
            rows.append((cls.PREFIX + field.name.upper(), shown, field.metadata["doc"]))
        return rows


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; `#` comments, `export ` prefixes and matching quotes allowed."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
