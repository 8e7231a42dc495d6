"""The gateway's application factory: its own routes, the proxy, the table watcher, the pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from watcher.gateway import endpoints
from watcher.gateway.config import GatewaySettings
from watcher.gateway.proxy import proxy
from watcher.gateway.state import CLASS_DIV, FAMILY, SESSION, SETTINGS, TABLE, TELEMETRY
from watcher.gateway.table import RoutingTable
from watcher.gateway.telemetry import GatewayTelemetry
from watcher.http.metrics import route_template
from watcher.http.observe import observe_middleware as observe_middleware_for

access_log = logging.getLogger("watcher.gateway.access")


# How long an idle pooled connection to an instance is kept. It must stay below the instances'
# WATCHER_HEADER_TIMEOUT_S (10 s): otherwise the gateway could reuse a connection the instance is
# closing at that moment, and the request on it would fail.
UPSTREAM_IDLE_S = 4.0


def create_gateway_app(settings: GatewaySettings) -> web.Application:
    app = web.Application(middlewares=[observe_middleware], client_max_size=settings.max_body_bytes)
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
    add("*", "/{path:.*}", proxy)  # everything else is a class's
    app.cleanup_ctx.append(_upstream_session)
    app.cleanup_ctx.append(_table_watcher)
    return app


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    """One pooled client session for every instance, with a connection limit per instance (so a
    hanging class queues only its own requests); closed after in-flight requests finish."""
    settings = app[SETTINGS]
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_connections,
        limit_per_host=settings.upstream_connections_per_instance,
        keepalive_timeout=UPSTREAM_IDLE_S,
    )
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


def _family(request: web.Request) -> str:
    """The metrics label: the legacy route family the proxy chose, or the gateway's own route."""
    return request.get(FAMILY) or route_template(request)


observe_middleware = observe_middleware_for(
    TELEMETRY, access_log, "family", _family, lambda request: {"class_div": request.get(CLASS_DIV)}
)
