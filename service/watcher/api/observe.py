"""The outermost middleware: request id, one log line and the metrics of every request."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from watcher import requestid
from watcher.api.state import TELEMETRY
from watcher.telemetry import route_label

log = logging.getLogger("watcher.access")
REQUEST_ID = requestid.HEADER


@web.middleware
async def observe_middleware(request: web.Request, handler) -> web.StreamResponse:
    telemetry = request.app[TELEMETRY]
    started = time.perf_counter()
    request_id = requestid.request_id(request.headers)
    status = 500
    telemetry.in_flight.inc()
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID] = request_id
        return response
    except web.HTTPException as exc:  # redirects raised by the path normaliser
        status = exc.status
        exc.headers[REQUEST_ID] = request_id
        raise
    finally:
        telemetry.in_flight.dec()
        route = route_label(request)
        telemetry.observe(request.method, route, status, started)
        log.info(
            "%s %s %d",
            request.method,
            request.path,
            status,
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": route,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
        )
