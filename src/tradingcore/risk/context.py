"""What a pre-trade check looks at (the order and the facts around it) and what it decides."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradingcore.domain.values import MARKET_PRICE_MARKER, Side, Symbol
from tradingcore.risk.limits import ReasonCode


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """The order being decided; price -1 is a market order."""

    account: str
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal
    point_value: Decimal
    signal_id: uuid.UUID | None = None
    """The signal the order acts on (None: a manual order or a strategy's own decision)."""

    @property
    def is_market(self) -> bool:
        return self.price == MARKET_PRICE_MARKER

    @property
    def signed_quantity(self) -> int:
        return self.side.sign * self.quantity


@dataclass(frozen=True, slots=True)
class RecentOrder:
    """An order that passed the checks earlier: for the throttle and duplicate detection."""

    at: datetime
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal
    signal_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Everything the checks may look at; None means the fact is unknown."""

    now: datetime
    intent: OrderIntent
    kill_switch_engaged: bool | None
    broker_connected: bool | None
    last_price: Decimal | None
    last_trade_at: datetime | None
    net_position: int | None
    open_buy_quantity: int
    """Unfilled quantity of the account's open buy orders in this symbol."""
    open_sell_quantity: int
    daily_pnl: Decimal | None
    """Realized plus unrealized P&L of the account in the session day."""
    recent_orders: Sequence[RecentOrder]
    """The account's orders that passed, newest last."""


@dataclass(frozen=True, slots=True)
class RiskDecision:
    approved: bool
    reason_code: str
    reason: str

    @classmethod
    def approve(cls) -> RiskDecision:
        return cls(True, "", "")

    @classmethod
    def deny(cls, code: ReasonCode, reason: str) -> RiskDecision:
        return cls(False, code.value, reason)
