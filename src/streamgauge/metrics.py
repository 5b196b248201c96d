"""The service's own metrics, exported at ``/metrics`` in Prometheus format."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per server, so tests can start several in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "streamgauge_events_accepted", "Events accepted into the log", ["source"], registry=r
        )
        self.rejected = Counter(
            "streamgauge_events_rejected",
            "Events rejected (kept in the dead-letter store)",
            ["source"],
            registry=r,
        )
        self.duplicates = Counter(
            "streamgauge_events_duplicate", "Events dropped as duplicates", ["source"], registry=r
        )
        self.refused = Counter(
            "streamgauge_requests_refused",
            "Ingest requests refused by back-pressure or rate limits",
            ["reason"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "streamgauge_http_request_duration_seconds",
            "HTTP request latency",
            ["app", "route"],
            registry=r,
            buckets=(
                0.0005,
                0.001,
                0.0025,
                0.005,
                0.01,
                0.025,
                0.05,
                0.1,
                0.25,
                0.5,
                1,
                2.5,
                5,
                10,
            ),
        )
        self.moved_to_archive = Counter(
            "streamgauge_events_moved_to_archive",
            "Events hot retention dropped from the hot store (the archive holds them)",
            registry=r,
        )
        self.log_entries = Gauge("streamgauge_log_entries", "Entries held by the log", registry=r)
        self.log_bytes = Gauge("streamgauge_log_bytes", "Bytes the log uses on disk", registry=r)
        self.log_head = Gauge(
            "streamgauge_log_head_offset", "Newest durable log offset", registry=r
        )
        self.sink_lag_events = Gauge(
            "streamgauge_sink_lag_events", "Events the sink has not committed", ["sink"], registry=r
        )
        self.sink_lag_seconds = Gauge(
            "streamgauge_sink_lag_seconds",
            "Age of the oldest event the sink has not committed",
            ["sink"],
            registry=r,
        )
        self.sink_failures = Gauge(
            "streamgauge_sink_failures", "Failed sink writes since start", ["sink"], registry=r
        )

    def watch_sink(
        self, name: str, lag_events: Callable[[], float], lag_seconds: Callable[[], float],
        failures: Callable[[], float],
    ) -> None:  # fmt: skip
        self.sink_lag_events.labels(name).set_function(lag_events)
        self.sink_lag_seconds.labels(name).set_function(lag_seconds)
        self.sink_failures.labels(name).set_function(failures)
