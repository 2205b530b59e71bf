"""The Position aggregate: net quantity, exact cost basis, and P&L booked in cents from fills.

The rounding rule (docs/money.md): the cost basis of the open quantity is kept exactly; a fill
that closes quantity books gross realized P&L rounded half-even to the cent, and the remainder
stays in the cost basis of what is still open. So realized + unrealized always equals the cash
flow P&L exactly, and when the position is flat its cumulative realized P&L is the exact cash
flow to the cent (no drift). Fees are booked at once: net realized = gross realized - fees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar, Final

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import InvalidPositionFill
from tradingcore.domain.fees import FillCharge, session_of
from tradingcore.domain.instruments import Instrument
from tradingcore.domain.money import EXACT, Money, cents_decimal, divide_half_even
from tradingcore.domain.values import Side, Symbol, deterministic_id

ZERO: Final = Decimal(0)
AVERAGE_PLACES: Final = 10
"""Decimal places of the average price stored in events for display (the cost basis is exact)."""


def position_id_for(account: str, symbol: Symbol) -> uuid.UUID:
    return deterministic_id("position", account, symbol.full_symbol)


@dataclass(frozen=True, kw_only=True)
class PositionEvent(DomainEvent):
    """A fill (or the part of a fill) applied to a position, and the state after it."""

    class_version: ClassVar[int] = 2

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
    """The average price after the event, rounded to AVERAGE_PLACES (display only)."""
    realized_pnl: Decimal
    """Gross money realized by this event, in whole cents (zero unless it closes quantity);
    events written before version 2 hold the unrounded quotient."""
    point_value: Decimal
    cost_basis: Decimal
    """Exact signed money cost of the open quantity after the event (+ long, - short),
    including the rounding remainders of the realized P&L booked so far."""
    fees: Money
    """This event's share of the fill's fees (a flip splits them, see docs/money.md)."""
    session: date
    """The B3 trading day of the fill."""
    session_opened: int
    """Of the open quantity after the event, how much was opened in `session` (day trade)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Events stored before fees: no fees, the cost basis from the stored average."""
        state["cost_basis"] = EXACT.multiply(
            EXACT.multiply(state["average_price"], Decimal(state["net_quantity"])),
            state["point_value"],
        )
        state["fees"] = Money.zero()
        state["session"] = session_of(state["timestamp"])
        state["session_opened"] = 0

    def apply(self, aggregate: Position) -> None:
        aggregate.account = self.account
        aggregate.symbol = self.symbol
        aggregate.point_value = self.point_value
        aggregate.net_quantity = self.net_quantity
        aggregate.cost_basis = self.cost_basis
        aggregate.gross_realized = EXACT.add(aggregate.gross_realized, self.realized_pnl)
        aggregate.fees_paid = EXACT.add(aggregate.fees_paid, self.fees.amount)
        aggregate.session = self.session
        aggregate.session_opened = self.session_opened
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


@dataclass(frozen=True, slots=True)
class _Leg:
    """One event's worth of a fill: its quantity, the state after it, what it realized."""

    kind: type[PositionEvent]
    quantity: int
    net_quantity: int
    cost_basis: Decimal
    realized: Decimal
    fees: Money
    session_opened: int


class Position(AggregateRoot[PositionEvent]):
    """Net position of one account in one symbol, on the average-cost method."""

    def _reset(self) -> None:
        self.account = ""
        self.symbol = Symbol("WINZ25")
        self.point_value = Decimal(1)
        self.net_quantity = 0
        self.cost_basis = Decimal(0)
        self.gross_realized = Decimal(0)
        self.fees_paid = Decimal(0)
        self.session: date | None = None
        self.session_opened = 0
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

    # Money views ------------------------------------------------------------------------

    @property
    def average_price(self) -> Fraction:
        """Return the exact average price of the open quantity (0 when flat)."""
        if self.net_quantity == 0:
            return Fraction(0)
        return Fraction(self.cost_basis) / (self.net_quantity * Fraction(self.point_value))

    @property
    def gross_realized_pnl(self) -> Money:
        return Money(self.gross_realized)

    @property
    def fees(self) -> Money:
        return Money(self.fees_paid)

    @property
    def net_realized_pnl(self) -> Money:
        return Money(EXACT.subtract(self.gross_realized, self.fees_paid))

    @property
    def realized_pnl(self) -> Money:
        """Net realized P&L: gross realized minus every fee paid."""
        return self.net_realized_pnl

    def unrealized_pnl(self, mark: Decimal) -> Money:
        """Return the money gained or lost if the position were closed at `mark`, in cents."""
        value = EXACT.multiply(EXACT.multiply(mark, self.point_value), Decimal(self.net_quantity))
        return Money.rounded(EXACT.subtract(value, self.cost_basis))

    @property
    def is_flat(self) -> bool:
        return self.net_quantity == 0

    # Decisions -------------------------------------------------------------------------

    def has_applied(self, order_id: uuid.UUID, trade_id: int) -> bool:
        return _fill_key(order_id, trade_id) in self.applied_fills

    def _split(self, side: Side, quantity: int, session: date) -> tuple[int, int, int]:
        """Return (closing, day-trade closing, quantity opened this session before the fill)."""
        net = self.net_quantity
        opened = self.session_opened if self.session == session else 0
        closing = min(quantity, abs(net)) if net and (net > 0) != (side is Side.BUY) else 0
        return closing, min(closing, opened), opened

    def charge(
        self,
        instrument: Instrument,
        side: Side,
        quantity: int,
        price: Decimal,
        at: datetime,
        *,
        first_fill_of_order: bool,
    ) -> FillCharge:
        """Describe a fill for a fee model: how much closes, and how much is day trade."""
        closing, day_trade, _ = self._split(side, quantity, session_of(at))
        return FillCharge(
            instrument, side, price, quantity, closing, day_trade, first_fill_of_order
        )

    def apply_fill(
        self,
        order_id: uuid.UUID,
        trade_id: int,
        side: Side,
        quantity: int,
        price: Decimal,
        at: datetime,
        *,
        fees: Money | None = None,
    ) -> list[PositionEvent]:
        """Book a fill; a fill that reverses the position is split into a close and an open."""
        if quantity <= 0:
            raise InvalidPositionFill(f"invalid fill quantity {quantity}: must be > 0")
        fees = Money.zero() if fees is None else fees
        if fees.currency != "BRL" or not fees.is_whole_cents or fees.amount < 0:
            raise InvalidPositionFill(
                f"invalid fill fees {fees!r}: must be whole cents of BRL and >= 0"
            )
        if self.has_applied(order_id, trade_id):
            return []
        session = session_of(at)
        legs = self._legs(side, quantity, price, fees, session)
        return [
            self._trigger(
                leg.kind,
                at,
                account=self.account,
                symbol=self.symbol,
                order_id=order_id,
                trade_id=trade_id,
                side=side,
                quantity=leg.quantity,
                price=price,
                net_quantity=leg.net_quantity,
                average_price=_display_average(leg.cost_basis, leg.net_quantity, self.point_value),
                realized_pnl=leg.realized,
                point_value=self.point_value,
                cost_basis=leg.cost_basis,
                fees=leg.fees,
                session=session,
                session_opened=leg.session_opened,
            )
            for leg in legs
        ]

    def _legs(
        self, side: Side, quantity: int, price: Decimal, fees: Money, session: date
    ) -> list[_Leg]:
        # Sums and products of Decimals in the EXACT context are exact; the one division
        # (the cost a partial close releases) is done on integers and rounded once, to cents.
        net = self.net_quantity
        cost = self.cost_basis
        unit = EXACT.multiply(price, self.point_value)
        closing, day_trade, opened = self._split(side, quantity, session)
        if closing == 0:
            kind: type[PositionEvent] = PositionOpened if net == 0 else PositionChanged
            cost = EXACT.add(cost, EXACT.multiply(unit, Decimal(side.sign * quantity)))
            return [
                _Leg(
                    kind, quantity, net + side.sign * quantity, cost, ZERO, fees, opened + quantity
                )
            ]
        # The fill's signed cash cost of the closing quantity; realized = -paid - released,
        # with released = cost * closing / |net|, so realized = numerator / |net|.
        paid = EXACT.multiply(unit, Decimal(side.sign * closing))
        numerator = EXACT.subtract(
            EXACT.multiply(EXACT.minus(paid), Decimal(abs(net))),
            EXACT.multiply(cost, Decimal(closing)),
        )
        top, bottom = numerator.as_integer_ratio()
        realized = cents_decimal(divide_half_even(top * 100, bottom * abs(net)))
        # What is not booked (the sub-cent remainder) stays in the cost of what stays open.
        cost = EXACT.add(EXACT.add(cost, paid), realized)
        after = net + side.sign * closing
        close_fees, open_fees = fees.split(closing, quantity)
        close_kind = PositionClosed if after == 0 else PositionChanged
        legs = [_Leg(close_kind, closing, after, cost, realized, close_fees, opened - day_trade)]
        if quantity > closing:
            rest = quantity - closing
            cost = EXACT.add(cost, EXACT.multiply(unit, Decimal(side.sign * rest)))
            # The flip's opening half carries the same fill key: the fill is booked once.
            legs.append(
                _Leg(
                    PositionOpened,
                    rest,
                    side.sign * rest,
                    cost,
                    ZERO,
                    open_fees,
                    opened - day_trade + rest,
                )
            )
        return legs


def _display_average(cost: Decimal, net_quantity: int, point_value: Decimal) -> Decimal:
    if net_quantity == 0:
        return ZERO
    cost_top, cost_bottom = cost.as_integer_ratio()
    value_top, value_bottom = point_value.as_integer_ratio()
    scaled = divide_half_even(
        cost_top * value_bottom * 10**AVERAGE_PLACES, cost_bottom * value_top * net_quantity
    )
    return Decimal(scaled).scaleb(-AVERAGE_PLACES, EXACT)
