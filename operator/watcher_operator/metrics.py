"""The operator's Prometheus metrics, served at /metrics on WATCHER_OPERATOR_METRICS_PORT.

Bounded cardinality: results, phases and status codes are small fixed sets; no instance names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric

PHASES = ("Pending", "Progressing", "Ready", "Paused", "Degraded")
RESULTS = ("applied", "refused", "failed")
# A pass is a handful of requests; seconds mean a slow API server.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


# (namespace, name) of an instance.
Key = tuple[str, str]


class _Phases:
    """watcher_operator_instances{phase}: what each reconciler last wrote, counted at scrape."""

    def __init__(self, phases: Mapping[Key, str]) -> None:
        self.phases = phases

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "watcher_operator_instances",
            "WatcherInstances this operator reconciles, by status.phase.",
            labels=["phase"],
        )
        counts = dict.fromkeys(PHASES, 0)
        for phase in list(self.phases.values()):
            counts[phase] = counts.get(phase, 0) + 1
        for phase, count in counts.items():
            gauge.add_metric([phase], count)
        yield gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "watcher_operator_reconciles",
            "Reconciliation passes by result: applied (the children match the spec), refused "
            "(invalid spec, name conflict, policy; nothing applied), failed (API error; retried).",
            ["result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "watcher_operator_reconcile_duration_seconds",
            "Duration of reconciliation passes (reads, writes and the status update).",
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.api_errors = Counter(
            "watcher_operator_api_errors",
            "API requests that failed a pass, by HTTP status code ('none': no answer at all).",
            ["code"],
            registry=self.registry,
        )
        for result in RESULTS:
            self.reconciles.labels(result=result)
        # (namespace, name) -> phase of every instance being reconciled.
        self.phases: dict[Key, str] = {}
        self.registry.register(_Phases(self.phases))
        self.served_on: int | None = None

    def record_pass(
        self, key: Key, result: str, seconds: float, *, phase: str, api_error: str | None
    ) -> None:
        """One reconciliation pass of instance ``key``: its result, duration, the phase it left
        the instance in ('' if none yet), and the status code of the API error that failed it."""
        self.reconciles.labels(result=result).inc()
        if api_error is not None:
            self.api_errors.labels(code=api_error).inc()
        self.duration.observe(seconds)
        if phase:
            self.phases[key] = phase

    def serve(self, port: int) -> None:
        """Start the /metrics server (a thread) once per process."""
        if self.served_on is None:
            start_http_server(port, addr="0.0.0.0", registry=self.registry)
            self.served_on = port
