"""Settings: every knob the service has, read once from WATCHER_* environment variables.

Values come from the process environment first and a `.env` file in the working directory second
(the original backend's users set up with `cp .env.example .env`). Anything invalid is refused at
start with a message naming the variable, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

PREFIX = "WATCHER_"
LEGACY_DB_URL = "DB_URL"


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _optional_path(raw: str) -> Path | None:
    """An empty value means "not configured" (so `.env.example` can list the variable blank)."""
    return Path(raw.strip()) if raw.strip() else None


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _log_level(raw: str) -> str:
    return _choice("debug", "info", "warning", "error", "critical")(raw).upper()


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _field(default: Any, parse: Callable[[str], Any], doc: str, secret: bool = False) -> Any:
    return dataclasses.field(
        default=default, repr=not secret, metadata={"parse": parse, "doc": doc, "secret": secret}
    )


class EnvSettings:
    """Reading a frozen settings dataclass from `<PREFIX><FIELD>` environment variables.

    Subclasses are dataclasses whose fields come from `_field`; `from_env` is the one place that
    knows the precedence (environment over `.env`) and turns a bad value into a SettingsError.
    """

    PREFIX: ClassVar[str] = PREFIX

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
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
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
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            default = field.default
            if isinstance(default, tuple):
                default = ",".join(default)
            shown = "" if default is None else str(default)
            rows.append((cls.PREFIX + field.name.upper(), shown, field.metadata["doc"]))
        return rows


@dataclasses.dataclass(frozen=True)
class Settings(EnvSettings):
    """The service's configuration. Field `foo_bar` is read from `WATCHER_FOO_BAR`."""

    db_path: Path = _field(
        Path("./data/watcher.db"),
        Path,
        "SQLite database file; its directory is created. DB_URL=sqlite:////path is accepted too.",
    )
    host: str = _field("0.0.0.0", str, "Address to listen on.")
    port: int = _field(3000, _port, "TCP port (the original backend's).")
    log_level: str = _field("INFO", _log_level, "debug, info, warning, error or critical.")
    log_format: str = _field("text", _choice("text", "json"), "text, or json for JSON lines.")
    max_body_bytes: int = _field(
        1024 * 1024, _positive_int, "Largest request body accepted; larger gets 413."
    )
    batch_max: int = _field(
        512, _positive_int, "Most writes committed in one transaction (group commit)."
    )
    batch_delay_ms: float = _field(
        0.0,
        _non_negative_float,
        "Extra wait for more writes before a commit; 0 commits as soon as the writer is free.",
    )
    queue_max: int = _field(
        10000, _positive_int, "Writes waiting for the writer; beyond it POSTs get 503."
    )
    read_connections: int = _field(
        2, _positive_int, "SQLite connections serving reads (WAL lets them run beside writes)."
    )
    busy_timeout_ms: int = _field(
        10000, _positive_int, "How long SQLite waits for a lock before failing."
    )
    synchronous: str = _field(
        "normal",
        _choice("normal", "full"),
        "SQLite synchronous mode: normal (WAL-safe) or full (also survives power loss).",
    )
    list_limit: int = _field(
        10000, _positive_int, "Most rows a list route returns; ?limit=N asks for fewer."
    )
    list_max_bytes: int = _field(
        4 * 1024 * 1024,
        _positive_int,
        "Largest log list response body in bytes; a list cut short by it (or by its limit) says"
        ' where it goes on in a Link: <...?before=...>; rel="next" header.',
    )
    cors_origins: tuple[str, ...] = _field(
        (), _csv, "Comma-separated origins allowed by CORS (empty: same-origin only)."
    )
    shutdown_timeout_s: float = _field(
        30.0, _non_negative_float, "Grace period for in-flight requests on SIGTERM."
    )
    read_timeout_s: float = _field(
        30.0, _positive_float, "A request body not received within this many seconds gets 408."
    )
    header_timeout_s: float = _field(
        10.0,
        _positive_float,
        "A connection that has not sent a whole request head (line and headers) within this many"
        " seconds of opening, or of its previous response, is closed; also the keep-alive idle"
        " time.",
    )
    ingest_token: str = _field(
        "",
        str,
        "Bearer token every POST must carry (empty: none, as the collectors expect).",
        secret=True,
    )
    read_token: str = _field(
        "",
        str,
        "Bearer token for GETs under /api/ (empty: none, as the portal expects).",
        secret=True,
    )
    metrics_token: str = _field(
        "",
        str,
        "Bearer token for /metrics (empty: open). /healthz and /readyz are always open.",
        secret=True,
    )
    snapshot_dir: Path | None = _field(
        None,
        _optional_path,
        "The filemon snapshot volume (read-only) that content routes read; empty: not configured.",
    )
    snapshot_tolerance_s: int = _field(
        3,
        _non_negative_int,
        "Largest gap in seconds between a snapshot row and the file it is matched to.",
    )
    content_max_bytes: int = _field(
        1024 * 1024,
        _positive_int,
        "Largest snapshot content served or diffed; bigger versions are reported as too large.",
    )
    export_key: str = _field(
        "",
        str,
        "Key of the HMAC-SHA256 that pseudonymises student ids in ProgSnap2 exports"
        " (pseudonymize=true); empty: pseudonymised exports are refused.",
        secret=True,
    )
    bench_routes: bool = _field(
        False,
        _bool,
        "Add POST /_bench/noop (parses like an ingest, writes nothing) for make bench.",
    )
    wal_autocheckpoint: int = _field(
        1000,
        _non_negative_int,
        "WAL pages after which a commit checkpoints (SQLite's default); 0 leaves every checkpoint"
        " to Litestream, as its docs ask (the operator sets 0 when spec.backup is enabled).",
    )

    @classmethod
    def _raw_value(cls, field: str, values: Mapping[str, str]) -> tuple[str, str | None]:
        name, raw = super()._raw_value(field, values)
        if raw is None and field == "db_path" and LEGACY_DB_URL in values:
            return LEGACY_DB_URL, _path_from_db_url(values[LEGACY_DB_URL])
        return name, raw


def _path_from_db_url(url: str) -> str:
    """`sqlite:////app/data/database.db` -> `/app/data/database.db` (SQLAlchemy URL rules)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite":
        raise SettingsError(
            f"{LEGACY_DB_URL}={url!r}: only sqlite:/// URLs are supported; set WATCHER_DB_PATH"
        )
    # sqlite:///relative.db has three slashes, sqlite:////abs.db four: drop the host part's one.
    path = rest[1:] if rest.startswith("/") else rest
    if not path:
        raise SettingsError(f"{LEGACY_DB_URL}={url!r}: no database path")
    return path


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


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every service setting."""
    return Settings.describe()
