"""The outermost middleware of the service and the gateway: a request id, one access line and the
request metrics for every request, whatever happens below."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from watcher import requestid
from watcher.http.metrics import RequestMetrics

REQUEST_ID = web.RequestKey("request_id", str)
HEADER = requestid.HEADER

# The app's own metrics: the service's Telemetry or the gateway's.
Metrics = TypeVar("Metrics", bound=RequestMetrics)


def observe_middleware(
    metrics_key: web.AppKey[Metrics],
    log: logging.Logger,
    label_name: str,
    label_of: Callable[[web.Request], str],
    extra_of: Callable[[web.Request], dict[str, object]] | None = None,
) -> Middleware:
    """The middleware of one app: its metrics under `metrics_key`, access lines on `log`, the
    metrics label (`label_name`: route or family) computed by `label_of` once the request is
    answered, and any app-specific fields for the access line from `extra_of`."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        metrics = request.app[metrics_key]
        started = time.perf_counter()
        request[REQUEST_ID] = request_id = requestid.request_id(request.headers)
        status = 500
        metrics.in_flight.inc()
        try:
            response = await handler(request)
            status = response.status
            if not response.prepared:  # a relayed or streamed response has set it itself
                response.headers[HEADER] = request_id
            return response
        except web.HTTPException as exc:  # redirects raised by the path normaliser
            status = exc.status
            exc.headers[HEADER] = request_id
            raise
        finally:
            metrics.in_flight.dec()
            label = label_of(request)
            metrics.observe(request.method, label, status, started)
            if log.isEnabledFor(logging.INFO):  # the line's fields are not built for nothing
                log.info(
                    "%s %s %d",
                    request.method,
                    request.path,
                    status,
                    extra={
                        "request_id": request_id,
                        "method": request.method,
                        label_name: label,
                        **(extra_of(request) if extra_of else {}),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )

    return observe
