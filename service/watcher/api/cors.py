"""CORS for configured origins only. The original allowed `*` *with* credentials; we never do."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from watcher.api.state import SETTINGS
from watcher.http.responses import json_error

ALLOWED_METHODS = "GET, POST"
MAX_AGE = "600"


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    allowed = request.app[SETTINGS].cors_origins
    if not origin or not allowed:
        return await handler(request)
    wildcard = "*" in allowed
    permitted = wildcard or origin in allowed
    is_preflight = (
        request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    )
    if is_preflight:
        if not permitted or request.headers["Access-Control-Request-Method"] not in ("GET", "POST"):
            return json_error(400, "CORS request not allowed")
        response: web.StreamResponse = web.Response(text="OK")
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        requested = request.headers.get("Access-Control-Request-Headers")
        if requested:
            response.headers["Access-Control-Allow-Headers"] = requested
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    else:
        response = await handler(request)
    if permitted:
        # With a wildcard we answer `*` and no credentials; a listed origin is echoed.
        response.headers["Access-Control-Allow-Origin"] = "*" if wildcard else origin
        if not wildcard:
            response.headers["Vary"] = "Origin"
    return response
