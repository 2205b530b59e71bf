"""The rows of the dashboard's read model: one order, fill, signal or P&L change each."""

from __future__ import annotations

import sys
import uuid
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

NAME_SETS_SHARED: Final = 256
"""Distinct feature name lists kept once for every signal row (one or two per model)."""


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


class FeatureValues(Mapping[str, float]):
    """A kept signal's features: the names shared with every signal that has them, the values
    packed as doubles. A dict of 12 features cost ~1.5 KB a row (20,000 rows: ~30 MB)."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: array[float]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, name: str) -> float:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


_shared_names: dict[tuple[str, ...], tuple[str, ...]] = {}


def packed_features(features: Mapping[str, float]) -> Mapping[str, float]:
    """Return the features as FeatureValues (a plain dict past NAME_SETS_SHARED name lists)."""
    names = tuple(features)
    shared = _shared_names.get(names)
    if shared is None:
        if len(_shared_names) >= NAME_SETS_SHARED:
            return dict(features)
        shared = _shared_names.setdefault(names, tuple(sys.intern(name) for name in names))
    return FeatureValues(shared, array("d", (float(value) for value in features.values())))
