"""The capture host's Prometheus metrics (spec 8.1 names first), on a registry of its own.

The two per-tick metrics are plain collectors: prometheus_client's Counter and Histogram take a
lock and walk the buckets on every call (~2 µs each), too much at 50k ticks/s.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

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
    """A histogram fed in batches: one lock and one bisect per value."""

    def __init__(
        self,
        name: str,
        documentation: str,
        registry: CollectorRegistry,
        bounds: Sequence[float] = LATENCY_BUCKETS_MS,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = tuple(float(bound) for bound in bounds)
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
        for bound, count in zip((*map(str, self.bounds), "+Inf"), counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)


class CaptureMetrics:
    """Every counter the host exports; one instance (and registry) per host."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.ticks_received = TallyCounter(
            "datacapture_ticks_received", "Total ticks received from the feed", r
        )
        self.websocket_latency_ms = LatencyHistogram(
            "datacapture_websocket_latency_ms",
            "Feed callback to WebSocket send latency in milliseconds",
            r,
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

    # The publisher's observer protocol -----------------------------------------------------

    def messages_sent(self, latencies_ms: Sequence[float]) -> None:
        self.websocket_latency_ms.observe_many(latencies_ms)

    def message_dropped(self) -> None:
        self.websocket_dropped.inc()

    def connection_changed(self, connected: bool) -> None:
        self.websocket_connected.set(1 if connected else 0)
