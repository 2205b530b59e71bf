"""The analytics host's Prometheus metrics (spec 8.1 names; latency in seconds), in a registry of
its own with the process metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.process_metrics import register_process_metrics
from adapters.signals_http import ForwarderStatus

LATENCY_BUCKETS_SECONDS: Final = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
)  # fmt: skip


class AnalyticsMetrics:
    """Signals by direction, model accuracy, processing latency, rejects and forwarding."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.signals = Counter(
            "analytics_signals_generated_total",
            "Signals generated (stored), by direction",
            ["direction"],
            registry=self.registry,
        )
        self.accuracy = Gauge(
            "analytics_model_accuracy",
            "Model hit rate: share of correct predictions over the recent batches",
            ["symbol"],
            registry=self.registry,
        )
        self.hit_rate = Gauge(
            "analytics_signal_hit_rate",
            "Share of BUY/SELL signals whose tick's label matched their direction",
            ["symbol"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "analytics_processing_latency_seconds",
            "Tick received to features, decision and any signal stored, in seconds "
            "(spec: analytics_processing_latency_ms)",
            buckets=LATENCY_BUCKETS_SECONDS,
            registry=self.registry,
        )
        self.ticks = Counter(
            "analytics_ticks_processed_total", "Ticks processed", registry=self.registry
        )
        self.rejected = Counter(
            "analytics_messages_rejected_total",
            "Messages rejected, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.store_errors = Counter(
            "analytics_store_errors_total",
            "Failed writes to the event store, by what was written",
            ["what"],
            registry=self.registry,
        )
        self.updates = Counter(
            "analytics_model_updates_total", "Model batch updates", registry=self.registry
        )
        # Health for the dashboard and alerts (the host has /metrics only, no /health).
        self.last_tick_time = 0.0
        """Set by the engine on every tick: a plain float, read at scrape."""
        Gauge(
            "analytics_last_tick_timestamp_seconds",
            "Wall-clock time (Unix seconds) the last tick was processed; 0 before the first",
            registry=self.registry,
        ).set_function(lambda: self.last_tick_time)
        self.connections = Gauge(
            "analytics_capture_connections",
            "Open WebSocket connections from a capture host",
            registry=self.registry,
        )
        self.store_ok = True
        """False after a failed store write, True again after the next stored signal."""
        Gauge(
            "analytics_store_status",
            "1 while the store takes the host's writes, 0 after a failed write until the next",
            registry=self.registry,
        ).set_function(lambda: 1.0 if self.store_ok else 0.0)
        # Exported at 0 before the first occurrence, so a dashboard or alert sees a series.
        for direction in ("BUY", "SELL", "HOLD"):
            self.signals.labels(direction=direction)
        self.rejected.labels(reason="invalid_json")
        self.store_errors.labels(what="signal")
        register_process_metrics(self.registry)

    def watch_forwarder(self, status: Callable[[], ForwarderStatus]) -> None:
        """Export the signal forwarder's queue and counts."""
        self.registry.register(_ForwarderCollector(status))


class _ForwarderCollector(Collector):
    def __init__(self, status: Callable[[], ForwarderStatus]) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        status = self._status()
        yield GaugeMetricFamily(
            "analytics_signals_forward_queue", "Signals waiting for the API", value=status.queued
        )
        for name, value, text in (
            ("delivered", status.delivered, "Signals the API accepted"),
            ("dropped", status.dropped, "Signals dropped because the queue was full"),
            ("refused", status.refused, "Signals the API refused (4xx)"),
            ("failures", status.failures, "Failed attempts to reach the API (retried)"),
        ):
            yield CounterMetricFamily(f"analytics_signals_forward_{name}", text, value=value)
