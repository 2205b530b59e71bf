"""The order manager: load, check risk, decide, save, then send; broker reports update orders.

Every command runs under one lock, so two requests with the same client order id (or an order
and the fill of another) never interleave; the broker calls back into it from any thread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradingcore.application.errors import (
    AggregateMissing,
    ConcurrencyConflict,
    IdempotencyConflict,
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
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.errors import InvalidOrderTransition
from tradingcore.domain.kill_switch import KillSwitch, kill_switch_id_for
from tradingcore.domain.order import Order, OrderStatus, order_id_for
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Price, Quantity, Side
from tradingcore.ports.broker import Broker, BrokerOrder
from tradingcore.ports.clock import Clock
from tradingcore.ports.order_observer import NullObserver, OrderObserver
from tradingcore.risk.calendar import SessionCalendar
from tradingcore.risk.checks import OrderIntent, RiskContext, RiskDecision, evaluate
from tradingcore.risk.limits import RiskLimits

SYSTEM_ACTOR = "OrderManager"


@dataclass
class RiskSettings:
    limits: RiskLimits
    calendar: SessionCalendar


class OrderManager:
    """Pre-trade risk, order routing, broker reports and the kill switch over one store."""

    def __init__(
        self,
        app: TradingApplication,
        broker: Broker,
        *,
        limits: RiskLimits | None = None,
        calendar: SessionCalendar | None = None,
        observer: OrderObserver | None = None,
    ) -> None:
        self.app = app
        self.broker = broker
        self.settings = RiskSettings(limits or RiskLimits(), calendar or SessionCalendar())
        self.observer: OrderObserver = observer or NullObserver()
        self.book = RiskBook()
        self.lock = threading.RLock()

    @property
    def clock(self) -> Clock:
        return self.app.clock

    def start(self) -> int:
        """Rebuild the risk book from the store and connect the broker; return orders seen."""
        with self.lock:
            seen = self.book.rebuild(self.app)
        self.broker.connect(self)
        return seen

    def open_broker_orders(self) -> list[tuple[BrokerOrder, int]]:
        """Return the open orders as the broker saw them, with their unfilled quantity."""
        with self.lock:
            orders = [self.app.load(Order, order_id) for order_id in self.book.open_order_ids()]
            return [(_broker_order(order), order.remaining) for order in orders]

    # Commands ------------------------------------------------------------------------------

    def execute(self, command: ExecuteOrder) -> ExecutionResult:
        """Submit an order through the risk checks; a known client order id returns the original."""
        with self.lock:
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
            )
            order_id = order_id_for(command.account, client_order_id)
            if self.app.exists(order_id):
                return ExecutionResult(self._original(order_id, submit), created=False)
            order = Order.submit(submit, self.app.instruments(command.symbol), now)
            decision = self.decide(order)
            if not decision.approved:
                order.deny(decision.reason_code, decision.reason, now)
            audit = self._audit(
                command.actor,
                "ORDER_EXECUTED",
                order.id,
                _order_details(order),
                "SUCCESS" if decision.approved else "REJECTED",
                decision.reason,
            )
            try:
                self.app.store(order, audit)
            except ConcurrencyConflict:
                return ExecutionResult(self._original(order_id, submit), created=False)
            self.observer.audited(audit)
            self.book.refresh(order)
            if not decision.approved:
                self.observer.order_denied(order)
                return ExecutionResult(order, created=True, decision=decision)
            self.book.note_passed(order)
            self._send(order)
            return ExecutionResult(self.app.load(Order, order.id), created=True, decision=decision)

    def _original(self, order_id: uuid.UUID, submit: SubmitOrder) -> Order:
        order = self.app.load(Order, order_id)
        same = (order.symbol, order.side, order.quantity, order.price) == (
            submit.symbol,
            submit.side,
            submit.quantity.value,
            submit.price.value,
        )
        if not same:
            raise IdempotencyConflict(
                f"client order id {submit.client_order_id!r} was already used for a different "
                f"order ({order.side} {order.quantity} {order.symbol.ticker} @ {order.price})"
            )
        return order

    def _send(self, order: Order) -> None:
        try:
            self.broker.send(_broker_order(order))
        except Exception as error:  # the venue never saw it: say so on the order
            self.on_order_rejected(order.id, "BROKER_ERROR", f"the broker refused to send: {error}")
            return
        self.observer.order_sent(order)

    def decide(self, order: Order) -> RiskDecision:
        """Run the pre-trade checks on a submitted order; unreadable state denies it."""
        return evaluate(self.risk_context(order), self.settings.limits, self.settings.calendar)

    def risk_context(self, order: Order) -> RiskContext:
        now = self.clock.now()
        book = self.book
        intent = OrderIntent(
            order.account,
            order.symbol,
            order.side,
            order.quantity,
            order.price,
            self.app.instruments(order.symbol).point_value,
        )
        engaged: bool | None
        try:
            engaged = self.kill_switch().engaged
        except Exception:  # fail closed: the checks deny on None
            engaged = None
        net: int | None
        daily: Decimal | None
        try:
            book.symbols[order.account].add(order.symbol)
            net = self.app.position(order.account, order.symbol).net_quantity
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
            recent_orders=tuple(book.recent[order.account]),
        )

    def cancel(self, order_id: uuid.UUID, actor: str, account: str | None) -> CancelResult:
        """Ask the broker to cancel an open order of `account` (None: any account)."""
        with self.lock:
            order = self.find_order(order_id, account)
            if not order.is_open:
                raise OrderNotCancelable(
                    f"order {order_id} is {order.status}: only open orders can be canceled"
                )
            audit = self._audit(
                actor, "ORDER_CANCEL_REQUESTED", order.id, _order_details(order), "SUCCESS", ""
            )
            self.app.store(audit)
            self.observer.audited(audit)
            self._request_cancel(order, f"canceled by {actor}")
            return CancelResult(self.app.load(Order, order_id))

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
                _order_details(order),
                "FAILURE",
                str(error),
                step=order.version,
            )
            try:
                self.app.store(audit)
            except ConcurrencyConflict:
                return
            self.observer.audited(audit)

    def find_order(self, order_id: uuid.UUID, account: str | None) -> Order:
        """Return an order if `account` may see it; others' orders look missing (no leak)."""
        try:
            order = self.app.load(Order, order_id)
        except AggregateMissing:
            raise OrderNotFound(f"no order {order_id}") from None
        if account is not None and order.account != account:
            raise OrderNotFound(f"no order {order_id}")
        return order

    # Kill switch ---------------------------------------------------------------------------

    def kill_switch(self) -> KillSwitch:
        switch_id = kill_switch_id_for()
        try:
            return self.app.load(KillSwitch, switch_id)
        except AggregateMissing:
            return KillSwitch.new()

    def engage_kill_switch(self, actor: str, reason: str) -> KillSwitch:
        """Stop new orders and cancel every open one; engaging twice changes nothing."""
        with self.lock:
            switch = self.kill_switch()
            if switch.engage(actor, reason, self.clock.now()) is not None:
                self._store_switch(switch, actor, "KILL_SWITCH_ENGAGED", reason)
            for order_id in self.book.open_order_ids():
                self._request_cancel(self.app.load(Order, order_id), f"kill switch: {reason}")
            return switch

    def release_kill_switch(self, actor: str, reason: str) -> KillSwitch:
        """Let trading resume (the host lets only admins call this)."""
        with self.lock:
            switch = self.kill_switch()
            if switch.release(actor, reason, self.clock.now()) is not None:
                self._store_switch(switch, actor, "KILL_SWITCH_RELEASED", reason)
            return switch

    def _store_switch(self, switch: KillSwitch, actor: str, action: str, reason: str) -> None:
        audit = self._audit(
            actor, action, switch.id, {"engaged": switch.engaged}, "SUCCESS", reason, switch.version
        )
        self.app.store(switch, audit)
        self.observer.audited(audit)
        self.observer.kill_switch_changed(switch)

    # Limits --------------------------------------------------------------------------------

    def change_limits(self, actor: str, changes: dict[str, Any]) -> RiskLimits:
        """Apply limit changes (the host lets only admins call this); audited, not persisted:
        a restart takes the limits from the configuration again."""
        with self.lock:
            before = self.settings.limits
            after = before.updated(changes)
            now = self.clock.now()
            audit = AuditEntry.record(
                entry_id=audit_id_for("RISK_LIMITS_CHANGED", f"{actor}@{now.isoformat()}"),
                actor=actor,
                action="RISK_LIMITS_CHANGED",
                details={"before": before.to_plain(), "after": after.to_plain()},
                result="SUCCESS",
                reason="",
                at=now,
            )
            self.app.store(audit)
            self.settings.limits = after
            self.observer.audited(audit)
            return after

    # Broker reports (BrokerListener) -------------------------------------------------------

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        with self._report(order_id) as order:
            if order.status is OrderStatus.SUBMITTED:
                order.accept(venue_order_id, self.clock.now())
                self.app.store(order)

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        with self._report(order_id) as order:
            if order.status is OrderStatus.SUBMITTED:
                order.reject(reason_code, reason, self.clock.now())
                self.app.store(order)
                self.observer.order_rejected(order)

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        with self.lock:
            order, position = self.app.fill_order(order_id, trade_id, price, quantity)
            self.book.refresh(order)
            self.observer.order_filled(order, position)

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        with self._report(order_id) as order:
            if order.is_open:
                order.cancel(reason, self.clock.now())
                self.app.store(order)
                self.observer.order_canceled(order)

    @contextmanager
    def _report(self, order_id: uuid.UUID) -> Iterator[Order]:
        with self.lock:
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

    # Audit ---------------------------------------------------------------------------------

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


def _broker_order(order: Order) -> BrokerOrder:
    return BrokerOrder(
        order.id, order.account, order.symbol, order.side, order.quantity, order.price
    )


def _order_details(order: Order) -> dict[str, Any]:
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
    }
