"""The capture host's Prometheus metrics (spec 8.1 names first), on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS_MS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)


class CaptureMetrics:
    """Every counter the host exports; one instance (and registry) per host."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.ticks_received = Counter(
            "datacapture_ticks_received", "Total ticks received from the feed", registry=r
        )
        self.websocket_latency_ms = Histogram(
            "datacapture_websocket_latency_ms",
            "Feed callback to WebSocket send latency in milliseconds",
            buckets=LATENCY_BUCKETS_MS,
            registry=r,
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

    def message_sent(self, latency_ms: float) -> None:
        self.websocket_latency_ms.observe(latency_ms)

    def message_dropped(self) -> None:
        self.websocket_dropped.inc()

    def connection_changed(self, connected: bool) -> None:
        self.websocket_connected.set(1 if connected else 0)
