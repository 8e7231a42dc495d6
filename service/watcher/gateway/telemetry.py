"""The gateway's Prometheus metrics, on a registry of its own.

Every label has a bounded set of values: requests are labelled by legacy route template ("family"),
upstream metrics by the classes in the routing table, and class names taken from requests that no
instance serves are kept only if they look like a class (`os-1`) and only up to a fixed number of
distinct values.
"""

from __future__ import annotations

import re
import time

from prometheus_client import Counter, Gauge, Histogram

from watcher.http.metrics import RequestMetrics

INVALID_CLASS = "<invalid>"
OTHER_CLASS = "<other>"
FALLBACK = "<fallback>"
MAX_UNROUTABLE_LABELS = 200
_CLASS_SHAPE = re.compile(r"[A-Za-z0-9]+-[A-Za-z0-9]+")


class GatewayTelemetry(RequestMetrics):
    """The request metrics by legacy route family (or the gateway's own route; the status is
    the instance's for forwarded requests), and the gateway's own."""

    def __init__(self) -> None:
        super().__init__("watcher_gateway_", "family", by_method_latency=False)
        registry = self.registry
        self.upstream_latency = Histogram(
            "watcher_gateway_upstream_latency_seconds",
            "Time from sending a request to an instance until its response headers arrive.",
            ("class_div",),
            registry=registry,
        )
        self.upstream_errors = Counter(
            "watcher_gateway_upstream_errors_total",
            "Exchanges with an instance that failed: connect (refused or unresolvable), timeout, "
            "disconnected (closed before answering), protocol (invalid HTTP), aborted (failed "
            "while relaying the response body).",
            ("class_div", "reason"),
            registry=registry,
        )
        self.unroutable = Counter(
            "watcher_gateway_unroutable_total",
            "Requests for a class no WatcherInstance serves (answered 404): traffic being lost.",
            ("class_div",),
            registry=registry,
        )
        self.fallback = Counter(
            "watcher_gateway_fallback_total",
            "Requests for a class missing from the table, sent to the fallback instance.",
            ("class_div",),
            registry=registry,
        )
        self.table_size = Gauge(
            "watcher_gateway_routes", "Classes in the routing table in force.", registry=registry
        )
        self.table_loaded = Gauge(
            "watcher_gateway_routes_loaded",
            "1 once a valid routing table has been loaded.",
            registry=registry,
        )
        self.reloads = Counter(
            "watcher_gateway_route_reloads_total",
            "Routing table reload attempts by result (failure: the last good table stays).",
            ("result",),
            registry=registry,
        )
        for result in ("success", "failure"):
            self.reloads.labels(result)
        self.last_reload = Gauge(
            "watcher_gateway_route_last_reload_timestamp_seconds",
            "When the table in force was loaded (Unix time).",
            registry=registry,
        )
        self._unroutable_labels: set[str] = set()

    def on_reload(self, ok: bool, size: int) -> None:
        self.reloads.labels("success" if ok else "failure").inc()
        if ok:
            self.table_size.set(size)
            self.table_loaded.set(1)
            self.last_reload.set(time.time())

    def class_label(self, class_div: str) -> str:
        """A label for a class named by a client (not from the table): bounded in count."""
        if not _CLASS_SHAPE.fullmatch(class_div) or len(class_div) > 64:
            return INVALID_CLASS
        labels = self._unroutable_labels
        if class_div not in labels:
            if len(labels) >= MAX_UNROUTABLE_LABELS:
                return OTHER_CLASS
            labels.add(class_div)
        return class_div
