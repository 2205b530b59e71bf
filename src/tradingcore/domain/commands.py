"""Commands: what a user or a strategy asks the core to do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from tradingcore.domain.values import Price, Quantity, Side, Symbol


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Ask to send an order; `client_order_id` makes retries idempotent."""

    client_order_id: str
    account: str
    symbol: Symbol
    side: Side
    quantity: Quantity
    price: Price
    signal_id: uuid.UUID | None = None
    strategy_id: str | None = None
    """The strategy that sent it, if one did."""


@dataclass(frozen=True, slots=True)
class RecordFill:
    """Report an execution of an order at the venue (or the paper broker)."""

    order_id: uuid.UUID
    trade_id: int
    price: Decimal
    quantity: int


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: uuid.UUID
    reason: str
