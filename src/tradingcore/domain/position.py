"""The Position aggregate: net quantity, average price and P&L booked from fills."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import InvalidPositionFill
from tradingcore.domain.instruments import Instrument
from tradingcore.domain.values import Side, Symbol, deterministic_id


def position_id_for(account: str, symbol: Symbol) -> uuid.UUID:
    return deterministic_id("position", account, symbol.full_symbol)


@dataclass(frozen=True, kw_only=True)
class PositionEvent(DomainEvent):
    """A fill (or the part of a fill) applied to a position, and the state after it."""

    account: str
    symbol: Symbol
    order_id: uuid.UUID
    """The order whose fill caused this change."""
    trade_id: int
    side: Side
    quantity: int
    price: Decimal
    net_quantity: int
    average_price: Decimal
    realized_pnl: Decimal
    """Money realized by this event (zero unless it closes quantity)."""
    point_value: Decimal

    def apply(self, aggregate: Position) -> None:
        aggregate.account = self.account
        aggregate.symbol = self.symbol
        aggregate.point_value = self.point_value
        aggregate.net_quantity = self.net_quantity
        aggregate.average_price = self.average_price
        aggregate.realized_pnl += self.realized_pnl
        if self.side is Side.BUY:
            aggregate.bought += self.quantity
        else:
            aggregate.sold += self.quantity
        aggregate.applied_fills.add(_fill_key(self.order_id, self.trade_id))


@dataclass(frozen=True, kw_only=True)
class PositionOpened(PositionEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class PositionChanged(PositionEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class PositionClosed(PositionEvent):
    pass


def _fill_key(order_id: uuid.UUID, trade_id: int) -> str:
    return f"{order_id}:{trade_id}"


class Position(AggregateRoot[PositionEvent]):
    """Net position of one account in one symbol, on the average-cost method."""

    def _reset(self) -> None:
        self.account = ""
        self.symbol = Symbol("WINZ25")
        self.point_value = Decimal(1)
        self.net_quantity = 0
        self.average_price = Decimal(0)
        self.realized_pnl = Decimal(0)
        self.bought = 0
        self.sold = 0
        self.applied_fills: set[str] = set()

    @classmethod
    def open_for(cls, account: str, instrument: Instrument) -> Position:
        """Return a flat, never-traded position (it has no events until its first fill)."""
        position = cls.__new__(cls)
        AggregateRoot.__init__(position, position_id_for(account, instrument.symbol))
        position._reset()
        position.account = account
        position.symbol = instrument.symbol
        position.point_value = instrument.point_value
        return position

    def has_applied(self, order_id: uuid.UUID, trade_id: int) -> bool:
        return _fill_key(order_id, trade_id) in self.applied_fills

    def apply_fill(
        self,
        order_id: uuid.UUID,
        trade_id: int,
        side: Side,
        quantity: int,
        price: Decimal,
        at: datetime,
    ) -> list[PositionEvent]:
        """Book a fill; a fill that reverses the position is split into a close and an open."""
        if quantity <= 0:
            raise InvalidPositionFill(f"invalid fill quantity {quantity}: must be > 0")
        if self.has_applied(order_id, trade_id):
            return []
        signed = side.sign * quantity
        net = self.net_quantity
        if net == 0 or (net > 0) == (signed > 0):
            total = abs(net) + quantity
            average = (self.average_price * abs(net) + price * quantity) / total
            kind: type[PositionEvent] = PositionOpened if net == 0 else PositionChanged
            return [
                self._book(
                    kind,
                    order_id,
                    trade_id,
                    side,
                    quantity,
                    price,
                    net + signed,
                    average,
                    Decimal(0),
                    at,
                )
            ]
        closing = min(quantity, abs(net))
        direction = 1 if net > 0 else -1
        realized = (price - self.average_price) * closing * direction * self.point_value
        after = net + side.sign * closing
        if after != 0:
            return [
                self._book(
                    PositionChanged,
                    order_id,
                    trade_id,
                    side,
                    closing,
                    price,
                    after,
                    self.average_price,
                    realized,
                    at,
                )
            ]
        events = [
            self._book(
                PositionClosed,
                order_id,
                trade_id,
                side,
                closing,
                price,
                0,
                Decimal(0),
                realized,
                at,
            )
        ]
        if quantity > closing:
            rest = quantity - closing
            # The flip's opening half carries the same fill key: the fill is booked once.
            events.append(
                self._book(
                    PositionOpened,
                    order_id,
                    trade_id,
                    side,
                    rest,
                    price,
                    side.sign * rest,
                    price,
                    Decimal(0),
                    at,
                )
            )
        return events

    def _book(
        self,
        kind: type[PositionEvent],
        order_id: uuid.UUID,
        trade_id: int,
        side: Side,
        quantity: int,
        price: Decimal,
        net_quantity: int,
        average_price: Decimal,
        realized: Decimal,
        at: datetime,
    ) -> PositionEvent:
        return self._trigger(
            kind,
            at,
            account=self.account,
            symbol=self.symbol,
            order_id=order_id,
            trade_id=trade_id,
            side=side,
            quantity=quantity,
            price=price,
            net_quantity=net_quantity,
            average_price=average_price,
            realized_pnl=realized,
            point_value=self.point_value,
        )

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """Return the money gained or lost if the position were closed at `mark`."""
        return (mark - self.average_price) * self.net_quantity * self.point_value

    @property
    def is_flat(self) -> bool:
        return self.net_quantity == 0
