"""Position policies: trade toward a target position, never stacking orders in flight."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tradingcore.domain.book import BookTop
from tradingcore.domain.order import OrderStatus
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Side, Symbol
from tradingcore.strategy.api import (
    NOTHING,
    BaseStrategy,
    Commands,
    OrderExecuted,
    OrderUpdated,
    SendOrder,
    SignalSeen,
    StrategyView,
)

GAVE_UP = frozenset({OrderStatus.DENIED, OrderStatus.REJECTED})


def toward(
    target: int,
    symbol: Symbol,
    view: StrategyView,
    *,
    price: Decimal | None = None,
    signal_id: uuid.UUID | None = None,
) -> Commands:
    """Return the order that takes the position to `target`; none while one is in flight."""
    if view.working(symbol):
        return NOTHING
    delta = target - view.position(symbol)
    if delta == 0:
        return NOTHING
    side = Side.BUY if delta > 0 else Side.SELL
    return (SendOrder(symbol, side, abs(delta), price, signal_id=signal_id),)


class TargetStrategy(BaseStrategy):
    """A strategy that wants a position per symbol; market orders take it there.

    Subclasses implement `target_after(trade)` (None: no opinion yet). An order goes out when
    the target changes; while one is in flight nothing more is sent, and when it completes
    the position catches up with the latest target. A denied or rejected order is not retried
    until the target changes again (a retry on every event would hammer the risk checks).
    """

    def __init__(self) -> None:
        self.wanted: dict[Symbol, int] = {}
        self._parked: set[Symbol] = set()

    def target_after(self, trade: Trade) -> int | None:
        raise NotImplementedError

    def on_trade(self, trade: Trade, view: StrategyView) -> Commands:
        target = self.target_after(trade)
        if target is None:
            return NOTHING
        return self.want(trade.symbol, target, view)

    def want(self, symbol: Symbol, target: int, view: StrategyView) -> Commands:
        """Set a symbol's target; send an order when it changed."""
        if self.wanted.get(symbol) == target:
            return NOTHING
        self.wanted[symbol] = target
        self._parked.discard(symbol)
        return toward(target, symbol, view)

    def on_order(self, update: OrderUpdated, view: StrategyView) -> Commands:
        if update.status in GAVE_UP:
            self._parked.add(update.symbol)
            return NOTHING
        return self._catch_up(update.symbol, view)

    def on_fill(self, fill: OrderExecuted, view: StrategyView) -> Commands:
        return self._catch_up(fill.symbol, view)

    def _catch_up(self, symbol: Symbol, view: StrategyView) -> Commands:
        target = self.wanted.get(symbol)
        if target is None or symbol in self._parked:
            return NOTHING
        return toward(target, symbol, view)


class PositionPolicy(BaseStrategy):
    """Auto-execution as a position policy: BUY → long N, SELL → short N, HOLD → flat.

    The live API host's rule, signal by signal: a BUY/SELL below `min_confidence` leaves the
    position as it is; while an order is in flight nothing is sent (no stacking, no catch-up
    later); at the target nothing is sent; else one market order for the difference.
    """

    def __init__(
        self,
        quantity: int = 1,
        min_confidence: float = 0.6,
        scale_by_confidence: bool = False,
        hold_closes: bool = True,
    ) -> None:
        self.strategy_id = "position-policy"
        self.quantity = quantity
        self.min_confidence = min_confidence
        self.scale_by_confidence = scale_by_confidence
        self.hold_closes = hold_closes

    def target_for(self, signal: SignalSeen) -> int | None:
        """Return the position a signal asks for; None: leave it as it is."""
        if signal.direction is Direction.HOLD:
            return 0 if self.hold_closes else None
        if signal.confidence < self.min_confidence:
            return None
        size = self.quantity
        if self.scale_by_confidence:
            size = max(1, round(self.quantity * signal.confidence))
        return size if signal.direction is Direction.BUY else -size

    def on_signal(self, signal: SignalSeen, view: StrategyView) -> Commands:
        target = self.target_for(signal)
        if target is None:
            return NOTHING
        return toward(target, signal.symbol, view, signal_id=signal.signal_id)


class SignalFollower(BaseStrategy):
    """The spec's model: each BUY/SELL signal above a confidence sends that order (HOLD: none)."""

    def __init__(
        self, quantity: int = 1, min_confidence: float = 0.6, scale_by_confidence: bool = False
    ) -> None:
        self.strategy_id = "signal-follower"
        self.quantity = quantity
        self.min_confidence = min_confidence
        self.scale_by_confidence = scale_by_confidence

    def on_signal(self, signal: SignalSeen, view: StrategyView) -> Commands:
        if signal.direction is Direction.HOLD or signal.confidence < self.min_confidence:
            return NOTHING
        quantity = self.quantity
        if self.scale_by_confidence:
            quantity = max(1, round(self.quantity * signal.confidence))
        side = Side(signal.direction.value)
        return (SendOrder(signal.symbol, side, quantity, signal_id=signal.signal_id),)

    def on_book(self, book: BookTop, view: StrategyView) -> Commands:
        return NOTHING
