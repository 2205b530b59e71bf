"""The strategy API: the events a strategy sees, the commands it returns, its protocol."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol, TypeAlias, runtime_checkable

from tradingcore.domain.book import BookTop
from tradingcore.domain.order import OrderStatus
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Side, Symbol


@dataclass(frozen=True, slots=True)
class SendOrder:
    """Ask to send an order; `price` None is a market order.

    `tag` is the strategy's own name for the order, unique within the strategy and the run;
    empty, the runner names it from the tick it was decided on.
    """

    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal | None = None
    tag: str = ""
    signal_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class WithdrawOrder:
    """Ask to cancel a working order of this strategy, by its tag."""

    tag: str


@dataclass(frozen=True, slots=True)
class ReplaceOrder:
    """Ask to change a working order: it is canceled and its remainder sent anew."""

    tag: str
    price: Decimal | None = None
    quantity: int | None = None
    """The new order's quantity; None keeps the old order's unfilled quantity."""


StrategyCommand: TypeAlias = SendOrder | WithdrawOrder | ReplaceOrder
Commands: TypeAlias = Sequence[StrategyCommand]
NOTHING: Commands = ()


@dataclass(frozen=True, slots=True)
class SignalSeen:
    """A model's signal as a strategy sees it."""

    symbol: Symbol
    direction: Direction
    confidence: float
    price: float
    tick_trade_id: int
    tick_timestamp_ms: int
    signal_id: uuid.UUID | None = None
    model_version: str = ""
    features: Mapping[str, float] = field(default_factory=dict)
    """The model and features behind it (a replay stores the signal again with them)."""


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """One of the strategy's orders changed status (accepted, denied, rejected, canceled...)."""

    tag: str
    order_id: uuid.UUID
    symbol: Symbol
    side: Side
    status: OrderStatus
    filled: int
    remaining: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExecuted:
    """One fill of one of the strategy's orders."""

    tag: str
    order_id: uuid.UUID
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal
    trade_id: int


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order of the strategy not yet in a terminal status."""

    tag: str
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal | None
    filled: int = 0


class StrategyView(Protocol):
    """What a strategy may read while it decides: the clock's time, its position, its orders."""

    @property
    def now(self) -> datetime: ...

    def position(self, symbol: Symbol) -> int:
        """Return the strategy's own net position in a symbol (filled quantity, signed)."""
        ...

    def working(self, symbol: Symbol | None = None) -> Sequence[WorkingOrder]:
        """Return the strategy's orders still working (sent, not terminal)."""
        ...


@runtime_checkable
class Strategy(Protocol):
    """A decision-maker: pure, deterministic, its state its own; it answers with commands.

    The same class runs live and in a backtest; time is the clock's (the feed's in a replay),
    never the wall clock. Every order it sends names it (`strategy_id`).
    """

    strategy_id: str
    timer_interval: timedelta | None
    """How often `on_timer` is called, in the clock's time; None: never."""

    def on_trade(self, trade: Trade, view: StrategyView) -> Commands: ...

    def on_book(self, book: BookTop, view: StrategyView) -> Commands: ...

    def on_signal(self, signal: SignalSeen, view: StrategyView) -> Commands: ...

    def on_order(self, update: OrderUpdated, view: StrategyView) -> Commands: ...

    def on_fill(self, fill: OrderExecuted, view: StrategyView) -> Commands: ...

    def on_timer(self, view: StrategyView) -> Commands: ...


class BaseStrategy:
    """A strategy that does nothing: subclass it and override what you need."""

    strategy_id: str = "strategy"
    timer_interval: timedelta | None = None

    def on_trade(self, trade: Trade, view: StrategyView) -> Commands:
        return NOTHING

    def on_book(self, book: BookTop, view: StrategyView) -> Commands:
        return NOTHING

    def on_signal(self, signal: SignalSeen, view: StrategyView) -> Commands:
        return NOTHING

    def on_order(self, update: OrderUpdated, view: StrategyView) -> Commands:
        return NOTHING

    def on_fill(self, fill: OrderExecuted, view: StrategyView) -> Commands:
        return NOTHING

    def on_timer(self, view: StrategyView) -> Commands:
        return NOTHING
