"""Prometheus metrics of one app, on a registry of its own (several apps can share a process).

Requests are labelled by route template (`/api/{class_div}/...`), never by raw path: the original
labelled by path and grew one series per snapshot timestamp.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import Counter, Gauge, Histogram

from watcher.events import KIND_OF_TABLE
from watcher.http.metrics import RequestMetrics


class Telemetry(RequestMetrics):
    """The request metrics (http_requests_total{method,route,status}, ...) and the store's."""

    def __init__(self) -> None:
        super().__init__("http_", "route", by_method_latency=True)
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
