"""Risk limits and reason codes: the numbers every pre-trade check is held to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tradingcore.domain.errors import DomainError


class ReasonCode(StrEnum):
    """Why an order was denied; each pre-trade check has its own code."""

    KILL_SWITCH_ENGAGED = "KILL_SWITCH_ENGAGED"
    RISK_STATE_UNREADABLE = "RISK_STATE_UNREADABLE"
    SYMBOL_NOT_ALLOWED = "SYMBOL_NOT_ALLOWED"
    OUTSIDE_TRADING_HOURS = "OUTSIDE_TRADING_HOURS"
    BROKER_DISCONNECTED = "BROKER_DISCONNECTED"
    MARKET_DATA_MISSING = "MARKET_DATA_MISSING"
    MARKET_DATA_STALE = "MARKET_DATA_STALE"
    MAX_ORDER_QUANTITY = "MAX_ORDER_QUANTITY"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    PRICE_BAND = "PRICE_BAND"
    MAX_POSITION = "MAX_POSITION"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    ORDER_RATE = "ORDER_RATE"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"


class InvalidRiskLimits(DomainError):
    """A risk limit is missing, negative or of the wrong type."""


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Pre-trade limits; money in R$, quantities in contracts or shares."""

    max_order_quantity: int = 10
    max_order_notional: Decimal = Decimal(500_000)
    """Quantity × price × point value of one order."""
    max_position: int = 20
    """Largest absolute net position per account and symbol, open orders included."""
    daily_loss_limit: Decimal = Decimal(5_000)
    """Realized plus unrealized loss of the session day that stops risk-increasing orders."""
    price_band_fraction: Decimal = Decimal("0.02")
    """Largest distance of a limit price from the last trade, as a fraction of it."""
    market_data_max_age: timedelta = timedelta(seconds=30)
    max_orders_per_window: int = 50
    throttle_window: timedelta = timedelta(seconds=1)
    duplicate_window: timedelta = timedelta(seconds=2)
    """Same account, symbol, side, quantity and price within this time is a duplicate."""
    allowed_roots: frozenset[str] = field(default_factory=frozenset)
    """Asset roots that may be traded (`WIN`, `PETR`); empty allows every symbol."""

    def __post_init__(self) -> None:
        for name in ("max_order_quantity", "max_position", "max_orders_per_window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidRiskLimits(f"invalid risk limit {name}={value!r}: a whole number >= 0")
        for name in ("max_order_notional", "daily_loss_limit", "price_band_fraction"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise InvalidRiskLimits(f"invalid risk limit {name}={value!r}: a number >= 0")
        for name in ("market_data_max_age", "throttle_window", "duplicate_window"):
            if getattr(self, name) < timedelta(0):
                raise InvalidRiskLimits(f"invalid risk limit {name}: must not be negative")

    def to_plain(self) -> dict[str, Any]:
        """Return the limits as JSON-ready values (durations in seconds)."""
        plain: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, timedelta):
                plain[f"{item.name}_seconds"] = value.total_seconds()
            elif isinstance(value, Decimal):
                plain[item.name] = str(value)
            elif isinstance(value, frozenset):
                plain[item.name] = sorted(value)
            else:
                plain[item.name] = value
        return plain

    def updated(self, changes: Mapping[str, Any]) -> RiskLimits:
        """Return a copy with the changes (same keys as `to_plain`) applied and checked."""
        known = {item.name: item.name for item in fields(self)}
        known.update({f"{name}_seconds": name for name in _DURATIONS})
        values: dict[str, Any] = {}
        for key, value in changes.items():
            name = known.get(key)
            if name is None:
                raise InvalidRiskLimits(f"unknown risk limit {key!r}; known: {sorted(known)}")
            values[name] = _convert(name, value)
        return replace(self, **values)

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> RiskLimits:
        return cls().updated(plain)


_DURATIONS = ("market_data_max_age", "throttle_window", "duplicate_window")


def _convert(name: str, value: Any) -> Any:
    try:
        if name in _DURATIONS:
            return timedelta(seconds=float(value))
        if name in ("max_order_notional", "daily_loss_limit", "price_band_fraction"):
            if isinstance(value, bool):
                raise TypeError
            return Decimal(str(value))
        if name == "allowed_roots":
            return frozenset(str(root).upper() for root in value)
    except (TypeError, ValueError, ArithmeticError):
        raise InvalidRiskLimits(f"invalid risk limit {name}={value!r}: not a number") from None
    return value
