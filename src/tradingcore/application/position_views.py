"""Positions of one account with daily and unrealized P&L: the read side of the risk book."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradingcore.application.order_manager import OrderManager
from tradingcore.domain.money import Money
from tradingcore.domain.position import Position


@dataclass(frozen=True, slots=True)
class PositionView:
    position: Position
    daily_realized_pnl: Money
    last_price: Decimal | None
    unrealized_pnl: Money | None
    """None when no last trade is known (an open position cannot be marked)."""


def positions_of(orders: OrderManager, account: str) -> list[PositionView]:
    """Return every position the account ever had, marked to the last trade."""
    with orders.lock:
        day_start = orders.settings.calendar.session_start(orders.clock.now())
        views = []
        for symbol in sorted(orders.book.symbols.get(account, ())):
            position = orders.app.position(account, symbol)
            last = orders.book.last_price(symbol)
            unrealized: Money | None = None
            if position.net_quantity == 0:
                unrealized = position.unrealized_pnl(Decimal(0))
            elif last is not None:
                unrealized = position.unrealized_pnl(last)
            daily = orders.book.daily_realized(orders.app, position, day_start)
            views.append(PositionView(position, daily, last, unrealized))
        return views
