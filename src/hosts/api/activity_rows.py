"""The rows of the dashboard's read model: one order, fill, signal or P&L change each."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(slots=True)
class OrderRow:
    sequence: int
    """The notification id of its OrderSubmitted: the list's order and paging cursor."""
    order_id: uuid.UUID
    client_order_id: str
    account: str
    symbol: str
    side: str
    quantity: int
    price: Decimal
    status: str
    submitted_ms: int
    updated_ms: int
    signal_id: uuid.UUID | None
    filled_quantity: int = 0
    fill_notional: Decimal = Decimal(0)
    reason_code: str = ""
    reason: str = ""
    venue_order_id: str = ""
    fees: Decimal = Decimal(0)
    submitted_at: datetime | None = None
    ack_ms: float | None = None
    """Submission to the first answer (accepted, denied or rejected), in ms."""


@dataclass(frozen=True, slots=True)
class FillRow:
    at_ms: int
    order_id: uuid.UUID
    account: str
    symbol: str
    side: str
    quantity: int
    price: Decimal
    trade_id: int
    fees: Decimal


@dataclass(frozen=True, slots=True)
class SignalRow:
    sequence: int
    """The notification id of its SignalGenerated: the list's order and paging cursor."""
    signal_id: uuid.UUID
    at_ms: int
    symbol: str
    direction: str
    confidence: float
    model_version: str
    price: float
    tick_timestamp_ms: int
    latency_ms: float
    tick_trade_id: int = 0
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PnlChange:
    """What one position event did to realized P&L."""

    at_ms: int
    net: Decimal
    """Gross realized minus this event's share of the fill's fees."""
    closed: bool
    """It closed quantity (a round trip ended, in part or whole)."""
    won: bool
    """It closed quantity at a gross profit."""
