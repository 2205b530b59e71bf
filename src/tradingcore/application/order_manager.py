"""The order manager: load, check risk, decide, save, then send; broker reports update orders.

Every command runs under one lock, so two requests with the same client order id (or an order
and the fill of another) never interleave; the broker calls back into it from any thread.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from tradingcore.application.broker_reports import (
    DeferredFill,
    GroupCommit,
    PendingWrite,
    RiskSettings,
    broker_order_of,
    order_details,
)
from tradingcore.application.errors import (
    AggregateMissing,
    ConcurrencyConflict,
)
from tradingcore.application.order_commands import (
    CancelResult,
    ExecuteOrder,
    ExecutionResult,
    OrderNotCancelable,
    OrderNotFound,
    generated_client_order_id,
)
from tradingcore.application.risk_book import RiskBook
from tradingcore.application.risk_controls import RiskControls
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.audit import AuditEntry
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.order import Order, OrderStatus, order_id_for
from tradingcore.domain.values import Price, Quantity, Side, Symbol
from tradingcore.ports.broker import Broker, BrokerOrder
from tradingcore.ports.order_observer import NullObserver, OrderObserver
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.checks import OrderIntent, RecentOrder, RiskContext, RiskDecision, evaluate
from tradingcore.risk.limits import RiskLimits


@dataclass(frozen=True, slots=True)
class DecidedOrder:
    """An order decided under the lock, its events queued for the next transaction."""

    submit: SubmitOrder
    order: Order
    audit: AuditEntry
    decision: RiskDecision
    grouped: bool
    """True: committed with others, outside the lock (in-process venue or a denial); False:
    committed under the lock before a remote broker sees it."""
    write: PendingWrite
    passed: RecentOrder | None
    reported: Order
    """The order as it was decided and sent, for the report: in a batch its fills may be booked
    on `order` before the batch reports it ("Order sent" said FILLED)."""


@dataclass(eq=False)
class OrderBatch:
    """The orders and fills of several commands decided one after another (a batch of
    signals), made durable together and reported in the order they were decided.

    Each command decides on the state the ones before it left, so their writes are
    `decided_on`: should one fail to be stored, every later one fails with it. A batch that
    waits (for the tape) commits what it decided first (`OrderManager.commit`).
    """

    steps: list[DecidedOrder | DeferredFill] = field(default_factory=list)
    outcomes: dict[int, ExecutionResult | Exception] = field(default_factory=dict)
    """Each decided order's answer (by `id()` of its `DecidedOrder`), once finished."""
    failure: Exception | None = None
    """The first write of the batch that failed, once finished."""

    def failed(self) -> Exception | None:
        """The error of a write of this batch that failed already (the rest would fail too)."""
        if self.failure is not None:
            return self.failure
        return next((step.write.error for step in self.steps if step.write.error), None)

    def outcome(self, decided: DecidedOrder) -> ExecutionResult:
        """The answer to a decided order of this finished batch; its error if it failed."""
        answer = self.outcomes[id(decided)]
        if isinstance(answer, Exception):
            raise answer
        return answer


class OrderManager(RiskControls):
    """Pre-trade risk, order routing, broker reports and the kill switch over one store."""

    def __init__(
        self,
        app: TradingApplication,
        broker: Broker,
        *,
        limits: RiskLimits | None = None,
        calendar: SessionCalendar | None = None,
        observer: OrderObserver | None = None,
        store_mark: Callable[[], int] | None = None,
    ) -> None:
        """`store_mark`: returns the store's last notification id, cheaper than the recorder
        (the host passes one for SQLite files)."""
        self.app = app
        self.broker = broker
        self.configured_limits = limits or RiskLimits()
        """From the configuration; a stored admin change wins over them (`start`)."""
        self.settings = RiskSettings(self.configured_limits, calendar or SessionCalendar())
        self.observer: OrderObserver = observer or NullObserver()
        self.book = RiskBook()
        self.book.watch.mark = store_mark
        self.lock = threading.RLock()
        self.writes = GroupCommit(app, self.book.watch.committed)
        app.stored_listeners.append(self.book.watch.stored)
        self._queued: set[uuid.UUID] = set()
        self._sending: Order | None = None
        self._discarded: set[uuid.UUID] = set()
        self._transaction_depth = 0
        self._deferred: list[DeferredFill] = []

    def start(self) -> int:
        """Rebuild the risk book and the limits from the store, connect the broker; return
        how many orders were seen."""
        with self.lock:
            seen = self.book.rebuild(self.app)
            self.apply_stored_limits()
        self.broker.connect(self)
        return seen

    def open_broker_orders(self) -> list[tuple[BrokerOrder, int]]:
        """Return the open orders as the broker saw them, with their unfilled quantity."""
        with self.lock:
            self.writes.flush()
            orders = [self.app.load(Order, order_id) for order_id in self.book.open_order_ids()]
            return [(broker_order_of(order), order.remaining) for order in orders]

    # Commands ------------------------------------------------------------------------------

    def execute(self, command: ExecuteOrder) -> ExecutionResult:
        """Submit an order through the risk checks; a known client order id returns the original.

        The decision is taken under the lock; with an in-process venue the write is then
        awaited outside it, so concurrent orders share one transaction (group commit). The
        answer comes only once the order and its audit entry are durable.
        """
        with self.lock:
            decided = self._decide_and_queue(command)
            if isinstance(decided, ExecutionResult):
                return decided
            if not decided.grouped:
                return self.complete(decided)  # committed before it is sent, under the lock
        return self.complete(decided)

    def execute_in(
        self, batch: OrderBatch, command: ExecuteOrder
    ) -> ExecutionResult | DecidedOrder:
        """Decide an order as part of `batch`: its answer comes from `batch.outcome` once the
        batch is finished (`finish`). A remote broker's order is committed and sent now."""
        with self.lock:
            decided = self._decide_and_queue(command, decided_on=True)
            if isinstance(decided, ExecutionResult):
                return decided
            if not decided.grouped:
                return self.complete(decided)
            batch.steps += self._deferred  # the fills it was decided on come first
            self._deferred = []
            batch.steps.append(decided)
            return decided

    def finish(self, batch: OrderBatch) -> None:
        """Make a batch durable (one transaction for whatever nobody committed yet), then
        report its orders and fills in the order they were decided; the answers are kept in
        `batch.outcomes`."""
        self.writes.flush()
        with self.lock:
            steps, batch.steps = batch.steps, []
            for step in steps:
                if isinstance(step, DeferredFill):
                    error = self._settle_fill(step)
                else:
                    try:
                        batch.outcomes[id(step)] = self.complete(step)
                        continue
                    except Exception as failed:
                        batch.outcomes[id(step)] = error = failed
                batch.failure = batch.failure or error

    def execute_queued(self, command: ExecuteOrder) -> ExecutionResult | DecidedOrder | None:
        """Decide an order as `execute_nowait` does, waiting for the lock (from a worker
        thread: the decision may read the store). None if the broker is remote."""
        if not getattr(self.broker, "in_process", False):
            return None
        with self.lock:
            return self._decide_and_queue(command)

    def execute_nowait(self, command: ExecuteOrder) -> ExecutionResult | DecidedOrder | None:
        """Decide an order without waiting: None if the lock is busy or the broker is remote.

        For an event loop: it never waits for the lock or the disk. A `DecidedOrder` is queued
        for the next group commit; once `decided.write` is done, `complete` gives the answer.
        """
        if not getattr(self.broker, "in_process", False) or not self.lock.acquire(blocking=False):
            return None
        try:
            return self._decide_and_queue(command)
        finally:
            self.lock.release()

    def _decide_and_queue(
        self, command: ExecuteOrder, *, decided_on: bool = False
    ) -> ExecutionResult | DecidedOrder:
        now = self.clock.now()
        client_order_id = command.client_order_id or generated_client_order_id(command, now)
        submit = SubmitOrder(
            client_order_id=client_order_id,
            account=command.account,
            symbol=command.symbol,
            side=command.side,
            quantity=Quantity(command.quantity),
            price=Price.of(command.price),
            signal_id=command.signal_id,
            strategy_id=command.strategy_id,
        )
        order_id = order_id_for(command.account, client_order_id)
        if order_id in self._queued:
            self.writes.flush()  # a concurrent retry: let the first one land, then answer
        synced = self._sync()
        if order_id in self._queued or (
            self.book.watch.order_exists(order_id) if synced else self.app.exists(order_id)
        ):
            return ExecutionResult(self.app.original_order(order_id, submit), created=False)
        order = Order.submit(submit, self.app.instruments(command.symbol), now)
        decision = self.decide(order, synced=synced)
        if not decision.approved:
            order.deny(decision.reason_code, decision.reason, now)
        in_process = decision.approved and bool(getattr(self.broker, "in_process", False))
        if in_process:
            # The venue lives and dies with this process: let it acknowledge first, then
            # commit the submission and the acknowledgement together (one disk flush).
            self._send_in_memory(order)
        audit = self._audit(
            command.actor,
            "ORDER_EXECUTED",
            order.id,
            order_details(order),
            "SUCCESS" if decision.approved else "REJECTED",
            decision.reason,
        )
        # The book counts the order at once, so the next decision sees it before it is durable.
        self.book.refresh(order)
        passed = self.book.note_passed(order) if decision.approved else None
        self._queued.add(order.id)
        write = self.writes.enqueue(order, audit, decided_on=decided_on)
        grouped = in_process or not decision.approved
        if in_process:
            self.app.hold(order)  # its fills, booked before it is stored, find this copy
        reported = copy.copy(order) if grouped else order
        return DecidedOrder(submit, order, audit, decision, grouped, write, passed, reported)

    def complete(self, decided: DecidedOrder) -> ExecutionResult:
        """Wait until a decided order is durable, then report it and return the answer."""
        order, decision = decided.order, decided.decision
        try:
            self.writes.wait(decided.write)
        except Exception as error:
            with self.lock:
                self._queued.discard(order.id)
                self.app.forget(order.id)
                self.book.forget(order, decided.passed)
                if decided.grouped and decision.approved:
                    self._discard(order)
                if not isinstance(error, ConcurrencyConflict):
                    raise
                # Another process stored this client order id first: answer with its order.
                return ExecutionResult(
                    self.app.original_order(order.id, decided.submit), created=False
                )
        self.book.watch.known_orders.add(order.id.int)  # before it leaves the queue: a retry
        self._queued.discard(order.id)  # between the two must find it in one or the other
        self.observer.audited(decided.audit)
        if not decision.approved:
            self.observer.order_denied(decided.reported)
            return ExecutionResult(order, created=True, decision=decision)
        if not decided.grouped:
            self._send(order)
            return ExecutionResult(self.app.load(Order, order.id), created=True, decision=decision)
        if decided.reported.status is OrderStatus.REJECTED:
            self.observer.order_rejected(decided.reported)
        else:
            self.observer.order_sent(decided.reported)
        return ExecutionResult(order, created=True, decision=decision)

    def _send_in_memory(self, order: Order) -> None:
        """Send to an in-process venue; its acknowledgement changes `order` without a write."""
        self._sending = order
        try:
            self.broker.send(broker_order_of(order))
        except Exception as error:
            if order.status is OrderStatus.SUBMITTED:
                order.reject(
                    "BROKER_ERROR", f"the broker refused to send: {error}", self.clock.now()
                )
        finally:
            self._sending = None

    def _discard(self, order: Order) -> None:
        """Withdraw an order from an in-process venue after its submission failed to commit."""
        self._discarded.add(order.id)
        try:
            self.broker.cancel(order.id)
        finally:
            self._discarded.discard(order.id)

    def _send(self, order: Order) -> None:
        try:
            self.broker.send(broker_order_of(order))
        except Exception as error:  # the venue never saw it: say so on the order
            self.on_order_rejected(order.id, "BROKER_ERROR", f"the broker refused to send: {error}")
            return
        self.observer.order_sent(order)

    def decide(self, order: Order, *, synced: bool | None = None) -> RiskDecision:
        """Run the pre-trade checks on a submitted order; unreadable state denies it."""
        context = self.risk_context(order, synced=synced)
        return evaluate(context, self.settings.limits, self.settings.calendar)

    def _sync(self) -> bool:
        """Bring the in-memory risk state up to date with the store; False if unreadable."""
        watch = self.book.watch
        try:
            watch.sync(self.app)
            if watch.limits_changed:  # another process changed them: theirs are in force
                self.apply_stored_limits()
                watch.limits_changed = False
        except Exception:
            return False
        return True

    def risk_context(self, order: Order, *, synced: bool | None = None) -> RiskContext:
        """Gather what the checks need; None where the store could not be read (fail closed)."""
        if synced is None:
            synced = self._sync()
        now = self.clock.now()
        book = self.book
        intent = OrderIntent(
            order.account,
            order.symbol,
            order.side,
            order.quantity,
            order.price,
            self.app.instruments(order.symbol).point_value,
            order.signal_id,
        )
        engaged: bool | None = None  # fail closed: the checks deny on None
        net: int | None = None
        daily: Decimal | None = None
        if synced:
            with suppress(Exception):
                engaged = book.watch.kill_switch_of(self.app).engaged
            try:
                book.symbols[order.account].add(order.symbol)
                net = book.watch.position(self.app, order.account, order.symbol).net_quantity
                daily = book.daily_pnl(
                    self.app, order.account, self.settings.calendar.session_start(now)
                )
            except Exception:
                net, daily = None, None
        try:
            connected: bool | None = bool(self.broker.is_connected)
        except Exception:
            connected = None
        return RiskContext(
            now=now,
            intent=intent,
            kill_switch_engaged=engaged,
            broker_connected=connected,
            last_price=book.last_price(order.symbol),
            last_trade_at=book.last_trade_at(order.symbol),
            net_position=net,
            open_buy_quantity=book.open_quantity(order.account, order.symbol, Side.BUY),
            open_sell_quantity=book.open_quantity(order.account, order.symbol, Side.SELL),
            daily_pnl=daily,
            recent_orders=book.recent_orders(order.account, now - self._recent_horizon()),
        )

    def _recent_horizon(self) -> timedelta:
        limits = self.settings.limits
        return max(limits.throttle_window, limits.duplicate_window)

    def cancel(self, order_id: uuid.UUID, actor: str, account: str | None) -> CancelResult:
        """Ask the broker to cancel an open order of `account` (None: any account)."""
        with self.lock:
            order = self.find_order(order_id, account)
            if not order.is_open:
                raise OrderNotCancelable(
                    f"order {order_id} is {order.status}: only open orders can be canceled"
                )
            audit = self._audit(
                actor, "ORDER_CANCEL_REQUESTED", order.id, order_details(order), "SUCCESS", ""
            )
            self.app.store(audit)
            self.observer.audited(audit)
            self._request_cancel(order, f"canceled by {actor}")
            return CancelResult(self.app.load(Order, order_id))

    def order_known(self, order_id: uuid.UUID) -> bool:
        """Whether an order may exist, without committing what is queued (`find_order` does):
        True for one queued, known to risk's view, cached or stored; False only if none is."""
        if order_id in self._queued:
            return True
        with self.lock:
            if self._sync():  # risk's view is then as complete as the store (no query)
                return self.book.watch.order_exists(order_id)
        try:
            return self.app.exists(order_id)
        except Exception:
            return True  # unreadable: let find_order say

    def net_position(self, account: str, symbol: Symbol) -> int:
        """The net position of an account in a symbol, as risk sees it (the store's, with
        the fills booked in memory before their write)."""
        with self.lock:
            if self._sync():
                return self.book.watch.position(self.app, account, symbol).net_quantity
            return self.app.position(account, symbol).net_quantity

    def find_order(self, order_id: uuid.UUID, account: str | None) -> Order:
        """Return an order if `account` may see it; others' orders look missing (no leak)."""
        self.writes.flush()
        try:
            order = self.app.load(Order, order_id)
        except AggregateMissing:
            raise OrderNotFound(f"no order {order_id}") from None
        if account is not None and order.account != account:
            raise OrderNotFound(f"no order {order_id}")
        return order
