"""Follow the store's notification log: trades go to the feed cursor, signals to the desk.

SQLite cannot push, so this polls. Trades stored before the host started only set last prices
(and the feed clock); the paper broker fills on trades stored after it started. The cursor may
hold live trades for a signal at an earlier tick; each poll applies those held `hold` seconds.
It holds at most `max_held` of them: when this host applies trades slower than they are
stored, the follower stops reading at that many and goes on from there once they are applied
(the store is the buffer; nothing is skipped). Without the bound a host behind its feed held
every trade it was behind by (~300 bytes each: +230 MB in a 5-minute soak at 5k trades/s on a
loaded machine).

A stored trade stamped implausibly far ahead of the wall clock (an older version's capture, an
imported file) is skipped and logged (`timestamp_implausible`): applied, it would move the feed
clock there for good and leave every later trade stale, every order denied.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from hosts.api.metrics import HELD_BY_HOLD, HELD_BY_MARK
from tradingcore.application.feed_cursor import FeedCursor
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import SignalDesk
from tradingcore.domain.book_tape import BookTopsRecorded
from tradingcore.domain.order import OrderFilled, OrderSubmitted
from tradingcore.domain.signal import SignalGenerated
from tradingcore.domain.tape import TradesRecorded
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE, implausible_time

TOPICS: Final = (
    get_topic(TradesRecorded),
    get_topic(SignalGenerated),
    get_topic(BookTopsRecorded),
)
ORDER_TOPICS: Final = tuple(get_topic(cls) for cls in (OrderSubmitted, OrderFilled))
WARM_UP_NOTIFICATIONS: Final = 5_000
DEFAULT_MAX_HELD: Final = 200_000
"""Held trades at which the follower stops reading (2.5x a 10 s hold at 8k trades/s)."""
"""How far back the follower reads at start to learn last prices and recent signals."""


class StoreFollower:
    """A background thread that applies new TradesRecorded and SignalGenerated events."""

    def __init__(
        self,
        orders: OrderManager,
        signals: SignalDesk,
        cursor: FeedCursor,
        logger: logging.Logger,
        *,
        interval: float = 0.05,
        hold: float = 0.5,
        page: int = 200,
        max_held: int = DEFAULT_MAX_HELD,
        on_error: Callable[[], None] = lambda: None,
    ) -> None:
        if max_held < 1:
            raise ValueError(f"held trades bound {max_held} must be >= 1")
        self.orders = orders
        self.signals = signals
        self.cursor = cursor
        self.hold = hold
        self.logger = logger
        self.interval = interval
        self.page = page
        self.max_held = max_held
        self.paused = 0
        """Polls that stopped reading at `max_held` held trades."""
        self.on_error = on_error
        self.position = 0
        self.skipped_trades = 0
        """Stored trades not applied: stamped implausibly far ahead of the wall clock."""
        self.started_at = 0
        self.trade_seen_at: float | None = None
        """Wall-clock time (time.time()) the last stored trades were taken in."""
        self.traded_until_ms: int | None = None
        """Feed time with auto-execution: the last order event's time before this start. A
        stored trade after it is one no process has traded on yet (e.g. the capture host ran
        ahead of this host's start, and the analytics host's queued signals wait for us): it
        is taken as live, so those signals are decided at their ticks, as a backtest would."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        recorder = self.orders.app.recorder
        self.started_at = recorder.max_notification_id() or 0
        self.position = max(0, self.started_at - WARM_UP_NOTIFICATIONS)
        self.traded_until_ms = self._last_order_time() if self.cursor.hold else None
        self.poll()
        self._thread = threading.Thread(target=self._run, name="store-follower", daemon=True)
        self._thread.start()

    def _last_order_time(self) -> int:
        """Return the time (epoch ms) of the last order event in the warm-up window, or -1."""
        app = self.orders.app
        last = -1
        position = self.position
        while page := app.recorder.select_notifications(
            start=position + 1, limit=self.page, stop=self.started_at, topics=ORDER_TOPICS
        ):
            event = app.mapper.to_domain_event(page[-1])
            if isinstance(event, OrderSubmitted | OrderFilled):
                last = max(last, int(event.timestamp.timestamp() * 1000))
            position = page[-1].id
            if len(page) < self.page:
                break
        return last

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:
                self.on_error()
                self.logger.exception("Store follower poll failed")

    def poll(self) -> int:
        """Apply every new notification; return how many were applied.

        The position moves on to the store's last notification even when none of them was a
        trade or a signal, so a poll never rescans the orders stored since the last trade.
        """
        applied = 0
        if self.cursor.hold:
            released = self.cursor.release(seen_before=time.monotonic() - self.hold)
            HELD_BY_HOLD.inc(released)
        recorder = self.orders.app.recorder
        latest = recorder.max_notification_id() or 0
        while True:
            batch = recorder.select_notifications(
                start=self.position + 1,
                limit=self.page,
                stop=latest,
                topics=TOPICS if self.cursor.book_listeners else TOPICS[:2],  # tops: if heard
            )
            for notification in batch:
                if self.cursor.hold and self.cursor.pending() >= self.max_held:
                    self._pause()
                    return applied  # the position stays: the next poll reads from here
                self._apply(notification)
                self.position = notification.id
                applied += 1
            if len(batch) < self.page:
                self.position = max(self.position, latest)
                return applied

    def _pause(self) -> None:
        if not self.paused:
            self.logger.warning(
                "Store follower holds its most trades; reading paused until they are applied",
                extra={"context": {"max_held": self.max_held, "position": self.position}},
            )
        self.paused += 1

    def _apply(self, notification: Notification) -> None:
        try:
            event = self.orders.app.mapper.to_domain_event(notification)
            if isinstance(event, TradesRecorded):
                live = notification.id > self.started_at
                seen_at = time.monotonic()
                self.trade_seen_at = time.time()
                since = self.traded_until_ms
                wall_ms = time.time_ns() // 1_000_000
                suspect = bool(event.timestamps_ms) and (
                    implausible_time(max(event.timestamps_ms), wall_ms) is not None
                )
                skipped: list[str] = []
                for trade in event.trades():
                    implausible = suspect and implausible_time(trade.timestamp_ms, wall_ms)
                    if implausible:
                        skipped.append(f"trade {trade.trade_id}: {implausible}")
                        continue
                    fresh = live or (since is not None and trade.timestamp_ms > since)
                    self.cursor.on_trade(trade, seen_at=seen_at, live=fresh)
                if self.cursor.hold:
                    caught_up = self.cursor.catch_up(event.symbol)  # a mark already covers
                    HELD_BY_MARK.inc(caught_up)
                if skipped:
                    self.skipped_trades += len(skipped)
                    self.logger.warning(
                        "Store follower skipped stored trades stamped implausibly far ahead",
                        extra={
                            "context": {
                                "reason": TIMESTAMP_IMPLAUSIBLE,
                                "notification_id": notification.id,
                                "symbol": event.symbol.ticker,
                                "trades": len(skipped),
                                "first": skipped[0],
                            }
                        },
                    )
            elif isinstance(event, BookTopsRecorded):
                if notification.id > self.started_at:  # stored before we started: not live
                    for book in event.books():
                        self.cursor.on_book(book)
            elif isinstance(event, SignalGenerated):
                with self.orders.lock:
                    self.signals.on_signal_event(event)
        except Exception:
            # Skip it rather than stall every later trade; fills are idempotent per trade id.
            self.on_error()
            self.logger.exception(
                "Store follower could not apply a notification",
                extra={"context": {"notification_id": notification.id}},
            )
