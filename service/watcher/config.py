"""Settings: every knob the service has, read once from WATCHER_* environment variables.

Values come from the process environment first and a `.env` file in the working directory second
(the original backend's users set up with `cp .env.example .env`). Anything invalid is refused at
start with a message naming the variable, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from watcher.settings import (
    EnvSettings,
    SettingsError,
    choice,
    comma_list,
    email_address,
    flag,
    log_level,
    non_negative_float,
    non_negative_int,
    optional_path,
    port,
    positive_float,
    positive_int,
    setting,
)

LEGACY_DB_URL = "DB_URL"


@dataclasses.dataclass(frozen=True)
class Settings(EnvSettings):
    """The service's configuration. Field `foo_bar` is read from `WATCHER_FOO_BAR`."""

    db_path: Path = setting(
        Path("./data/watcher.db"),
        Path,
        "SQLite database file; its directory is created. DB_URL=sqlite:////path is accepted too.",
    )
    host: str = setting("0.0.0.0", str, "Address to listen on.")
    port: int = setting(3000, port, "TCP port (the original backend's).")
    log_level: str = setting("INFO", log_level, "debug, info, warning, error or critical.")
    log_format: str = setting("text", choice("text", "json"), "text, or json for JSON lines.")
    max_body_bytes: int = setting(
        1024 * 1024, positive_int, "Largest request body accepted; larger gets 413."
    )
    batch_max: int = setting(
        512, positive_int, "Most writes committed in one transaction (group commit)."
    )
    batch_delay_ms: float = setting(
        0.0,
        non_negative_float,
        "Extra wait for more writes before a commit; 0 commits as soon as the writer is free.",
    )
    queue_max: int = setting(
        10000, positive_int, "Writes waiting for the writer; beyond it POSTs get 503."
    )
    read_connections: int = setting(
        2, positive_int, "SQLite connections serving reads (WAL lets them run beside writes)."
    )
    busy_timeout_ms: int = setting(
        10000, positive_int, "How long SQLite waits for a lock before failing."
    )
    synchronous: str = setting(
        "normal",
        choice("normal", "full"),
        "SQLite synchronous mode: normal (WAL-safe) or full (also survives power loss).",
    )
    list_limit: int = setting(
        10000, positive_int, "Most rows a list route returns; ?limit=N asks for fewer."
    )
    list_max_bytes: int = setting(
        4 * 1024 * 1024,
        positive_int,
        "Largest log list response body in bytes; a list cut short by it (or by its limit) says"
        ' where it goes on in a Link: <...?before=...>; rel="next" header.',
    )
    cors_origins: tuple[str, ...] = setting(
        (), comma_list, "Comma-separated origins allowed by CORS (empty: same-origin only)."
    )
    shutdown_timeout_s: float = setting(
        30.0, non_negative_float, "Grace period for in-flight requests on SIGTERM."
    )
    read_timeout_s: float = setting(
        30.0, positive_float, "A request body not received within this many seconds gets 408."
    )
    header_timeout_s: float = setting(
        10.0,
        positive_float,
        "A connection that has not sent a whole request head (line and headers) within this many"
        " seconds of opening, or of its previous response, is closed; also the keep-alive idle"
        " time.",
    )
    event_loop: str = setting(
        "auto",
        choice("auto", "uvloop", "asyncio"),
        "Event loop: auto (uvloop when installed, as it is with the pinned dependencies),"
        " uvloop, or asyncio's own.",
    )
    ingest_token: str = setting(
        "",
        str,
        "Bearer token every POST must carry (empty: none, as the collectors expect).",
        secret=True,
    )
    read_token: str = setting(
        "",
        str,
        "Bearer token for GETs under /api/ (empty: none, as the portal expects).",
        secret=True,
    )
    metrics_token: str = setting(
        "",
        str,
        "Bearer token for /metrics (empty: open). /healthz and /readyz are always open.",
        secret=True,
    )
    snapshot_dir: Path | None = setting(
        None,
        optional_path,
        "The filemon snapshot volume (read-only) that content routes read; empty: not configured.",
    )
    snapshot_tolerance_s: int = setting(
        3,
        non_negative_int,
        "Largest gap in seconds between a snapshot row and the file it is matched to.",
    )
    content_max_bytes: int = setting(
        1024 * 1024,
        positive_int,
        "Largest snapshot content served or diffed; bigger versions are reported as too large.",
    )
    export_key: str = setting(
        "",
        str,
        "Key of the HMAC-SHA256 that pseudonymises student ids in ProgSnap2 exports"
        " (pseudonymize=true); empty: pseudonymised exports are refused.",
        secret=True,
    )
    bench_routes: bool = setting(
        False,
        flag,
        "Add POST /_bench/noop (parses like an ingest, writes nothing) for make bench.",
    )
    export_description: str = setting(
        "",
        str,
        "What a ProgSnap2 export's README.txt says the data set is (empty: a standard text).",
    )
    export_contact_name: str = setting(
        "", str, "Who answers questions about an exported data set (ProgSnap2 README.txt)."
    )
    export_contact_email: str = setting(
        "", email_address, "That contact's email address (ProgSnap2 README.txt)."
    )
    export_max_concurrent: int = setting(
        2,
        positive_int,
        "ProgSnap2 exports served at once; more get 503 with Retry-After.",
    )
    export_stall_timeout_s: float = setting(
        60.0,
        positive_float,
        "An export client that reads nothing for this many seconds is disconnected.",
    )
    wal_autocheckpoint: int = setting(
        1000,
        non_negative_int,
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


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every service setting."""
    return Settings.describe()
