"""Prometheus metrics common to the service and the gateway: a registry of the app's own (several
apps can share a process) with the process and runtime collectors, the request metrics every app
keeps, and the text exposition."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

# The classic text format, as the original served it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "<unmatched>"
# Any token is a valid HTTP method; labels keep only the real ones.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})


def route_template(request: web.Request) -> str:
    """The route a request matched, as its template (`/api/{class_div}/...`): metrics label by it,
    never by raw path, which would grow one series per snapshot timestamp."""
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else UNMATCHED


def method_label(method: str) -> str:
    return method if method in _METHODS else "OTHER"


class RequestMetrics:
    """A registry with the process collectors and the three request metrics (named by the app:
    the service keeps the original's names, the gateway its own)."""

    def __init__(self, prefix: str, label: str, by_method_latency: bool) -> None:
        self.registry = registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=registry)
        platform_collector.PlatformCollector(registry=registry)
        gc_collector.GCCollector(registry=registry)
        self._by_method_latency = by_method_latency
        self.requests = Counter(
            f"{prefix}requests_total",
            f"Requests answered, by method, {label} and status.",
            ("method", label, "status"),
            registry=registry,
        )
        self.latency = Histogram(
            f"{prefix}request_duration_seconds",
            f"Time to answer, by {label}.",
            ("method", label) if by_method_latency else (label,),
            registry=registry,
        )
        self.in_flight = Gauge(
            f"{prefix}requests_in_flight", "Requests being handled now.", registry=registry
        )

    def observe(self, method: str, label: str, status: int, started: float) -> None:
        method = method_label(method)
        self.requests.labels(method, label, str(status)).inc()
        latency = (
            self.latency.labels(method, label)
            if self._by_method_latency
            else (self.latency.labels(label))
        )
        latency.observe(time.perf_counter() - started)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_response(metrics: RequestMetrics) -> web.Response:
    response = web.Response(body=metrics.exposition())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
