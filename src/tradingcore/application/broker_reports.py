"""Broker reports into the store: acknowledgements, rejections, fills and cancels.

The base of the order manager: the state it shares (with the group commit of new orders), its
audit records, and the BrokerListener methods the broker calls from any thread (each under the
manager's lock, after committing the orders still waiting for their write).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from tradingcore.application.errors import ConcurrencyConflict, DecidedOnUnstoredWrite
from tradingcore.application.risk_book import RiskBook
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.errors import InvalidOrderTransition
from tradingcore.domain.order import Order, OrderStatus
from tradingcore.domain.position import Position
from tradingcore.domain.tape import Trade
from tradingcore.ports.broker import Broker, BrokerOrder
from tradingcore.ports.clock import Clock
from tradingcore.ports.order_observer import OrderObserver
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.limits import RiskLimits

if TYPE_CHECKING:
    from tradingcore.application.order_manager import OrderBatch

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
    decided_on: bool = False
    """Later writes of the batch were decided on it (a fill booked in memory first): if it
    fails, they fail with it rather than stand on a state the store never held."""


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
        self._held: set[int] = set()
        """`id()` of every event the queued writes hold (alive as long as they are queued)."""
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def enqueue(self, *aggregates: AggregateRoot[Any], decided_on: bool = False) -> PendingWrite:
        """Queue the aggregates' pending events (they stay pending on the aggregates); those
        an earlier queued write holds already (a second fill of one order) are its own."""
        with self._queue_lock:
            held = self._held
            events = [e for a in aggregates for e in a.pending_events if id(e) not in held]
            held.update(id(event) for event in events)
            write = PendingWrite(aggregates, events, decided_on=decided_on)
            self._queue.append(write)
        return write

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold off every commit meanwhile (while queued aggregates change)."""
        with self._commit_lock:
            yield

    def wait(self, write: PendingWrite) -> None:
        """Return once the write is durable; raise its error if its transaction failed."""
        self.wait_quietly(write)
        if write.error is not None:
            raise write.error

    def wait_quietly(self, write: PendingWrite) -> None:
        """Return once the write's transaction is over (its error, if any, in `write.error`)."""
        if not write.done:
            self.flush()

    def flush(self) -> None:
        """Commit everything queued, and wait for a transaction already in flight."""
        with self._commit_lock:
            with self._queue_lock:
                batch, self._queue = self._queue, []
                self._held = set()
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
                self._retry_one_by_one(batch)
        else:
            if last is not None and self.on_commit is not None:
                self.on_commit(last - count + 1, last)
        for write in batch:
            write.done = True

    def _retry_one_by_one(self, batch: list[PendingWrite]) -> None:
        """Store each write alone, so that one conflicting write fails alone.

        Not alone, though, when a later write stands on a failed one: after a failed
        `decided_on` write every later write fails, and a write changing an aggregate that an
        earlier failed write changed fails too (a fill of an order whose submission was not
        stored must not land on its own).
        """
        failed: Exception | None = None
        lost: set[uuid.UUID] = set()
        for write in batch:
            ids = {aggregate.id for aggregate in write.aggregates}
            if failed is None and not ids.isdisjoint(lost):
                write.error = DecidedOnUnstoredWrite(
                    "an earlier change of the same aggregate could not be stored"
                )
            elif failed is not None:
                write.error = failed
            else:
                try:
                    self.app.append(write.events)
                except Exception as alone:
                    write.error = alone
                    if write.decided_on:
                        failed = DecidedOnUnstoredWrite(
                            f"decided on a change that could not be stored: {alone}"
                        )
            if write.error is not None:
                lost |= ids
                self.app.forget(*ids)  # their copies are ahead of the store now


@dataclass(frozen=True, slots=True)
class DeferredFill:
    """A fill booked in memory, its order and position queued for the next transaction."""

    write: PendingWrite
    order: Order
    position: Position


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
    _transaction_depth: int
    _deferred: list[DeferredFill]
    _queued: set[uuid.UUID]

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
            if self._transaction_depth and self._defer_fill(order_id, trade_id, price, quantity):
                return
            self.writes.flush()
            order, position = self.app.fill_order(order_id, trade_id, price, quantity)
            self.book.refresh(order)
            self.observer.order_filled(order, position)

    # One transaction ----------------------------------------------------------------------

    @contextmanager
    def one_transaction(self, batch: OrderBatch | None = None) -> Iterator[None]:
        """Hold the lock; fills booked meanwhile join the next write's transaction.

        The feed cursor applies a signal's tape (the paper venue fills on it) and decides the
        signal in one of these: the fills and the order they lead to are durable together, in
        one disk flush instead of one per event. Risk decides on the fills already (its view
        is moved on in memory); should their transaction fail, whatever was decided on them
        fails too (`PendingWrite.decided_on`) and the fills are forgotten. Nobody hears of a
        fill (the observer) before it is durable: at the latest when this block ends, or
        with a `batch`, when the batch is finished (`OrderManager.finish`).
        """
        with self.lock:
            self._transaction_depth += 1
            try:
                yield
            finally:
                self._transaction_depth -= 1
                if not self._transaction_depth and self._deferred:
                    if batch is not None:
                        batch.steps += self._deferred
                        self._deferred = []
                    else:
                        self._settle_fills()

    def _defer_fill(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> bool:
        """Book a fill in memory and queue it (False: book it the plain way, now)."""
        if not getattr(self.broker, "in_process", False):
            return False  # a remote venue: the plain path
        if order_id in self._queued and not self.app.holds(order_id):
            return False  # an order not durable yet, its copy let go: the plain path stores it
        watch = self.book.watch
        try:
            watch.sync(self.app)
        except Exception:
            return False  # the store cannot be read: the plain path raises or stores now
        queued: list[PendingWrite] = []
        followed: list[bool] = []

        def save(order: Order, position: Position) -> None:
            held = watch.position(self.app, order.account, order.symbol)
            new = position.version - held.version  # this fill's events, the last pending
            if 0 < new <= len(position.pending_events):
                for event in position.pending_events[-new:]:
                    held._mutate(event)
                followed.append(True)
            queued.append(self.writes.enqueue(order, position, decided_on=True))

        with self.writes.paused():  # no transaction collects the aggregates mid-change
            order, position = self.app.fill_order(order_id, trade_id, price, quantity, save=save)
        self.book.refresh(order)
        if not queued:  # the same fill again: nothing changed
            self.observer.order_filled(order, position)
            return True
        self._deferred.append(DeferredFill(queued[0], order, position))
        if not followed:
            # Risk's copy is not where this fill starts: make it durable now and let the
            # copy read it back, rather than decide on a position without it.
            self.writes.flush()
            watch.stale_positions.add(position.id)
        return True

    def _settle_fills(self) -> None:
        """Make the queued fills durable and report them; forget those that failed."""
        deferred, self._deferred = self._deferred, []
        self.writes.flush()
        error: Exception | None = None
        for fill in deferred:
            error = error or self._settle_fill(fill)
        if error is not None:
            raise error

    def _settle_fill(self, fill: DeferredFill) -> Exception | None:
        """Report a queued fill once durable; forget it if its write failed (and say why)."""
        self.writes.wait_quietly(fill.write)
        if fill.write.error is None:
            self.observer.order_filled(fill.order, fill.position)
            return None
        self.app.forget(fill.order.id, fill.position.id)
        self.book.watch.forget_position(fill.position.id)
        with suppress(Exception):
            self.book.refresh(self.app.load_fresh(Order, fill.order.id))
        return fill.write.error

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
