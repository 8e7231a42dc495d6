"""The gateway's application factory: its own routes, the proxy, the table watcher, the pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from watcher import requestid
from watcher.gateway import endpoints, ui
from watcher.gateway.config import GatewaySettings
from watcher.gateway.proxy import REQUEST_ID_HEADER, UNMATCHED, proxy
from watcher.gateway.state import (
    CLASS_DIV,
    FAMILY,
    REQUEST_ID,
    SESSION,
    SETTINGS,
    TABLE,
    TELEMETRY,
)
from watcher.gateway.table import RoutingTable
from watcher.gateway.telemetry import GatewayTelemetry

access_log = logging.getLogger("watcher.gateway.access")


def create_gateway_app(settings: GatewaySettings) -> web.Application:
    app = web.Application(middlewares=[observe_middleware])
    telemetry = GatewayTelemetry()
    app[SETTINGS] = settings
    app[TELEMETRY] = telemetry
    app[TABLE] = RoutingTable(settings.routes_file, telemetry.on_reload)
    add = app.router.add_route
    add("GET", "/healthz", endpoints.healthz)
    add("GET", "/readyz", endpoints.readyz)
    add("GET", "/metrics", endpoints.metrics)
    add("GET", endpoints.DOCS_URL, endpoints.docs_index)
    add("GET", "/docs", endpoints.docs_redirect)
    ui.add_routes(app.router)  # /ui/ and its assets; /ui/classes/{class_div}/... is proxied
    add("*", "/{path:.*}", proxy)  # everything else is a class's
    app.cleanup_ctx.append(_upstream_session)
    app.cleanup_ctx.append(_table_watcher)
    return app


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    """One pooled client session for every instance; closed after in-flight requests finish."""
    settings = app[SETTINGS]
    connector = aiohttp.TCPConnector(limit=settings.upstream_connections, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(
        total=settings.timeout_s, sock_connect=settings.connect_timeout_s
    )
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,  # bodies pass through as the instance encoded them
        cookie_jar=aiohttp.DummyCookieJar(),  # never carry one client's cookies to another
        trust_env=False,
    ) as session:
        app[SESSION] = session
        yield


async def _table_watcher(app: web.Application) -> AsyncIterator[None]:
    table = app[TABLE]
    table.poll()  # before the first request: ready at once when the file is there
    watcher = asyncio.create_task(table.watch(app[SETTINGS].reload_interval_s))
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher


@web.middleware
async def observe_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Metrics and one log line per request, with the same X-Request-ID the instance logs."""
    telemetry = request.app[TELEMETRY]
    started = time.perf_counter()
    request[REQUEST_ID] = request_id = requestid.request_id(request.headers)
    status = 500
    telemetry.in_flight.inc()
    try:
        response = await handler(request)
        status = response.status
        if not response.prepared:  # the proxy has set it on relayed responses
            response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        telemetry.in_flight.dec()
        family = request.get(FAMILY) or _own_route(request)
        telemetry.observe(request.method, family, status, started)
        access_log.info(
            "%s %s %d",
            request.method,
            request.path,
            status,
            extra={
                "request_id": request_id,
                "method": request.method,
                "family": family,
                "class_div": request.get(CLASS_DIV),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
        )


def _own_route(request: web.Request) -> str:
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else UNMATCHED
