"""What the order manager is asked and what it answers: commands, results and their errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradingcore.domain.errors import DomainError
from tradingcore.domain.order import Order
from tradingcore.domain.values import Side, Symbol, deterministic_id
from tradingcore.risk.checks import RiskDecision


class OrderNotFound(DomainError):
    """No order with this id, or it belongs to another account."""


class OrderNotCancelable(DomainError):
    """The order is already in a terminal status."""


@dataclass(frozen=True, slots=True)
class ExecuteOrder:
    """Ask to execute an order; a client order id makes retries return the original."""

    actor: str
    account: str
    symbol: Symbol
    side: Side
    quantity: int
    price: Decimal
    """-1 for a market order."""
    client_order_id: str | None = None
    signal_id: uuid.UUID | None = None
    strategy_id: str | None = None
    """The strategy sending it: named on the order, in the causation chain."""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    order: Order
    created: bool
    """False when a retry found the original order."""
    decision: RiskDecision | None = None


@dataclass(frozen=True, slots=True)
class CancelResult:
    order: Order


def generated_client_order_id(command: ExecuteOrder, at: datetime) -> str:
    """Derive a client order id from the order and the clock's time.

    The same command at the same instant gets the same id (so a replay with the same clock
    reproduces it, and two identical requests in one microsecond become one order).
    """
    digest = deterministic_id(
        "client-order",
        command.account,
        command.symbol.full_symbol,
        command.side.value,
        command.quantity,
        command.price,
        at.isoformat(),
        command.signal_id or "",
    )
    return f"gen-{digest.hex[:24]}"
