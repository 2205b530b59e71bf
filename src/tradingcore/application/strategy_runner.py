"""Runs a strategy: its events in, its commands through pre-trade risk and the order manager."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

from tradingcore.application.order_commands import ExecuteOrder
from tradingcore.application.order_manager import OrderManager
from tradingcore.domain.book import BookTop
from tradingcore.domain.errors import DomainError
from tradingcore.domain.order import TERMINAL, Order, OrderStatus, order_id_for
from tradingcore.domain.signal import Signal
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import MARKET_PRICE_MARKER, Side, Symbol
from tradingcore.ports.broker import Broker, BrokerListener, BrokerOrder
from tradingcore.strategy.api import (
    Commands,
    OrderExecuted,
    OrderUpdated,
    ReplaceOrder,
    SendOrder,
    SignalSeen,
    Strategy,
    StrategyView,
    WithdrawOrder,
)
from tradingcore.strategy.book import StrategyBook

MAX_REACTIONS: Final = 10_000
"""Strategy calls one event may chain (a fill answered by an order answered by...)."""
_EPOCH_MS: Final = timedelta(milliseconds=1)


class StrategyError(DomainError):
    """A strategy broke the API's rules (a tag used twice, an endless chain of reactions)."""


class ReportingBroker:
    """A Broker in front of another: the order manager hears each report first, then the
    subscribers (strategy runners), so they see the order as stored."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.in_process = bool(getattr(inner, "in_process", False))
        self.listener: BrokerListener | None = None
        self.subscribers: list[BrokerListener] = []

    def connect(self, listener: BrokerListener) -> None:
        self.listener = listener
        self.inner.connect(self)

    @property
    def is_connected(self) -> bool:
        return self.inner.is_connected

    def send(self, order: BrokerOrder) -> None:
        self.inner.send(order)

    def cancel(self, order_id: uuid.UUID) -> None:
        self.inner.cancel(order_id)

    def _first(self) -> BrokerListener:
        if self.listener is None:
            raise RuntimeError("the reporting broker is not connected")
        return self.listener

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        self._first().on_order_accepted(order_id, venue_order_id)
        for subscriber in self.subscribers:
            subscriber.on_order_accepted(order_id, venue_order_id)

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        self._first().on_order_rejected(order_id, reason_code, reason)
        for subscriber in self.subscribers:
            subscriber.on_order_rejected(order_id, reason_code, reason)

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        self._first().on_order_filled(order_id, trade_id, price, quantity)
        for subscriber in self.subscribers:
            subscriber.on_order_filled(order_id, trade_id, price, quantity)

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        self._first().on_order_canceled(order_id, reason)
        for subscriber in self.subscribers:
            subscriber.on_order_canceled(order_id, reason)


class StrategyRunner:
    """Feeds one strategy and routes what it asks through the order manager, naming it.

    Reports about its orders are queued and handed to the strategy after the call that caused
    them returns, so a strategy never re-enters the order manager from inside it.
    """

    def __init__(
        self,
        strategy: Strategy,
        orders: OrderManager,
        reports: ReportingBroker,
        *,
        account: str,
    ) -> None:
        self.strategy = strategy
        self.orders = orders
        self.account = account
        self.clock = orders.app.clock
        self.book = StrategyBook(self.clock)
        self.actor = f"strategy:{strategy.strategy_id}"
        self.sent: list[uuid.UUID] = []
        """Every order id this strategy sent, in order."""
        self.denied = 0
        """How many of them the pre-trade risk checks denied."""
        self.denied_by_reason: Counter[str] = Counter()
        """The denials by the risk check's reason code (MAX_POSITION, ...)."""
        self._tags: dict[uuid.UUID, tuple[str, Symbol, Side]] = {}
        self._ids: dict[str, uuid.UUID] = {}
        self._queue: deque[tuple[Callable[[Any, StrategyView], Commands], Any]] = deque()
        self._stamp = (-1, 0)
        reports.subscribers.append(self)

    # What the strategy is shown ---------------------------------------------------------

    def trade(self, trade: Trade) -> None:
        commands = self.strategy.on_trade(trade, self.book)
        if commands:
            self._run(commands)
        if self._queue:
            self.drain()

    def book_top(self, book: BookTop) -> None:
        self._queue.append((self.strategy.on_book, book))
        self.drain()

    def signal(self, signal: SignalSeen) -> None:
        self._queue.append((self.strategy.on_signal, signal))
        self.drain()

    def apply(self, commands: Commands) -> None:
        """Route commands the strategy gave outside an event (the columnar path's decisions)."""
        if commands:
            self._run(commands)
        self.drain()

    def owner_of(self, order_id: uuid.UUID) -> tuple[Symbol, Side] | None:
        """Return the symbol and side of one of this strategy's orders (None: not its own)."""
        known = self._tags.get(order_id)
        return None if known is None else (known[1], known[2])

    def timer(self) -> None:
        self._run(self.strategy.on_timer(self.book))
        self.drain()

    def drain(self) -> None:
        """Hand queued reports to the strategy and route its answers, until none is left."""
        reactions = 0
        while self._queue:
            reactions += 1
            if reactions > MAX_REACTIONS:
                self._queue.clear()
                raise StrategyError(
                    f"strategy {self.strategy.strategy_id} reacted {MAX_REACTIONS} times to "
                    "one event: an endless chain of orders and reports"
                )
            handler, event = self._queue.popleft()
            commands = handler(event, self.book)
            if commands:
                self._run(commands)

    # Its commands -----------------------------------------------------------------------

    def _run(self, commands: Commands) -> None:
        for command in commands:
            if isinstance(command, SendOrder):
                self._send(command)
            elif isinstance(command, WithdrawOrder):
                self._withdraw(command.tag)
            else:
                self._replace(command)

    def _next_tag(self) -> str:
        now_ms = (self.clock.now().timestamp() * 1000).__floor__()
        last, count = self._stamp
        self._stamp = (now_ms, count + 1 if now_ms == last else 0)
        return f"{now_ms}-{self._stamp[1]}"

    def _send(self, command: SendOrder) -> None:
        tag = command.tag or self._next_tag()
        if tag in self._ids:
            raise StrategyError(
                f"strategy {self.strategy.strategy_id} sent two orders tagged {tag!r}"
            )
        client_order_id = f"{self.strategy.strategy_id}/{tag}"
        order_id = order_id_for(self.account, client_order_id)
        self._ids[tag] = order_id
        self._tags[order_id] = (tag, command.symbol, command.side)
        self.book.sent(tag, command)
        self.sent.append(order_id)
        price = MARKET_PRICE_MARKER if command.price is None else command.price
        try:
            result = self.orders.execute(
                ExecuteOrder(
                    actor=self.actor,
                    account=self.account,
                    symbol=command.symbol,
                    side=command.side,
                    quantity=command.quantity,
                    price=price,
                    client_order_id=client_order_id,
                    signal_id=command.signal_id,
                    strategy_id=self.strategy.strategy_id,
                )
            )
        except DomainError as error:  # e.g. a price off the tick grid: nothing was stored
            self._update(order_id, OrderStatus.REJECTED, 0, command.quantity, str(error))
            return
        order = result.order
        if order.status in (OrderStatus.DENIED, OrderStatus.REJECTED) or (
            not result.created and order.status in TERMINAL
        ):
            self._update_from(order)

    def _withdraw(self, tag: str) -> None:
        order_id = self._ids.get(tag)
        if order_id is None or self.book.get(tag) is None:
            return  # unknown or already done: nothing to cancel
        self.orders.cancel(order_id, self.actor, self.account)

    def _replace(self, command: ReplaceOrder) -> None:
        working = self.book.get(command.tag)
        if working is None:
            return
        self._withdraw(command.tag)
        quantity = command.quantity or working.quantity - working.filled
        price = command.price if command.price is not None else working.price
        self._send(SendOrder(working.symbol, working.side, quantity, price, tag=f"{command.tag}~"))

    # Reports about its orders (after the order manager stored them) ---------------------

    def _update_from(self, order: Order) -> None:
        if order.status is OrderStatus.DENIED and order.id in self._tags:
            self.denied_by_reason[order.reason_code or "UNKNOWN"] += 1
        self._update(order.id, order.status, order.filled_quantity, order.remaining, order.reason)

    def _update(
        self, order_id: uuid.UUID, status: OrderStatus, filled: int, remaining: int, reason: str
    ) -> None:
        known = self._tags.get(order_id)
        if known is None:
            return
        tag, symbol, side = known
        update = OrderUpdated(tag, order_id, symbol, side, status, filled, remaining, reason)
        if status is OrderStatus.DENIED:
            self.denied += 1
        self.book.updated(update)
        self._queue.append((self.strategy.on_order, update))

    def on_order_accepted(self, order_id: uuid.UUID, venue_order_id: str) -> None:
        self._report(order_id, OrderStatus.ACCEPTED, "")

    def on_order_rejected(self, order_id: uuid.UUID, reason_code: str, reason: str) -> None:
        self._report(order_id, OrderStatus.REJECTED, f"{reason_code}: {reason}")

    def on_order_canceled(self, order_id: uuid.UUID, reason: str) -> None:
        self._report(order_id, OrderStatus.CANCELED, reason)

    def _report(self, order_id: uuid.UUID, status: OrderStatus, reason: str) -> None:
        known = self._tags.get(order_id)
        working = None if known is None else self.book.get(known[0])
        if working is None:
            return  # not ours, or already done (a late cancel of a filled order)
        remaining = working.quantity - working.filled
        self._update(order_id, status, working.filled, remaining, reason)

    def on_order_filled(
        self, order_id: uuid.UUID, trade_id: int, price: Decimal, quantity: int
    ) -> None:
        known = self._tags.get(order_id)
        if known is None:
            return
        tag, symbol, side = known
        fill = OrderExecuted(tag, order_id, symbol, side, quantity, price, trade_id)
        self.book.executed(fill)
        self._queue.append((self.strategy.on_fill, fill))


def signal_seen(signal: Signal) -> SignalSeen:
    """A stored signal as a strategy sees it."""
    return SignalSeen(
        signal.symbol,
        signal.direction,
        signal.confidence,
        signal.price,
        signal.tick_trade_id,
        signal.tick_timestamp_ms,
        signal.id,
        signal.model_version,
        dict(signal.features),
    )
