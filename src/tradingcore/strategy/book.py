"""The strategy's own book: its position and working orders, kept from its order events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradingcore.domain.order import TERMINAL
from tradingcore.domain.values import Side, Symbol
from tradingcore.ports.clock import Clock
from tradingcore.strategy.api import OrderExecuted, OrderUpdated, SendOrder, WorkingOrder


class StrategyBook:
    """A `StrategyView`: what one strategy has sent and holds, updated by the runner."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._positions: dict[Symbol, int] = {}
        self._working: dict[str, WorkingOrder] = {}

    @property
    def now(self) -> datetime:
        return self._clock.now()

    def position(self, symbol: Symbol) -> int:
        return self._positions.get(symbol, 0)

    def working(self, symbol: Symbol | None = None) -> Sequence[WorkingOrder]:
        if symbol is None:
            return tuple(self._working.values())
        return tuple(order for order in self._working.values() if order.symbol == symbol)

    def has_working(self, symbol: Symbol) -> bool:
        return any(order.symbol == symbol for order in self._working.values())

    def get(self, tag: str) -> WorkingOrder | None:
        return self._working.get(tag)

    def sent(self, tag: str, command: SendOrder) -> None:
        self._working[tag] = WorkingOrder(
            tag, command.symbol, command.side, command.quantity, command.price
        )

    def updated(self, update: OrderUpdated) -> None:
        if update.status in TERMINAL:
            self._working.pop(update.tag, None)

    def executed(self, fill: OrderExecuted) -> None:
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        self._positions[fill.symbol] = self._positions.get(fill.symbol, 0) + signed
        order = self._working.get(fill.tag)
        if order is None:
            return
        filled = order.filled + fill.quantity
        if filled >= order.quantity:
            del self._working[fill.tag]
        else:
            self._working[fill.tag] = WorkingOrder(
                order.tag, order.symbol, order.side, order.quantity, order.price, filled
            )
