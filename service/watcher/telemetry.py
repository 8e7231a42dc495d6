"""Prometheus metrics of one app, on a registry of its own (several apps can share a process).

Requests are labelled by route template (`/api/{class_div}/...`), never by raw path: the original
labelled by path and grew one series per snapshot timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

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

from watcher.events import KIND_OF_TABLE

UNMATCHED = "<unmatched>"


def route_label(request: web.Request) -> str:
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else UNMATCHED


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer, by route template.",
            ("method", "route"),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight", "Requests being handled now.", registry=self.registry
        )
        self.ingested = Counter(
            "watcher_ingested_total",
            "Rows committed, by kind (snapshot, build, run).",
            ("kind",),
            registry=self.registry,
        )
        for kind in KIND_OF_TABLE.values():
            self.ingested.labels(kind)  # export zeros before the first write
        self.batch_size = Histogram(
            "watcher_writer_batch_size",
            "Rows per committed transaction (group commit).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "watcher_writer_queue_depth", "Writes waiting for the writer.", registry=self.registry
        )
        self.db_size = Gauge(
            "watcher_database_size_bytes",
            "Database file plus its write-ahead log.",
            registry=self.registry,
        )

    def track_storage(self, queue_depth: Callable[[], int], db_size: Callable[[], int]) -> None:
        """Gauges read at scrape time, so they cost nothing between scrapes."""
        self.queue_depth.set_function(queue_depth)
        self.db_size.set_function(db_size)

    def on_commit(self, rows_by_table: Mapping[str, int]) -> None:
        self.batch_size.observe(sum(rows_by_table.values()))
        for table, count in rows_by_table.items():
            self.ingested.labels(KIND_OF_TABLE[table]).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)
