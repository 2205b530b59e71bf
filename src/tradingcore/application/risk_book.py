"""The risk book: what pre-trade checks need to know, kept in memory and rebuilt from the store."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, cast

from eventsourcing.utils import get_topic

from tradingcore.application.errors import AggregateMissing
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import DomainEvent
from tradingcore.domain.kill_switch import KillSwitch, KillSwitchEvent, kill_switch_id_for
from tradingcore.domain.money import Money
from tradingcore.domain.order import (
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from tradingcore.domain.position import Position, PositionEvent, position_id_for
from tradingcore.domain.risk_limits import RiskLimitsChanged
from tradingcore.domain.tape import Trade, session_of
from tradingcore.domain.values import Side, Symbol
from tradingcore.risk.checks import RecentOrder

RECENT_ORDERS_KEPT: Final = 10_000
"""Per account: enough for any throttle window we would configure."""

OWN_WRITES_KEPT: Final = 10_000
"""Own writes waiting for the next decision; beyond, they are read back from the store."""

ORDER_TOPICS: Final = tuple(
    get_topic(kind)
    for kind in (
        OrderSubmitted,
        OrderDenied,
        OrderAccepted,
        OrderRejected,
        OrderFilled,
        OrderCanceled,
    )
)


def _topics_of(base: type[Any]) -> tuple[str, ...]:
    found: list[str] = []
    for kind in base.__subclasses__():
        found.append(get_topic(kind))
        found.extend(_topics_of(kind))
    return tuple(found)


ORDER_SUBMITTED_TOPIC: Final = get_topic(OrderSubmitted)
POSITION_TOPICS: Final = frozenset(_topics_of(PositionEvent))
KILL_SWITCH_TOPICS: Final = frozenset(_topics_of(KillSwitchEvent))
LIMITS_TOPIC: Final = get_topic(RiskLimitsChanged)
WATCHED_TOPICS: Final = (
    ORDER_SUBMITTED_TOPIC,
    LIMITS_TOPIC,
    *sorted(POSITION_TOPICS | KILL_SWITCH_TOPICS),
)
"""What the risk state keeps in memory comes from these events: new order ids, positions, the
kill switch and the limits. Any other event (trades, signals, order updates) leaves it valid."""


@dataclass(frozen=True, slots=True)
class OpenOrder:
    account: str
    symbol: Symbol
    side: Side
    remaining: int


class RiskBook:
    """Open orders, recent orders, last trades and daily P&L baselines per account."""

    def __init__(self) -> None:
        self.open_orders: dict[uuid.UUID, OpenOrder] = {}
        self.recent: dict[str, deque[RecentOrder]] = defaultdict(
            lambda: deque(maxlen=RECENT_ORDERS_KEPT)
        )
        self.symbols: dict[str, set[Symbol]] = defaultdict(set)
        self.last_trades: dict[Symbol, Trade] = {}
        self._open_totals: dict[tuple[str, Symbol, Side], int] = defaultdict(int)
        self._baselines: dict[tuple[uuid.UUID, datetime], Money] = {}
        self.watch = StoreWatch()

    def refresh(self, order: Order) -> None:
        """Track an order's remaining quantity while it is open."""
        self.symbols[order.account].add(order.symbol)
        before = self.open_orders.pop(order.id, None)
        if before is not None:
            self._open_totals[(before.account, before.symbol, before.side)] -= before.remaining
        if order.is_open:
            self.open_orders[order.id] = OpenOrder(
                order.account, order.symbol, order.side, order.remaining
            )
            self._open_totals[(order.account, order.symbol, order.side)] += order.remaining

    def note_passed(self, order: Order) -> RecentOrder:
        """Remember an order that passed the checks, for the throttle and duplicate checks."""
        at = order.submitted_at or datetime.min.replace(tzinfo=UTC)
        recent = RecentOrder(
            at, order.symbol, order.side, order.quantity, order.price, order.signal_id
        )
        self.recent[order.account].append(recent)
        return recent

    def forget(self, order: Order, passed: RecentOrder | None) -> None:
        """Take back an order whose write failed: it was counted before it was stored."""
        before = self.open_orders.pop(order.id, None)
        if before is not None:
            self._open_totals[(before.account, before.symbol, before.side)] -= before.remaining
        if passed is not None:
            with suppress(ValueError):  # already past the window
                self.recent[order.account].remove(passed)

    def open_quantity(self, account: str, symbol: Symbol, side: Side) -> int:
        """Return the unfilled quantity of the account's open orders on one side of a symbol."""
        return self._open_totals.get((account, symbol, side), 0)

    def recent_orders(self, account: str, since: datetime) -> Sequence[RecentOrder]:
        """Return the account's passed orders after `since`, oldest first, forgetting older ones.

        A view, not a copy (no O(n) per order): read it before the book changes again.
        """
        recent = self.recent[account]
        while recent and recent[0].at <= since:
            recent.popleft()
        return recent

    def open_order_ids(self, account: str | None = None) -> list[uuid.UUID]:
        return [
            order_id
            for order_id, open_order in self.open_orders.items()
            if account is None or open_order.account == account
        ]

    def on_trade(self, trade: Trade) -> None:
        if trade.cancelled:
            return
        self.last_trades[trade.symbol] = trade

    def last_trade_at(self, symbol: Symbol) -> datetime | None:
        trade = self.last_trades.get(symbol)
        if trade is None:
            return None
        return datetime.fromtimestamp(trade.timestamp_ms / 1000, UTC)

    def last_price(self, symbol: Symbol) -> Decimal | None:
        trade = self.last_trades.get(symbol)
        return None if trade is None else trade.price

    def daily_realized(
        self, app: TradingApplication, position: Position, day_start: datetime
    ) -> Money:
        """Return the net P&L (after fees) the position realized since `day_start`.

        The day's baseline is taken once a position and day. When every event of the position
        is before the day (its last event's session is an earlier day: the first order of a
        day), it is the position's realized P&L as it stands; only a position that already
        traded in the day (a restart mid-day) reads its history. Reading a whole day's history
        at the first order after midnight decoded ~15,000 events in the soak's API host (a
        one-off step in its RSS).
        """
        key = (position.id, day_start)
        baseline = self._baselines.get(key)
        if baseline is None:
            day = session_of(int(day_start.timestamp() * 1000))
            if position.session is None or position.session < day:
                baseline = position.realized_pnl
            else:
                baseline = Money.zero()
                for event in app.events.get(position.id):
                    if isinstance(event, PositionEvent) and event.timestamp < day_start:
                        baseline += Money(event.realized_pnl) - event.fees
            for older in [other for other in self._baselines if other[1] < day_start]:
                del self._baselines[older]  # earlier days' baselines are not asked for again
            self._baselines[key] = baseline
        return position.realized_pnl - baseline

    def daily_pnl(
        self, app: TradingApplication, account: str, day_start: datetime
    ) -> Decimal | None:
        """Return realized plus unrealized P&L of the day, or None if a mark is missing."""
        total = Money.zero()
        for symbol in sorted(self.symbols.get(account, ())):
            position = self.watch.position(app, account, symbol)
            total += self.daily_realized(app, position, day_start)
            if position.net_quantity:
                mark = self.last_price(symbol)
                if mark is None:
                    return None
                total += position.unrealized_pnl(mark)
        return total.amount

    def rebuild(self, app: TradingApplication, page: int = 1_000) -> int:
        """Fold every stored order event into the book; return how many orders were seen."""
        events: dict[uuid.UUID, list[Any]] = defaultdict(list)
        self.watch.restart(app.recorder.max_notification_id() or 0)
        for notification in _notifications(app, ORDER_TOPICS, page):
            if notification.topic == ORDER_SUBMITTED_TOPIC:
                self.watch.known_orders.add(notification.originator_id.int)
            events[notification.originator_id].append(app.mapper.to_domain_event(notification))
        for order_id, order_events in events.items():
            order = Order.rehydrate(order_id, order_events)
            self.refresh(order)
            if not any(isinstance(event, OrderDenied) for event in order_events):
                self.note_passed(order)
        for account in self.recent:
            ordered = sorted(self.recent[account], key=lambda recent: recent.at)
            self.recent[account] = deque(ordered, maxlen=RECENT_ORDERS_KEPT)
        return len(events)


class StoreWatch:
    """The stored state risk decisions read, kept in memory while the store has not changed.

    Positions, the kill switch and which order ids exist are read from the store once, then
    reused as long as nothing relevant was stored behind our back: before each decision,
    `sync` asks the store for its last notification id (one indexed query); if other writers
    (another process, or this one outside the group commit) stored events since, it follows
    the notification log over them and forgets what they changed. The group commit's own
    writes (orders and audit entries, which change none of it) move the mark on directly.
    """

    def __init__(self) -> None:
        self.seen = 0
        """Every event up to this notification id is reflected in memory."""
        self.known_orders: set[int] = set()
        """The ids (`UUID.int`) of every order in the store up to `seen`: about 100 bytes each."""
        self.positions: dict[uuid.UUID, Position] = {}
        self.stale_positions: set[uuid.UUID] = set()
        """Positions changed in the store since they were read: fast-forwarded on next use."""
        self.kill_switch: KillSwitch | None = None
        self.limits_changed = False
        """Someone stored new limits: the order manager reads them before its next decision."""
        self.mark: Callable[[], int] | None = None
        """A cheaper way to ask for the store's last notification id than the recorder's."""
        self._lock = threading.Lock()
        self._own: list[tuple[int, DomainEvent]] = []
        """This process's writes (`stored`), applied by the next `sync` without reading the
        store back; bounded: past OWN_WRITES_KEPT they are dropped and read back instead."""

    def restart(self, seen: int) -> None:
        with self._lock:
            self.seen = seen
            self.positions.clear()
            self.stale_positions.clear()
            self.kill_switch = None
            self._own.clear()

    def stored(self, written: Sequence[tuple[int, DomainEvent]]) -> None:
        """Note events this process stored (any thread): `sync` applies them in id order."""
        with self._lock:
            if len(self._own) < OWN_WRITES_KEPT:
                self._own.extend(written)

    def _apply_own(self) -> None:
        """Apply this process's own writes that follow `seen` without a gap: the same events
        the store would give back, without the query and the decoding."""
        with self._lock:
            own, self._own = self._own, []
        own.sort(key=_notification_id)
        kept: list[tuple[int, DomainEvent]] = []
        for index, (notification_id, event) in enumerate(own):
            if notification_id <= self.seen:
                continue  # already followed in the store, or written by the group commit
            if notification_id != self.seen + 1:  # another writer's events lie between
                kept = own[index:]
                break
            self._note(event)
            self.seen = notification_id
        if kept:
            with self._lock:
                self._own[:0] = kept

    def sync(self, app: TradingApplication, page: int = 1_000) -> None:
        """Catch up with the store; raise if it cannot be read (the caller fails closed)."""
        if self._own:
            self._apply_own()
        start = self.seen  # before the query: the group commit may move it on meanwhile
        latest = self.mark() if self.mark is not None else app.recorder.max_notification_id()
        latest = latest or 0
        if latest == start:
            return
        if latest < start:  # the store went back (restored): trust nothing in memory
            self.known_orders = {
                notification.originator_id.int
                for notification in _notifications(app, (ORDER_SUBMITTED_TOPIC,), page)
            }
            self.restart(latest)
            self.limits_changed = True
            return
        for notification in _notifications(app, WATCHED_TOPICS, page, start + 1, latest):
            topic = notification.topic
            if topic == ORDER_SUBMITTED_TOPIC:
                self.known_orders.add(notification.originator_id.int)
            elif topic in POSITION_TOPICS:
                if notification.originator_id in self.positions:
                    self.stale_positions.add(notification.originator_id)
            elif topic == LIMITS_TOPIC:
                self.limits_changed = True
            else:
                self.kill_switch = None
        with self._lock:
            self.seen = max(self.seen, latest)

    def _note(self, event: DomainEvent) -> None:
        """What `sync` does for one followed notification, from the event itself."""
        if isinstance(event, PositionEvent):
            position_id = event.originator_id
            position = self.positions.get(position_id)
            if position is None or position_id in self.stale_positions:
                return
            if position.version == event.originator_version - 1:
                position._mutate(event)
            elif position.version >= event.originator_version:
                pass  # booked here before it was durable (the order manager's one transaction)
            else:
                self.stale_positions.add(position_id)
        elif isinstance(event, OrderSubmitted):
            self.known_orders.add(event.originator_id.int)
        elif isinstance(event, RiskLimitsChanged):
            self.limits_changed = True
        elif isinstance(event, KillSwitchEvent):
            self.kill_switch = None

    def committed(self, first: int, last: int) -> None:
        """Note this process's own write of orders and audit entries, ids first..last."""
        with self._lock:
            if first <= self.seen + 1 and last > self.seen:
                self.seen = last

    def position(self, app: TradingApplication, account: str, symbol: Symbol) -> Position:
        position_id = _position_id(account, symbol)
        position = self.positions.get(position_id)
        if position is not None and position_id in self.stale_positions:
            # Apply only what was stored since: reloading the whole history on every
            # decision made each fill cost O(fills so far).
            try:
                for event in app.events.get(position_id, gt=position.version):
                    position._mutate(cast(PositionEvent, event))
                self.stale_positions.discard(position_id)
            except Exception:
                self.positions.pop(position_id, None)
                self.stale_positions.discard(position_id)
                raise
        if position is None:
            # A copy of our own, not the application's cached object: a command that changes
            # that one and then fails to store must not change what risk decides on.
            try:
                position = app.load_fresh(Position, position_id)
            except AggregateMissing:
                position = Position.open_for(account, app.instruments(symbol))
            self.positions[position_id] = position
        return position

    def forget_position(self, position_id: uuid.UUID) -> None:
        """Drop a position's copy (it is read from the store again when next needed)."""
        self.positions.pop(position_id, None)
        self.stale_positions.discard(position_id)

    def kill_switch_of(self, app: TradingApplication) -> KillSwitch:
        switch = self.kill_switch
        if switch is None:
            switch = self.kill_switch = _load_kill_switch(app)
        return switch

    def order_exists(self, order_id: uuid.UUID) -> bool:
        return order_id.int in self.known_orders


def _notification_id(written: tuple[int, DomainEvent]) -> int:
    return written[0]


@lru_cache(maxsize=4_096)
def _position_id(account: str, symbol: Symbol) -> uuid.UUID:
    return position_id_for(account, symbol)  # a SHA-1 each time: remembered


def _load_kill_switch(app: TradingApplication) -> KillSwitch:
    try:  # our own copy, as for positions
        return app.load_fresh(KillSwitch, kill_switch_id_for())
    except AggregateMissing:
        return KillSwitch.new()


def _notifications(
    app: TradingApplication,
    topics: tuple[str, ...],
    page: int,
    start: int = 1,
    stop: int | None = None,
) -> Iterator[Any]:
    while True:
        batch = app.recorder.select_notifications(start=start, limit=page, stop=stop, topics=topics)
        yield from batch
        if len(batch) < page:
            return
        start = batch[-1].id + 1
