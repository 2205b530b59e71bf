"""The Order aggregate: an explicit status transition table and exact fills."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.errors import (
    ConflictingFill,
    InvalidFillPrice,
    InvalidOrderTransition,
    InvalidSymbol,
    OverFill,
)
from tradingcore.domain.instruments import Instrument
from tradingcore.domain.money import EXACT, Money, divide_half_even
from tradingcore.domain.values import (
    MARKET_PRICE_MARKER,
    Price,
    Side,
    Symbol,
    SymbolKind,
    deterministic_id,
)


class OrderStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    DENIED = "DENIED"
    REJECTED = "REJECTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"


TERMINAL: Final = frozenset(
    {OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.FILLED, OrderStatus.CANCELED}
)
OPEN: Final = frozenset({OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})

_FILL: Final = "FILL"
"""Marker: the status after a fill depends on the remaining quantity."""

TRANSITIONS: Final[dict[tuple[OrderStatus, str], OrderStatus | str]] = {
    (OrderStatus.SUBMITTED, "OrderDenied"): OrderStatus.DENIED,
    (OrderStatus.SUBMITTED, "OrderAccepted"): OrderStatus.ACCEPTED,
    (OrderStatus.SUBMITTED, "OrderRejected"): OrderStatus.REJECTED,
    # The cancel can be processed before the venue's acknowledgement reaches us.
    (OrderStatus.SUBMITTED, "OrderCanceled"): OrderStatus.CANCELED,
    # The venue may report a fill before its acknowledgement reaches us.
    (OrderStatus.SUBMITTED, "OrderFilled"): _FILL,
    (OrderStatus.ACCEPTED, "OrderFilled"): _FILL,
    (OrderStatus.ACCEPTED, "OrderCanceled"): OrderStatus.CANCELED,
    (OrderStatus.PARTIALLY_FILLED, "OrderFilled"): _FILL,
    (OrderStatus.PARTIALLY_FILLED, "OrderCanceled"): OrderStatus.CANCELED,
    # The venue may fill after acknowledging our cancel: the fill is real money and is booked,
    # the order stays canceled.
    (OrderStatus.CANCELED, "OrderFilled"): OrderStatus.CANCELED,
}


def transition(status: OrderStatus, event_name: str, remaining_after: int) -> OrderStatus:
    """Return the status after an event, or raise InvalidOrderTransition."""
    target = TRANSITIONS.get((status, event_name))
    if target is None:
        raise InvalidOrderTransition(
            f"invalid order transition: {event_name} is not allowed when the order is {status}"
        )
    if target == _FILL:
        return OrderStatus.FILLED if remaining_after == 0 else OrderStatus.PARTIALLY_FILLED
    return OrderStatus(target)


def order_id_for(account: str, client_order_id: str) -> uuid.UUID:
    """Return the deterministic order id for a client order id: retries find the same order."""
    return deterministic_id("order", account, client_order_id)


@dataclass(frozen=True, kw_only=True)
class OrderEvent(DomainEvent):
    def apply(self, aggregate: Order) -> None:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class OrderSubmitted(OrderEvent):
    client_order_id: str
    account: str
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal
    signal_id: uuid.UUID | None
    """The signal that caused this order, if a strategy sent it."""
    strategy_id: str | None = None
    """The strategy that sent it (None: a person or the API). Version 1 events lack it."""

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        state["strategy_id"] = None

    def apply(self, aggregate: Order) -> None:
        aggregate.client_order_id = self.client_order_id
        aggregate.account = self.account
        aggregate.symbol = self.symbol
        aggregate.side = self.side
        aggregate.quantity = self.quantity
        aggregate.price = self.price
        aggregate.signal_id = self.signal_id
        aggregate.strategy_id = self.strategy_id
        aggregate.status = OrderStatus.SUBMITTED
        aggregate.submitted_at = self.timestamp


@dataclass(frozen=True, kw_only=True)
class OrderDenied(OrderEvent):
    """Refused by our own pre-trade risk checks; it never reached the venue."""

    reason_code: str
    reason: str

    def apply(self, aggregate: Order) -> None:
        aggregate.status = transition(aggregate.status, "OrderDenied", aggregate.remaining)
        aggregate.reason_code = self.reason_code
        aggregate.reason = self.reason


@dataclass(frozen=True, kw_only=True)
class OrderAccepted(OrderEvent):
    venue_order_id: str

    def apply(self, aggregate: Order) -> None:
        aggregate.status = transition(aggregate.status, "OrderAccepted", aggregate.remaining)
        aggregate.venue_order_id = self.venue_order_id


@dataclass(frozen=True, kw_only=True)
class OrderRejected(OrderEvent):
    """Refused by the venue or the broker."""

    reason_code: str
    reason: str

    def apply(self, aggregate: Order) -> None:
        aggregate.status = transition(aggregate.status, "OrderRejected", aggregate.remaining)
        aggregate.reason_code = self.reason_code
        aggregate.reason = self.reason


@dataclass(frozen=True, kw_only=True)
class OrderFilled(OrderEvent):
    class_version: ClassVar[int] = 2

    trade_id: int
    """The venue's trade id (for the paper broker: the tape trade it filled against)."""
    side: Side
    price: Decimal
    quantity: int
    fees: Money
    """Exchange and broker fees of this fill (zero in events stored before version 2)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["fees"] = Money.zero()

    def apply(self, aggregate: Order) -> None:
        remaining = aggregate.remaining - self.quantity
        aggregate.status = transition(aggregate.status, "OrderFilled", remaining)
        aggregate.filled_quantity += self.quantity
        aggregate.filled_notional = EXACT.add(
            aggregate.filled_notional, EXACT.multiply(self.price, Decimal(self.quantity))
        )
        aggregate.fees_paid = EXACT.add(aggregate.fees_paid, self.fees.amount)
        aggregate.trade_ids = (*aggregate.trade_ids, self.trade_id)
        aggregate.fills[self.trade_id] = (self.price, self.quantity)


@dataclass(frozen=True, kw_only=True)
class OrderCanceled(OrderEvent):
    reason: str

    def apply(self, aggregate: Order) -> None:
        aggregate.status = transition(aggregate.status, "OrderCanceled", aggregate.remaining)
        aggregate.reason = self.reason


class Order(AggregateRoot[OrderEvent]):
    """An order's life from submission to a terminal status."""

    def _reset(self) -> None:
        self.client_order_id = ""
        self.account = ""
        self.symbol = Symbol("WINZ25")
        self.side = Side.BUY
        self.quantity = 0
        self.price = Decimal(0)
        self.signal_id: uuid.UUID | None = None
        self.strategy_id: str | None = None
        self.status = OrderStatus.SUBMITTED
        self.submitted_at: datetime | None = None
        self.venue_order_id = ""
        self.filled_quantity = 0
        self.filled_notional = Decimal(0)
        self.fees_paid = Decimal(0)
        self.trade_ids: tuple[int, ...] = ()
        self.fills: dict[int, tuple[Decimal, int]] = {}
        self.reason_code = ""
        self.reason = ""

    @classmethod
    def submit(cls, command: SubmitOrder, instrument: Instrument, at: datetime) -> Order:
        """Create an order from a command, checking symbol, tick grid and lot."""
        if command.symbol.kind is SymbolKind.GENERIC_FUTURE:
            raise InvalidSymbol(
                f"invalid symbol {command.symbol.ticker!r} for an order: generic futures "
                "aliases are market data only; name the contract, e.g. WINZ25"
            )
        instrument.check_price(command.price)
        instrument.check_quantity(command.quantity)
        order = cls.__new__(cls)
        AggregateRoot.__init__(order, order_id_for(command.account, command.client_order_id))
        order._reset()
        order._trigger(
            OrderSubmitted,
            at,
            client_order_id=command.client_order_id,
            account=command.account,
            symbol=command.symbol,
            side=command.side,
            quantity=command.quantity.value,
            price=command.price.value,
            signal_id=command.signal_id,
            strategy_id=command.strategy_id,
        )
        return order

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled_quantity

    @property
    def average_fill_price(self) -> Decimal:
        """Return the average fill price rounded half-even to 10 decimals (0 before a fill)."""
        return average_fill_price(self.filled_notional, self.filled_quantity)

    @property
    def fees(self) -> Money:
        return Money(self.fees_paid)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def is_market(self) -> bool:
        return Price(self.price).is_market

    def deny(self, reason_code: str, reason: str, at: datetime) -> OrderDenied:
        return self._trigger(OrderDenied, at, reason_code=reason_code, reason=reason)

    def accept(self, venue_order_id: str, at: datetime) -> OrderAccepted:
        return self._trigger(OrderAccepted, at, venue_order_id=venue_order_id)

    def reject(self, reason_code: str, reason: str, at: datetime) -> OrderRejected:
        return self._trigger(OrderRejected, at, reason_code=reason_code, reason=reason)

    def fill(
        self,
        trade_id: int,
        price: Decimal,
        quantity: int,
        at: datetime,
        *,
        fees: Money | None = None,
        instrument: Instrument | None = None,
    ) -> OrderFilled | None:
        """Apply an execution; the same trade id with the same price and quantity again is
        ignored and returns None. `instrument`, when given, checks the price's tick grid."""
        if not self.check_fill(trade_id, price, quantity, instrument):
            return None
        return self._trigger(
            OrderFilled,
            at,
            trade_id=trade_id,
            side=self.side,
            price=price,
            quantity=quantity,
            fees=Money.zero() if fees is None else fees,
        )

    def check_fill(
        self, trade_id: int, price: Decimal, quantity: int, instrument: Instrument | None = None
    ) -> bool:
        """Return True if the fill is new and valid, False if it repeats a booked one; raise
        a domain error if it cannot be booked."""
        booked = self.fills.get(trade_id)
        if booked is not None:
            if booked == (price, quantity):
                return False
            raise ConflictingFill(
                f"conflicting fill of trade {trade_id} on order {self.id}: booked as "
                f"{booked[1]} @ {booked[0]}, now reported as {quantity!r} @ {price!r}"
            )
        transition(self.status, "OrderFilled", self.remaining)  # a terminal order takes no fill
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise OverFill(f"invalid fill quantity {quantity!r} for order {self.id}: must be > 0")
        if quantity > self.remaining:
            raise OverFill(
                f"fill of {quantity} exceeds the remaining {self.remaining} of order {self.id}"
            )
        self.check_fill_price(price, instrument)
        return True

    def check_fill_price(self, price: Decimal, instrument: Instrument | None = None) -> None:
        """Raise InvalidFillPrice unless the price is positive, on the grid and within the
        order's limit (a buy fills at or below it, a sell at or above it)."""
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            marker = " (the market-order marker)" if price == Decimal(-1) else ""
            raise InvalidFillPrice(
                f"invalid fill price {price!r}{marker} for order {self.id}: must be a Decimal > 0"
            )
        if instrument is not None and not instrument.on_grid(price):
            raise InvalidFillPrice(
                f"invalid fill price {price} for {self.symbol.ticker}: "
                f"not a multiple of tick {instrument.tick_size}"
            )
        if self.price == MARKET_PRICE_MARKER:
            return
        if self.side is Side.BUY and price > self.price:
            raise InvalidFillPrice(
                f"invalid fill price {price} for order {self.id}: a buy limited to "
                f"{self.price} cannot fill above its limit"
            )
        if self.side is Side.SELL and price < self.price:
            raise InvalidFillPrice(
                f"invalid fill price {price} for order {self.id}: a sell limited to "
                f"{self.price} cannot fill below its limit"
            )

    def cancel(self, reason: str, at: datetime) -> OrderCanceled:
        return self._trigger(OrderCanceled, at, reason=reason)


def average_fill_price(notional: Decimal, quantity: int) -> Decimal:
    """Return notional / quantity rounded half-even to 10 decimals (0 for no quantity)."""
    if quantity == 0:
        return Decimal(0)
    top, bottom = notional.as_integer_ratio()
    scaled = divide_half_even(top * 10**10, bottom * quantity)
    return Decimal(scaled).scaleb(-10, EXACT)
