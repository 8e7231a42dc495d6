"""Optional bearer tokens: off by default, so unmodified collectors keep working.

`WATCHER_INGEST_TOKEN` guards every POST, `WATCHER_READ_TOKEN` every other request under /api/
(except the documentation), `WATCHER_METRICS_TOKEN` /metrics. Probes are always open: kubelet
sends no token. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from watcher.api.errors import json_error
from watcher.api.state import SETTINGS
from watcher.config import Settings

CHALLENGE = 'Bearer realm="jcode-watcher"'
_OPEN_PREFIXES = ("/api/docs",)


def required_token(settings: Settings, method: str, path: str) -> str | None:
    """The token a request must carry, or None when it needs none."""
    if path == "/metrics":
        return settings.metrics_token
    if not path.startswith("/api/") or path.startswith(_OPEN_PREFIXES):
        return None
    if method == "POST":
        return settings.ingest_token
    if method == "OPTIONS":
        return None  # CORS preflights carry no credentials by design
    return settings.read_token


def presented_token(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    expected = required_token(request.app[SETTINGS], request.method, request.path)
    if expected:
        presented = presented_token(request)
        if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
            detail = "missing or wrong bearer token" if presented else "bearer token required"
            return json_error(401, detail, {"WWW-Authenticate": CHALLENGE})
    return await handler(request)
