"""GET /api/v1/orders and /api/v1/signals: pages of every stored order and signal, newest first.

The newest rows come from the dashboard's read model (`Activity`), which follows the store; a
request polls it first, so an order answered by POST /execute is listed by the next request.
The model keeps the newest `[api] history` orders and signals in memory (2,000 by default); a
page that reaches past them goes on in the store, reading its notification log backwards (the
orders' and signals' first events only, in windows of ids), and folds each older order's events
into its row: nothing stored is missing from the lists, and memory does not grow with them. A
page is cut by `limit`; `next_before` (the last row's sequence, the notification id of its
first event) asks for the next, older page. A filter that matches few old rows reads the log
back to them (or to its start): the Parquet projections (`tradingcore sql`) answer such
questions over long histories faster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import chain
from typing import Final, TypeVar

from eventsourcing.utils import get_topic

from adapters.jsonlog import iso_ms
from hosts.api.activity import Activity, signal_row, submitted_row, update_order_row
from hosts.api.activity_rows import OrderRow, SignalRow
from hosts.api.errors import ApiError
from hosts.api.schemas import OrderOut, SignalOut
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.money import Money
from tradingcore.domain.order import OPEN, OrderSubmitted, average_fill_price
from tradingcore.domain.signal import SignalGenerated

Row = TypeVar("Row", OrderRow, SignalRow)

OPEN_STATUS: Final = "OPEN"
"""The status filter that means any open status: SUBMITTED, ACCEPTED or PARTIALLY_FILLED."""
OPEN_STATUSES: Final = frozenset(status.value for status in OPEN)
FIRST_WINDOW: Final = 4_096
"""Notification ids read at once when a page goes on in the store (doubling up to LAST_WINDOW
while they hold too few of the rows asked for)."""
LAST_WINDOW: Final = 262_144
ORDER_TOPICS: Final = (get_topic(OrderSubmitted),)
SIGNAL_TOPICS: Final = (get_topic(SignalGenerated),)


@dataclass(frozen=True, slots=True)
class OrderFilter:
    accounts: Collection[str] | None
    """None: every account (an admin's key)."""
    status: str | None = None
    symbol: str | None = None
    side: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def __call__(self, row: OrderRow) -> bool:
        if self.accounts is not None and row.account not in self.accounts:
            return False
        if self.status == OPEN_STATUS:
            if row.status not in OPEN_STATUSES:
                return False
        elif self.status is not None and row.status != self.status:
            return False
        return (
            (self.symbol is None or row.symbol == self.symbol)
            and (self.side is None or row.side == self.side)
            and within(row.submitted_ms, self.since_ms, self.until_ms)
        )


@dataclass(frozen=True, slots=True)
class SignalFilter:
    symbol: str | None = None
    direction: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def __call__(self, row: SignalRow) -> bool:
        return (
            (self.symbol is None or row.symbol == self.symbol)
            and (self.direction is None or row.direction == self.direction)
            and within(row.tick_timestamp_ms, self.since_ms, self.until_ms)
        )


def within(at_ms: int, since_ms: int | None, until_ms: int | None) -> bool:
    """`since` inclusive, `until` exclusive."""
    return (since_ms is None or at_ms >= since_ms) and (until_ms is None or at_ms < until_ms)


TIME_SHAPE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")
"""What looks like an RFC 3339 date-time: refused with 422, not 400, if Python cannot read it."""


def epoch_ms(value: str | None, key: str) -> int | None:
    """A query's ISO 8601 time in epoch ms (UTC when it has no offset); None for none.

    A string, parsed here: as a `datetime` parameter the framework also took `0.5` (seconds
    since 1970). Not a time: 400; shaped like one but not readable (a leap second): 422.
    """
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        status = 422 if TIME_SHAPE.match(value) else 400
        raise ApiError(status, f"invalid {key} {value!r}: not an ISO 8601 time", key) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def page(
    newest_first: Iterable[Row], wanted: Callable[[Row], bool], limit: int, before: int | None
) -> tuple[list[Row], int | None]:
    """The first `limit` wanted rows older than `before`; the cursor of the next page or None."""
    chosen: list[Row] = []
    for row in newest_first:
        if before is not None and row.sequence >= before:
            continue
        if not wanted(row):
            continue
        if len(chosen) == limit:
            return chosen, chosen[-1].sequence
        chosen.append(row)
    return chosen, None


def orders_page(
    activity: Activity, wanted: OrderFilter, limit: int, before: int | None
) -> tuple[list[OrderOut], int | None]:
    activity.poll()
    kept, floor = activity.read(
        lambda model: (list(reversed(model.order_history.values())), model.order_floor)
    )
    older = stored_orders(activity.app, below(before, floor), replace(wanted, status=None))
    rows, cursor = page(chain(kept, older), wanted, limit, before)
    return [order_row_out(row) for row in rows], cursor


def signals_page(
    activity: Activity, wanted: SignalFilter, limit: int, before: int | None
) -> tuple[list[SignalOut], int | None]:
    activity.poll()
    kept, floor = activity.read(
        lambda model: (list(reversed(model.signal_history)), model.signal_floor)
    )
    older = stored_signals(activity.app, below(before, floor))
    rows, cursor = page(chain(kept, older), wanted, limit, before)
    return [signal_row_out(row) for row in rows], cursor


def below(before: int | None, floor: int) -> int:
    """The first sequence not to read from the store: past the rows kept in memory, and
    past the page's cursor."""
    return floor + 1 if before is None else min(before, floor + 1)


def stored_orders(
    app: TradingApplication, below_sequence: int, submitted: OrderFilter
) -> Iterator[OrderRow]:
    """Orders submitted before notification `below_sequence`, newest first, read lazily from
    the store; each one `submitted` keeps (its filter without status) is folded to date."""
    for sequence, event in stored_events(app, below_sequence, ORDER_TOPICS):
        assert isinstance(event, OrderSubmitted)
        row = submitted_row(event, sequence)
        if not submitted(row):
            continue
        for later in app.events.get(event.originator_id, gt=event.originator_version):
            update_order_row(row, later)
        yield row


def stored_signals(app: TradingApplication, below_sequence: int) -> Iterator[SignalRow]:
    """Signals stored before notification `below_sequence`, newest first, read lazily."""
    for sequence, event in stored_events(app, below_sequence, SIGNAL_TOPICS):
        assert isinstance(event, SignalGenerated)
        yield signal_row(event, sequence)


def stored_events(
    app: TradingApplication, below_sequence: int, topics: tuple[str, ...]
) -> Iterator[tuple[int, object]]:
    """The events of `topics` stored before notification `below_sequence`, newest first:
    the log read backwards in windows of ids (the recorders read it forwards only)."""
    high = below_sequence - 1
    window = FIRST_WINDOW
    while high >= 1:
        low = max(1, high - window + 1)
        batch = app.recorder.select_notifications(
            start=low, limit=high - low + 1, stop=high, topics=topics
        )
        for notification in reversed(batch):
            yield notification.id, app.mapper.to_domain_event(notification)
        high = low - 1
        window = min(window * 2, LAST_WINDOW)


def order_row_out(row: OrderRow) -> OrderOut:
    """The same fields as GET /api/v1/orders/{id}, from the read model's row."""
    return OrderOut(
        order_id=str(row.order_id),
        client_order_id=row.client_order_id,
        account=row.account,
        symbol=row.symbol,
        side=row.side,
        quantity=row.quantity,
        price=float(row.price),
        status=row.status,
        filled_quantity=row.filled_quantity,
        average_fill_price=float(average_fill_price(row.fill_notional, row.filled_quantity)),
        fees=Money(row.fees).text,
        reason_code=row.reason_code,
        reason=row.reason,
        venue_order_id=row.venue_order_id,
        signal_id=str(row.signal_id) if row.signal_id else None,
        submitted_at=iso_ms(row.submitted_at) if row.submitted_at else "",
    )


def signal_row_out(row: SignalRow) -> SignalOut:
    return SignalOut(
        signal_id=str(row.signal_id),
        symbol=row.symbol,
        direction=row.direction,
        confidence=row.confidence,
        features=dict(row.features),
        model_version=row.model_version,
        tick_trade_id=row.tick_trade_id,
        tick_timestamp_ms=row.tick_timestamp_ms,
        price=row.price,
    )
