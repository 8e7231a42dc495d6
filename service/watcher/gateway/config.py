"""Gateway settings, read once from WATCHER_GATEWAY_* environment variables.

Same rules as the service's settings (watcher.config, whose parsers this module reuses): the
process environment wins over a `.env` file, and an invalid value stops the gateway with a message
naming the variable.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from yarl import URL

from watcher.config import (
    EnvSettings,
    _choice,
    _field,
    _log_level,
    _non_negative_float,
    _port,
    _positive_float,
    _positive_int,
)


def upstream_url(raw: str) -> URL:
    """An absolute http(s) URL naming an instance; its path (if any) prefixes forwarded paths."""
    url = URL(raw.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http:// or https:// URL")
    if url.raw_query_string or url.raw_fragment or url.user is not None:
        raise ValueError("must not have a query, fragment or user info")
    return url.with_path(url.raw_path.rstrip("/"), encoded=True)


def _optional_url(raw: str) -> URL | None:
    return upstream_url(raw) if raw.strip() else None


@dataclasses.dataclass(frozen=True)
class GatewaySettings(EnvSettings):
    """The gateway's configuration. Field `foo_bar` is read from `WATCHER_GATEWAY_FOO_BAR`."""

    PREFIX = "WATCHER_GATEWAY_"

    # `_field` wraps dataclasses.field with parse metadata (RUF009 misreads it as a call default).
    routes_file: Path = _field(  # noqa: RUF009
        Path("/etc/watcher/routes/routes.json"),
        Path,
        'Routing table, JSON {"<classDiv>": "<serviceURL>"}: the key routes.json of the '
        "ConfigMap watcher-routes mounted as a directory. Polled, so kubelet's symlink swap works.",
    )
    host: str = _field("0.0.0.0", str, "Address to listen on.")
    port: int = _field(3000, _port, "TCP port (the original backend's, which collectors call).")
    reload_interval_s: float = _field(
        2.0, _positive_float, "How often the routing table file is checked for changes."
    )
    connect_timeout_s: float = _field(
        3.0, _positive_float, "Longest wait for a TCP connection to an instance (then 503)."
    )
    timeout_s: float = _field(
        15.0,
        _positive_float,
        "Longest time for a whole upstream exchange (then 503); collectors give up after 20 s.",
    )
    fallback_url: URL | None = _field(  # noqa: RUF009
        None,
        _optional_url,
        "Instance that serves classes missing from the table; empty: such requests get 404.",
    )
    retry_after_s: int = _field(
        5, _positive_int, "Retry-After seconds sent with a 503 when an instance is unreachable."
    )
    upstream_connections: int = _field(
        1024, _positive_int, "Most simultaneous connections to all instances together (pooled)."
    )
    upstream_connections_per_instance: int = _field(
        64,
        _positive_int,
        "Most simultaneous connections to one instance: a slow or hanging class waits for its own"
        " connections and never takes another class's.",
    )
    body_timeout_s: float = _field(
        10.0,
        _positive_float,
        "A request body not received within this many seconds gets 408; bodies are read whole"
        " before an instance connection is taken, so slow clients never hold one.",
    )
    header_timeout_s: float = _field(
        10.0,
        _positive_float,
        "A connection that has not sent a whole request head within this many seconds of opening"
        " (or of its previous response) is closed; also the keep-alive idle time.",
    )
    read_token: str = _field(
        "",
        str,
        "Bearer token for the gateway's own /api/docs page and the details of /readyz (which"
        " name the instances' internal URLs); use the instances' WATCHER_READ_TOKEN. Empty: open.",
        secret=True,
    )
    max_body_bytes: int = _field(
        1024 * 1024, _positive_int, "Largest request body forwarded; larger gets 413."
    )
    log_level: str = _field("INFO", _log_level, "debug, info, warning, error or critical.")
    log_format: str = _field("text", _choice("text", "json"), "text, or json for JSON lines.")
    shutdown_timeout_s: float = _field(
        30.0, _non_negative_float, "Grace period for in-flight requests on SIGTERM."
    )


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every gateway setting."""
    return GatewaySettings.describe()
