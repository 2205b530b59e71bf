"""The capture service: feed callbacks in; trades recorded in the store and ticks published out."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.websocket.encoding import book_json, tick_json
from adapters.websocket.publisher import WebSocketPublisher
from hosts.capture.guard import Rejection
from hosts.capture.health import ConnectionMonitor, FeedHealth
from hosts.capture.metrics import CaptureMetrics
from hosts.capture.recorder import TapeRecorder
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol
from tradingcore.ports.market_data import ConnectionState, MarketDataFeed

MALFORMED = "malformed"
STORE_UNAVAILABLE = "store_unavailable"


@dataclass(frozen=True, slots=True)
class Supervision:
    """Restart a live feed that stayed disconnected for `after` s, then every `every` s."""

    after: float = 30.0
    every: float = 5.0


class CaptureService:
    """A `FeedListener`: admit, record and publish each trade; publish book tops; track health."""

    def __init__(
        self,
        feed: MarketDataFeed,
        recorder: TapeRecorder,
        publisher: WebSocketPublisher,
        metrics: CaptureMetrics,
        *,
        symbols: Sequence[Symbol] = (),
        supervision: Supervision | None = None,
        logger: logging.Logger | None = None,
        publish_books: bool = True,
        record_books: bool = True,
    ) -> None:
        self.feed = feed
        self.publish_books = publish_books
        self.record_books = record_books
        self.recorder = recorder
        self.publisher = publisher
        self.metrics = metrics
        self.symbols = list(symbols)
        self.supervision = supervision
        self.logger = logger or logging.getLogger("tradingcore.datacapture")
        self.monitor = ConnectionMonitor(self.logger)
        self.rejected = 0
        self._rejections: collections.Counter[str] = collections.Counter()
        self._count_lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._last_trade_at: float | None = None
        """time.monotonic() of the last admitted trade (refused ones are no sign of a live feed)."""
        recorder.on_recorded = self._recorded
        recorder.on_rejected = self._reject

    # FeedListener: called from the feed's thread ---------------------------------------------

    def on_trade(self, trade: Trade) -> None:
        received_ns = time.perf_counter_ns()
        self.metrics.ticks_received.value += 1  # only the feed's thread calls on_trade
        try:
            rejection = self.recorder.add(trade)
        except Exception as error:  # the store could not open the session's tape
            rejection = Rejection(
                STORE_UNAVAILABLE,
                f"trade {trade.trade_id} ({trade.symbol.ticker}) not admitted: cannot load its "
                f"session tape ({type(error).__name__}: {error})",
            )
        if rejection is not None:
            self._reject(rejection, trade)
            return
        self._last_trade_at = time.monotonic()
        self.publisher.publish(tick_json(trade), received_ns)

    def on_book(self, book: BookTop) -> None:
        self.metrics.book_updates.inc()
        if self.record_books:
            rejection = self.recorder.add_book(book)
            if rejection is not None:
                self._reject(rejection, book)
                return
        if self.publish_books:
            self.publisher.publish(book_json(book))

    def on_state(self, state: ConnectionState) -> None:
        health = self.monitor.update(state)
        self.metrics.connection_status.set(1 if health.healthy else 0)

    def on_invalid(self, reason: str, record: object) -> None:
        self._reject(Rejection(MALFORMED, reason), record)

    # Lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start writing, publishing and the feed, then subscribe the symbols."""
        self.recorder.start()
        self.publisher.start()
        self._start_feed()
        if self.supervision is not None:
            self._supervisor = threading.Thread(
                target=self._supervise, name="feed-supervisor", daemon=True
            )
            self._supervisor.start()

    def close(self, drain_timeout: float = 10.0) -> bool:
        """Stop the feed, record what is pending, give the peer `drain_timeout` s to take the
        buffer; return True when every admitted trade is recorded."""
        self._stopping.set()
        self.feed.stop()
        recorded = self.recorder.close()
        drained = self.publisher.flush(drain_timeout)
        self.publisher.stop()
        status = self.publisher.status()
        self.logger.info(
            "capture stopped",
            extra={
                "context": {
                    "all_recorded": recorded,
                    "websocket_drained": drained,
                    "websocket_unsent": status.buffered,
                    **self.counts(),
                }
            },
        )
        return recorded

    def counts(self) -> dict[str, int]:
        recorder = self.recorder.status()
        publisher = self.publisher.status()
        return {
            "ticks_received": self.metrics.ticks_received.value,
            "trades_recorded": recorder.recorded_trades,
            "batches_recorded": recorder.recorded_batches,
            "book_tops_recorded": recorder.recorded_books,
            "rejected": self.rejected,
            "published": publisher.sent,
            "dropped": publisher.dropped,
        }

    def rejections(self) -> collections.Counter[str]:
        """Records refused so far, by reason code."""
        with self._count_lock:
            return collections.Counter(self._rejections)

    def last_tick_age(self) -> float | None:
        """Seconds since the last admitted trade (None before the first)."""
        last = self._last_trade_at
        return None if last is None else round(time.monotonic() - last, 3)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Return (healthy, report): healthy while the feed is connected and the store writes."""
        feed = self.monitor.health()
        recorder = self.recorder.status()
        publisher = self.publisher.status()
        self.metrics.websocket_buffered.set(publisher.buffered)
        self.metrics.store_pending.set(recorder.pending_trades)
        self.metrics.store_status.set(1 if recorder.store_ok else 0)
        healthy = feed.healthy and recorder.store_ok
        report = {
            "status": "ok" if healthy else "unhealthy",
            "feed": {
                **_feed_report(feed),
                "refused": _refusal(self.feed),
                "last_tick_age_seconds": self.last_tick_age(),
            },
            "store": {
                "ok": recorder.store_ok,
                "recorded_trades": recorder.recorded_trades,
                "pending_trades": recorder.pending_trades,
                "last_error": recorder.last_error,
            },
            "websocket": {
                "url": publisher.url,
                "connected": publisher.connected,
                "buffered": publisher.buffered,
                "sent": publisher.sent,
                "dropped": publisher.dropped,
                "last_error": publisher.last_error,
            },
            "rejected": self.rejected,
        }
        return healthy, report

    # Internals ---------------------------------------------------------------------------------

    def _start_feed(self) -> None:
        """Start the feed; a failure leaves the host up, unhealthy, with the reason in health."""
        try:
            self.feed.start(self)
            for symbol in self.symbols:
                self.feed.subscribe(symbol)
        except Exception as error:
            detail = f"feed failed to start: {type(error).__name__}: {error}"
            self.logger.error(detail, extra={"context": {"error": str(error)}})
            self.on_state(ConnectionState(False, False, False, detail))

    def _restart_feed(self) -> None:
        restart = getattr(self.feed, "restart", None)
        if callable(restart):  # ProfitDLL: finalize and initialize again, subscriptions resume
            try:
                restart()
            except Exception as error:
                detail = f"feed restart failed: {type(error).__name__}: {error}"
                self.logger.error(detail, extra={"context": {"error": str(error)}})
                self.on_state(ConnectionState(False, False, False, detail))
            return
        self.feed.stop()
        self._start_feed()

    def _supervise(self) -> None:
        assert self.supervision is not None
        last_restart = 0.0
        while not self._stopping.wait(min(1.0, self.supervision.every)):
            feed = self.monitor.health()
            now = time.monotonic()
            down_for = now - feed.since
            if feed.healthy or down_for < self.supervision.after:
                continue
            if now - last_restart < self.supervision.every:
                continue
            last_restart = now
            if getattr(self.feed, "failure", None):
                # Bad credentials or licence: retrying cannot help and may lock the account.
                continue
            self.logger.warning(
                "feed down; restarting it",
                extra={"context": {"down_for_s": round(down_for, 1), "phase": feed.phase.value}},
            )
            self._restart_feed()

    def _recorded(self, count: int) -> None:
        self.metrics.trades_recorded.inc(count)
        self.metrics.batches_recorded.inc()

    def _reject(self, rejection: Rejection, record: object = None) -> None:
        with self._count_lock:  # the feed's thread and the writer's both reject
            self.rejected += 1
            self._rejections[rejection.code] += 1
        self.metrics.records_rejected.labels(rejection.code).inc()
        self.logger.warning(
            "record rejected: %s",
            rejection.message,
            extra={
                "context": {
                    "reason": rejection.code,
                    "detail": rejection.message,
                    "record": _describe(record),
                }
            },
        )


def _feed_report(feed: FeedHealth) -> dict[str, Any]:
    state = feed.state
    return {
        "phase": feed.phase.value,
        "login": state.login if state else False,
        "market_data": state.market_data if state else False,
        "routing": state.routing if state else False,
        "detail": state.detail if state else "",
        "disconnects": feed.disconnects,
    }


def _refusal(feed: MarketDataFeed) -> str | None:
    """Why the venue refused the session (ProfitDLL: credentials, licence), if it says."""
    failure = getattr(feed, "failure", None)
    return str(failure) if failure else None


def _describe(record: object) -> object:
    if isinstance(record, Trade):
        return {
            "symbol": record.symbol.ticker,
            "trade_id": record.trade_id,
            "timestamp": record.timestamp_ms,
            "price": str(record.price),
            "volume": record.volume,
            "aggressor": record.aggressor.value,
        }
    return record if isinstance(record, dict | str | int | float | type(None)) else repr(record)
