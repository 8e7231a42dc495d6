"""Optional bearer tokens: off by default, so unmodified collectors keep working.

`WATCHER_INGEST_TOKEN` guards every POST, `WATCHER_READ_TOKEN` every other request under /api/
(except the documentation), `WATCHER_METRICS_TOKEN` /metrics. Probes are always open: kubelet
sends no token. Tokens are compared in constant time and never logged.

The documentation is recognised by the route a request matched, never by how its path begins:
`/api/docs-1/hw1/7` is class `docs-1`'s file list and needs the read token like any other class.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from watcher.api.state import SETTINGS
from watcher.config import Settings
from watcher.docs import is_docs_route
from watcher.http.responses import json_error
from watcher.tokens import CHALLENGE, token_problem


def required_token(settings: Settings, request: web.Request) -> str | None:
    """The token a request must carry, or None when it needs none."""
    path, method = request.path, request.method
    if path == "/metrics":
        return settings.metrics_token
    if not path.startswith("/api/") or is_docs_route(request.match_info):
        return None
    if method == "POST":
        return settings.ingest_token
    if method == "OPTIONS":
        return None  # CORS preflights carry no credentials by design
    return settings.read_token


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = required_token(request.app[SETTINGS], request)
    problem = token_problem(request.headers, expected) if expected else None
    if problem:
        return json_error(401, problem, {"WWW-Authenticate": CHALLENGE})
    return await handler(request)
