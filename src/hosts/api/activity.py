"""The dashboard's read model: recent orders, fills, signals and P&L, followed from the store.

It also keeps the history the lists `GET /api/v1/orders` and `/api/v1/signals` page through
(hosts/api/history.py).

A thread reads the notification log (orders, positions, signals, kill switch) from the start,
keeps bounded recent lists and running series, and wakes the dashboard streams on each change.
Series are kept per account so a trader's key never sees another account's numbers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final, TypeVar

from eventsourcing.utils import get_topic

from hosts.api.activity_rows import FillRow, OrderRow, PnlChange, SignalRow, packed_features
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.kill_switch import KillSwitchEngaged, KillSwitchReleased
from tradingcore.domain.money import EXACT
from tradingcore.domain.order import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from tradingcore.domain.position import PositionChanged, PositionClosed, PositionOpened
from tradingcore.domain.signal import SignalGenerated

T = TypeVar("T")

ALL: Final = "*"
"""The key of series over every account."""
KEPT: Final = 500
"""Recent orders, fills and signals kept for the dashboard (per kind), newest last."""
HISTORY: Final = 2_000
"""Orders and signals kept in memory for GET /api/v1/orders and /api/v1/signals by default
(`[api] history`); older rows are read from the store (hosts/api/history.py). A signal row
with 12 features ~0.8 KB, an order row ~1 KB: ~3.6 MB at this bound. It was 20,000 (~36 MB,
still filling after 10 minutes of the 5k trades/s soak: the API host's RSS grew 8-9 % in its
last 5 minutes)."""
SERIES_POINTS: Final = 2_000
"""Points kept per chart series (older ones drop)."""
LATENCY_WINDOW: Final = 200
"""Samples each latency percentile is computed over."""
ORDER_EVENTS: Final = (
    OrderSubmitted,
    OrderAccepted,
    OrderDenied,
    OrderRejected,
    OrderFilled,
    OrderCanceled,
)
POSITION_EVENTS: Final = (PositionOpened, PositionChanged, PositionClosed)
KILL_SWITCH_EVENTS: Final = (KillSwitchEngaged, KillSwitchReleased)
TOPICS: Final = tuple(
    get_topic(kind)
    for kind in (*ORDER_EVENTS, *POSITION_EVENTS, *KILL_SWITCH_EVENTS, SignalGenerated)
)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def signal_row(event: SignalGenerated, sequence: int) -> SignalRow:
    """The list row of a stored signal, notification `sequence`."""
    at = epoch_ms(event.timestamp)
    return SignalRow(
        sequence,
        event.originator_id,
        at,
        event.symbol.ticker,
        event.direction.value,
        event.confidence,
        event.model_version,
        event.price,
        event.tick_timestamp_ms,
        max(0.0, float(at - event.tick_timestamp_ms)),
        event.tick_trade_id,
        packed_features(event.features),
    )


def submitted_row(event: OrderSubmitted, sequence: int) -> OrderRow:
    """The list row of an order as submitted, notification `sequence`."""
    at = epoch_ms(event.timestamp)
    row = OrderRow(
        sequence,
        event.originator_id,
        event.client_order_id,
        event.account,
        event.symbol.ticker,
        event.side.value,
        event.quantity,
        event.price,
        "SUBMITTED",
        at,
        at,
        event.signal_id,
    )
    row.submitted_at = event.timestamp
    return row


def update_order_row(row: OrderRow, event: object) -> FillRow | None:
    """Fold an order's later event into its row; return the fill it made, if any."""
    at = epoch_ms(event.timestamp) if isinstance(event, ORDER_EVENTS) else row.updated_ms
    row.updated_ms = at
    if isinstance(event, OrderAccepted | OrderDenied | OrderRejected) and row.ack_ms is None:
        row.ack_ms = float(max(0, at - row.submitted_ms))
    if isinstance(event, OrderAccepted):
        row.status = "ACCEPTED"
        row.venue_order_id = event.venue_order_id
    elif isinstance(event, OrderDenied | OrderRejected):
        row.status = "DENIED" if isinstance(event, OrderDenied) else "REJECTED"
        row.reason_code, row.reason = event.reason_code, event.reason
    elif isinstance(event, OrderCanceled):
        row.status = "CANCELED"
        row.reason = event.reason
    elif isinstance(event, OrderFilled):
        row.filled_quantity += event.quantity
        row.fill_notional = EXACT.add(
            row.fill_notional, EXACT.multiply(event.price, Decimal(event.quantity))
        )
        row.fees = EXACT.add(row.fees, event.fees.amount)
        row.status = "FILLED" if row.filled_quantity >= row.quantity else "PARTIALLY_FILLED"
        return FillRow(
            at,
            row.order_id,
            row.account,
            row.symbol,
            event.side.value,
            event.quantity,
            event.price,
            event.trade_id,
            event.fees.amount,
        )
    return None


@dataclass
class AccountSeries:
    """One account's realized P&L changes (from position events), newest last."""

    dropped: Decimal = Decimal(0)
    """Net realized P&L of the changes that fell out of `changes`."""
    changes: deque[PnlChange] = field(default_factory=lambda: deque(maxlen=SERIES_POINTS))

    def add(self, change: PnlChange) -> None:
        if len(self.changes) == self.changes.maxlen:
            self.dropped += self.changes[0].net
        self.changes.append(change)


@dataclass
class LatencySeries:
    """Samples in ms and, at each, the p50/p95/p99 of the last LATENCY_WINDOW samples."""

    window: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    points: deque[tuple[int, float, float, float]] = field(
        default_factory=lambda: deque(maxlen=SERIES_POINTS)
    )

    def add(self, at_ms: int, sample_ms: float) -> None:
        self.window.append(sample_ms)
        ordered = sorted(self.window)
        self.points.append(
            (at_ms, percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99))
        )


def percentile(ordered: list[float], rank: int) -> float:
    """Nearest-rank percentile of sorted samples."""
    index = max(0, -(-rank * len(ordered) // 100) - 1)
    return ordered[min(index, len(ordered) - 1)]


@dataclass(frozen=True, slots=True)
class KillSwitchNote:
    engaged: bool
    actor: str
    reason: str
    at_ms: int


class Activity:
    """Follows the store in a thread; `version` grows on every applied event."""

    def __init__(
        self,
        app: TradingApplication,
        logger: logging.Logger,
        *,
        interval: float = 0.1,
        page: int = 500,
        history: int = HISTORY,
    ) -> None:
        self.app = app
        self.history = history
        self.logger = logger
        self.interval = interval
        self.page = page
        self.position = 0
        self.version = 0
        self.lock = threading.Lock()
        self.orders: dict[uuid.UUID, OrderRow] = {}
        """The dashboard's recent orders: the newest KEPT of `order_history`, same rows."""
        self.order_history: dict[uuid.UUID, OrderRow] = {}
        self.fills: deque[FillRow] = deque(maxlen=KEPT)
        self.signals: deque[SignalRow] = deque(maxlen=KEPT)
        self.signal_history: deque[SignalRow] = deque(maxlen=history)
        self.order_floor = 0
        """The sequence of the newest order row dropped from `order_history` (0: none): rows
        at or below it are read from the store."""
        self.signal_floor = 0
        """The same for `signal_history`."""
        self.series: dict[str, AccountSeries] = defaultdict(AccountSeries)
        self.order_latency: dict[str, LatencySeries] = defaultdict(LatencySeries)
        """Submission to answer, per account and over all of them (ALL)."""
        self.signal_latency = LatencySeries()
        self.kill_switch: KillSwitchNote | None = None
        self.errors = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._polling = threading.Lock()
        """One poll at a time: the thread's and a request's (read your own writes)."""

    # Life ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.poll()
        self._thread = threading.Thread(target=self._run, name="dashboard-activity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:
                self.errors += 1
                self.logger.exception("Dashboard activity poll failed")

    # Change notification -------------------------------------------------------------------

    def subscribe(self) -> asyncio.Event:
        """Return an event set (on the caller's loop) whenever something new is applied."""
        changed = asyncio.Event()
        self._waiters.add((asyncio.get_running_loop(), changed))
        return changed

    def unsubscribe(self, changed: asyncio.Event) -> None:
        self._waiters = {waiter for waiter in self._waiters if waiter[1] is not changed}

    def _notify(self) -> None:
        for loop, changed in list(self._waiters):
            try:
                loop.call_soon_threadsafe(changed.set)
            except RuntimeError:  # that loop is closed: its stream is gone
                self._waiters.discard((loop, changed))

    # Following -----------------------------------------------------------------------------

    def poll(self) -> int:
        """Apply every new notification of the watched topics; return how many."""
        with self._polling:
            return self._poll()

    def _poll(self) -> int:
        recorder = self.app.recorder
        latest = recorder.max_notification_id() or 0
        applied = 0
        while True:
            batch = recorder.select_notifications(
                start=self.position + 1, limit=self.page, stop=latest, topics=TOPICS
            )
            with self.lock:
                for notification in batch:
                    try:
                        self.apply(self.app.mapper.to_domain_event(notification), notification.id)
                    except Exception:
                        self.errors += 1
                        self.logger.exception(
                            "Dashboard could not apply a notification",
                            extra={"context": {"notification_id": notification.id}},
                        )
                    self.position = notification.id
                    applied += 1
                if len(batch) < self.page:
                    self.position = max(self.position, latest)
                    if applied:
                        self.version += 1
                    break
        if applied:
            self._notify()
        return applied

    def apply(self, event: object, sequence: int = 0) -> None:
        """Fold one stored event, notification `sequence`, into the read model (under `lock`)."""
        if isinstance(event, ORDER_EVENTS):
            self._apply_order(event, sequence)
        elif isinstance(event, POSITION_EVENTS):
            self._apply_position(event)
        elif isinstance(event, SignalGenerated):
            row = signal_row(event, sequence)
            self.signals.append(row)
            history = self.signal_history
            if len(history) == history.maxlen:
                self.signal_floor = history[0].sequence
            history.append(row)
            self.signal_latency.add(row.at_ms, row.latency_ms)
        elif isinstance(event, KILL_SWITCH_EVENTS):
            self.kill_switch = KillSwitchNote(
                isinstance(event, KillSwitchEngaged),
                event.actor,
                event.reason,
                epoch_ms(event.timestamp),
            )

    def _apply_order(self, event: object, sequence: int) -> None:
        if isinstance(event, OrderSubmitted):
            submitted = submitted_row(event, sequence)
            self.orders[event.originator_id] = submitted
            self.order_history[event.originator_id] = submitted
            while len(self.orders) > KEPT:
                del self.orders[next(iter(self.orders))]
            while len(self.order_history) > self.history:
                oldest = next(iter(self.order_history))
                self.order_floor = self.order_history.pop(oldest).sequence
            return
        assert isinstance(event, ORDER_EVENTS)
        row = self.order_history.get(event.originator_id)
        if row is None:  # older than what is kept
            return
        answered = row.ack_ms is not None
        fill = update_order_row(row, event)
        if not answered and row.ack_ms is not None:
            self.order_latency[row.account].add(row.updated_ms, row.ack_ms)
            self.order_latency[ALL].add(row.updated_ms, row.ack_ms)
        if fill is not None:
            self.fills.append(fill)

    def _apply_position(self, event: PositionOpened | PositionChanged | PositionClosed) -> None:
        before = event.net_quantity - event.side.sign * event.quantity
        closed = abs(event.net_quantity) < abs(before) or (
            before != 0 and (before > 0) != (event.net_quantity > 0)
        )
        net = event.realized_pnl - event.fees.amount
        change = PnlChange(epoch_ms(event.timestamp), net, closed, event.realized_pnl > 0)
        self.series[event.account].add(change)

    # Reading -------------------------------------------------------------------------------

    def accounts(self) -> list[str]:
        with self.lock:
            seen = {row.account for row in self.orders.values()} | set(self.series)
        return sorted(seen)

    def read(self, reader: Callable[[Activity], T]) -> T:
        """Run `reader` under the lock: a consistent view while the thread applies events."""
        with self.lock:
            return reader(self)
