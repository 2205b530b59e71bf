"""Broker reports into the store: acknowledgements, rejections, fills and cancels.

The base of the order manager: the state it shares (with the group commit of new orders), its
audit records, and the BrokerListener methods the broker calls from any thread (each under the
manager's lock, after committing the orders still waiting for their write).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from tradingcore.application.errors import ConcurrencyConflict
from tradingcore.application.risk_book import RiskBook
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.errors import InvalidOrderTransition
from tradingcore.domain.order import Order, OrderStatus
from tradingcore.domain.tape import Trade
from tradingcore.ports.broker import Broker, BrokerOrder
from tradingcore.ports.clock import Clock
from tradingcore.ports.order_observer import OrderObserver
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

SYSTEM_ACTOR: Final = "OrderManager"


@dataclass
class RiskSettings:
    limits: RiskLimits
    calendar: SessionCalendar


@dataclass(eq=False)
class PendingWrite:
    """The events of one command, waiting for the transaction that makes them durable."""

    aggregates: tuple[AggregateRoot[Any], ...]
    events: list[DomainEvent] = field(default_factory=list)
    done: bool = False
    error: Exception | None = None


class GroupCommit:
    """Write the events of concurrent commands in one transaction: one disk flush for all.

    Commands queue their events (under the order manager's lock, so decisions stay serial),
    then each caller waits outside that lock for a transaction holding its events: the first
    to get the commit lock writes everything queued so far, so commands that arrived during
    the previous flush share the next one. Nobody hears back before its events are durable.
    A failed batch is retried write by write, so one conflicting order fails alone.
    Lock order: the manager's lock, then the commit lock, then the queue lock.
    """

    def __init__(
        self, app: TradingApplication, on_commit: Callable[[int, int], None] | None = None
    ) -> None:
        self.app = app
        self.on_commit = on_commit
        """Told the notification ids (first, last) of each batch written in one transaction."""
        self._queue: list[PendingWrite] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def enqueue(self, *aggregates: AggregateRoot[Any]) -> PendingWrite:
        """Queue the aggregates' pending events (they stay pending on the aggregates)."""
        write = PendingWrite(aggregates, [e for a in aggregates for e in a.pending_events])
        with self._queue_lock:
            self._queue.append(write)
        return write

    def wait(self, write: PendingWrite) -> None:
        """Return once the write is durable; raise its error if its transaction failed."""
        if not write.done:
            self.flush()
        if write.error is not None:
            raise write.error

    def flush(self) -> None:
        """Commit everything queued, and wait for a transaction already in flight."""
        with self._commit_lock:
            with self._queue_lock:
                batch, self._queue = self._queue, []
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[PendingWrite]) -> None:
        aggregates = [aggregate for write in batch for aggregate in write.aggregates]
        count = sum(len(aggregate.pending_events) for aggregate in aggregates)
        try:
            # store() collects the events, writes them in one transaction and caches the
            # aggregates; on failure it forgets them and the write-by-write retry follows.
            last = self.app.store(*aggregates)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
            else:
                for write in batch:
                    try:
                        self.app.append(write.events)
                    except Exception as alone:
                        write.error = alone
        else:
            if last is not None and self.on_commit is not None:
                self.on_commit(last - count + 1, last)
        for write in batch:
            write.done = True


class BrokerReports:
    """What the order manager shares with its parts, and how broker reports update orders."""

    app: TradingApplication
    broker: Broker
    settings: RiskSettings
    configured_limits: RiskLimits
    observer: OrderObserver
    book: RiskBook
    lock: threading.RLock
    writes: GroupCommit
    _sending: Order | None
    _discarded: set[uuid.UUID]

    @property
    def clock(self) -> Clock:
        return self.app.clock

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        sending = self._sending
        if sending is not None and sending.id == order_id:
            sending.accept(venue_order_id, self.clock.now())
            return
        with self._report(order_id) as order:
            if order.status is OrderStatus.SUBMITTED:
                order.accept(venue_order_id, self.clock.now())
                self.app.store(order)

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        sending = self._sending
        if sending is not None and sending.id == order_id:
            sending.reject(reason_code, reason, self.clock.now())
            return
        with self._report(order_id) as order:
            if order.status is OrderStatus.SUBMITTED:
                order.reject(reason_code, reason, self.clock.now())
                self.app.store(order)
                self.observer.order_rejected(order)

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        with self.lock:
            self.writes.flush()
            order, position = self.app.fill_order(order_id, trade_id, price, quantity)
            self.book.refresh(order)
            self.observer.order_filled(order, position)

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        if order_id in self._discarded:
            return
        with self._report(order_id) as order:
            if order.is_open:
                order.cancel(reason, self.clock.now())
                self.app.store(order)
                self.observer.order_canceled(order)

    @contextmanager
    def _report(self, order_id: uuid.UUID) -> Iterator[Order]:
        with self.lock:
            self.writes.flush()
            order = self.app.load(Order, order_id)
            try:
                yield order
            except (InvalidOrderTransition, ConcurrencyConflict):
                # A late or repeated report: the store already holds the truth; reload it.
                order = self.app.load_fresh(Order, order_id)
            self.book.refresh(order)

    # Market data ---------------------------------------------------------------------------

    def on_trade(self, trade: Trade) -> None:
        with self.lock:
            self.book.on_trade(trade)

    def _request_cancel(self, order: Order, reason: str) -> None:
        if order.status is OrderStatus.SUBMITTED and not order.venue_order_id:
            # Never acknowledged by the venue: cancel it here, then tell the broker anyway.
            self.on_order_canceled(order.id, reason)
        try:
            self.broker.cancel(order.id)
        except Exception as error:  # the order stays open; the failure is on record
            audit = self._audit(
                SYSTEM_ACTOR,
                "ORDER_CANCEL_FAILED",
                order.id,
                order_details(order),
                "FAILURE",
                str(error),
                step=order.version,
            )
            try:
                self.app.store(audit)
            except ConcurrencyConflict:
                return
            self.observer.audited(audit)

    def _audit(
        self,
        actor: str,
        action: str,
        subject: uuid.UUID,
        details: dict[str, Any],
        result: str,
        reason: str,
        step: int = 0,
    ) -> AuditEntry:
        return AuditEntry.record(
            entry_id=audit_id_for(action, subject, step),
            actor=actor,
            action=action,
            details=details,
            result=result,
            reason=reason,
            at=self.clock.now(),
        )


def broker_order_of(order: Order) -> BrokerOrder:
    return BrokerOrder(
        order.id, order.account, order.symbol, order.side, order.quantity, order.price
    )


def order_details(order: Order) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "client_order_id": order.client_order_id,
        "account": order.account,
        "symbol": order.symbol.ticker,
        "side": order.side.value,
        "quantity": order.quantity,
        "price": str(order.price),
        "status": order.status.value,
        "reason_code": order.reason_code,
        "signal_id": str(order.signal_id) if order.signal_id else "",
        "strategy_id": order.strategy_id or "",
    }
