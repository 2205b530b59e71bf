"""The capture host's Prometheus metrics (spec 8.1 names first), on a registry of its own.

The two per-tick metrics are plain collectors: prometheus_client's Counter and Histogram take a
lock and walk the buckets on every call (~2 µs each), too much at 50k ticks/s. Latency is
exported in seconds (Prometheus convention; the spec's `_ms` name is documented as its alias in
docs/observability.md) while the publisher measures in milliseconds: the bounds are compared in
milliseconds and scaled only when scraped.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.process_metrics import register_process_metrics

LATENCY_BUCKETS_MS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)


class TallyCounter(Collector):
    """A counter incremented by one thread without a lock (`value += 1`), read at scrape."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, value=self.value)


class LatencyHistogram(Collector):
    """A histogram fed in batches: one lock and one bisect per value.

    Values and bounds are in the unit observed; `scale` converts both when scraped (0.001:
    milliseconds observed, seconds exported).
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        registry: CollectorRegistry,
        bounds: Sequence[float] = LATENCY_BUCKETS_MS,
        scale: float = 1.0,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = tuple(float(bound) for bound in bounds)
        self.scale = scale
        self._counts = [0] * (len(self.bounds) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: Sequence[float]) -> None:
        bounds, counts = self.bounds, self._counts
        with self._lock:
            for value in values:
                counts[bisect_left(bounds, value)] += 1
            self._sum += sum(values)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, buckets = 0, []
        labels = (*(repr(round(bound * self.scale, 9)) for bound in self.bounds), "+Inf")
        for bound, count in zip(labels, counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily(
            self.name, self.documentation, buckets=buckets, sum_value=total * self.scale
        )


class CaptureMetrics:
    """Every counter the host exports; one instance (and registry) per host."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.ticks_received = TallyCounter(
            "datacapture_ticks_received", "Total ticks received from the feed", r
        )
        self.websocket_latency = LatencyHistogram(
            "datacapture_websocket_latency_seconds",
            "Feed callback to WebSocket send latency in seconds (spec: *_latency_ms)",
            r,
            scale=0.001,
        )
        self.connection_status = Gauge(
            "datacapture_connection_status",
            "Feed connection health: 1 logged in with market data, else 0",
            registry=r,
        )
        self.records_rejected = Counter(
            "datacapture_records_rejected",
            "Records refused (malformed, out of order, duplicate, outside the band) by reason",
            ["reason"],
            registry=r,
        )
        self.book_updates = Counter(
            "datacapture_book_updates", "Book tops received from the feed", registry=r
        )
        self.trades_recorded = Counter(
            "datacapture_trades_recorded", "Trades durably recorded in the event store", registry=r
        )
        self.batches_recorded = Counter(
            "datacapture_batches_recorded", "Trade batches recorded in the event store", registry=r
        )
        self.websocket_dropped = Counter(
            "datacapture_websocket_dropped",
            "Messages dropped (oldest first) because the WebSocket buffer was full",
            registry=r,
        )
        self.websocket_connected = Gauge(
            "datacapture_websocket_connected", "1 while the WebSocket peer is connected", registry=r
        )
        self.websocket_buffered = Gauge(
            "datacapture_websocket_buffered", "Messages waiting in the WebSocket buffer", registry=r
        )
        self.store_pending = Gauge(
            "datacapture_store_pending_trades", "Admitted trades not yet recorded", registry=r
        )
        self.store_status = Gauge(
            "datacapture_store_status", "1 while event store writes succeed, else 0", registry=r
        )
        self.records_rejected.labels(reason="malformed")  # exported at 0 before any rejection
        register_process_metrics(r)

    # The publisher's observer protocol -----------------------------------------------------

    def messages_sent(self, latencies_ms: Sequence[float]) -> None:
        self.websocket_latency.observe_many(latencies_ms)

    def message_dropped(self) -> None:
        self.websocket_dropped.inc()

    def connection_changed(self, connected: bool) -> None:
        self.websocket_connected.set(1 if connected else 0)
