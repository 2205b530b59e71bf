"""The projected tables: their names, columns and logical column kinds, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

from tradingcore.domain.features import FEATURE_NAMES

B3_TIME: Final = timezone(timedelta(hours=-3))
"""B3's local time (UTC-03:00; Brazil has had no daylight saving time since 2019)."""


class Kind(StrEnum):
    """A column's logical type; the Parquet adapter maps each to one Arrow type."""

    TIMESTAMP_MS = "timestamp_ms"
    """UTC epoch milliseconds, stored as timestamp[ms]."""
    PRICE_UNITS = "price_units"
    """Integer price units (1/PRICE_SCALE), stored as float64."""
    FLOAT = "float64"
    INT32 = "int32"
    INT64 = "int64"
    STRING = "string"
    BOOL = "bool"
    DATE = "date"
    MONEY = "money"
    """R$ in whole cents, stored as decimal128(18, 2): sums in SQL stay exact."""


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[tuple[str, Kind], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


TRADES: Final = Table(
    "trades",
    (
        # The spec's six columns first, in its order and types (section 7.1).
        ("timestamp", Kind.TIMESTAMP_MS),
        ("symbol", Kind.STRING),
        ("price", Kind.PRICE_UNITS),
        ("volume", Kind.INT32),
        ("aggressor", Kind.STRING),
        ("trade_id", Kind.INT64),
        ("date", Kind.DATE),
        ("cancelled", Kind.BOOL),
        ("cross", Kind.BOOL),
        ("sequence", Kind.INT64),
        ("notification_id", Kind.INT64),
    ),
)

# The spec's five features (domain FEATURE_NAMES) get columns; any other goes to
# `extra_features`.
FEATURES: Final = Table(
    "features",
    (
        ("timestamp", Kind.TIMESTAMP_MS),
        ("symbol", Kind.STRING),
        ("trade_id", Kind.INT64),
        *((name, Kind.FLOAT) for name in FEATURE_NAMES),
        ("extra_features", Kind.STRING),
        ("pipeline_version", Kind.STRING),
        ("date", Kind.DATE),
        ("notification_id", Kind.INT64),
    ),
)

SIGNALS: Final = Table(
    "signals",
    (
        ("timestamp", Kind.TIMESTAMP_MS),
        ("symbol", Kind.STRING),
        ("signal_id", Kind.STRING),
        ("direction", Kind.STRING),
        ("confidence", Kind.FLOAT),
        ("model_version", Kind.STRING),
        ("tick_trade_id", Kind.INT64),
        ("price", Kind.FLOAT),
        ("features", Kind.STRING),
        ("recorded_at", Kind.TIMESTAMP_MS),
        ("date", Kind.DATE),
        ("notification_id", Kind.INT64),
    ),
)

ORDERS: Final = Table(
    "orders",
    (
        ("timestamp", Kind.TIMESTAMP_MS),
        ("order_id", Kind.STRING),
        ("version", Kind.INT32),
        ("event", Kind.STRING),
        ("status", Kind.STRING),
        ("account", Kind.STRING),
        ("symbol", Kind.STRING),
        ("client_order_id", Kind.STRING),
        ("side", Kind.STRING),
        ("quantity", Kind.INT64),
        ("price", Kind.FLOAT),
        ("signal_id", Kind.STRING),
        ("strategy_id", Kind.STRING),
        ("venue_order_id", Kind.STRING),
        ("reason_code", Kind.STRING),
        ("reason", Kind.STRING),
        ("fill_trade_id", Kind.INT64),
        ("fill_quantity", Kind.INT64),
        ("fill_price", Kind.FLOAT),
        ("filled_quantity", Kind.INT64),
        ("average_fill_price", Kind.FLOAT),
        ("date", Kind.DATE),
        ("notification_id", Kind.INT64),
    ),
)

FILLS: Final = Table(
    "fills",
    (
        ("timestamp", Kind.TIMESTAMP_MS),
        ("order_id", Kind.STRING),
        ("trade_id", Kind.INT64),
        ("account", Kind.STRING),
        ("symbol", Kind.STRING),
        ("side", Kind.STRING),
        ("quantity", Kind.INT64),
        ("price", Kind.FLOAT),
        ("client_order_id", Kind.STRING),
        ("signal_id", Kind.STRING),
        ("fees", Kind.MONEY),
        ("strategy_id", Kind.STRING),
        ("date", Kind.DATE),
        ("notification_id", Kind.INT64),
    ),
)

POSITIONS: Final = Table(
    "positions",
    (
        ("timestamp", Kind.TIMESTAMP_MS),
        ("position_id", Kind.STRING),
        ("version", Kind.INT32),
        ("event", Kind.STRING),
        ("account", Kind.STRING),
        ("symbol", Kind.STRING),
        ("order_id", Kind.STRING),
        ("trade_id", Kind.INT64),
        ("side", Kind.STRING),
        ("quantity", Kind.INT64),
        ("price", Kind.FLOAT),
        ("net_quantity", Kind.INT64),
        ("average_price", Kind.FLOAT),
        ("realized_pnl", Kind.MONEY),
        ("point_value", Kind.FLOAT),
        ("cost_basis", Kind.FLOAT),
        ("gross_realized_pnl", Kind.MONEY),
        ("fees", Kind.MONEY),
        ("net_realized_pnl", Kind.MONEY),
        ("date", Kind.DATE),
        ("notification_id", Kind.INT64),
    ),
)

TABLES: Final[dict[str, Table]] = {
    table.name: table for table in (TRADES, FEATURES, SIGNALS, ORDERS, FILLS, POSITIONS)
}

_DAY_MS: Final = 86_400_000
_OFFSET_MS: Final = 3 * 3_600_000
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def b3_date_of_ms(timestamp_ms: int) -> date:
    """Return the B3 calendar date (UTC-03:00) of a UTC epoch-milliseconds instant."""
    return date.fromordinal(_EPOCH_ORDINAL + (timestamp_ms - _OFFSET_MS) // _DAY_MS)


def b3_date_of(moment: datetime) -> date:
    """Return the B3 calendar date of an aware datetime."""
    return moment.astimezone(B3_TIME).date()


def epoch_ms(moment: datetime) -> int:
    """Return an aware datetime as UTC epoch milliseconds (floored)."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
