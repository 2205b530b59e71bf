"""Folds of market events: trades, feature rows and signals to row blocks."""

from __future__ import annotations

import json
import math
from datetime import date

from tradingcore.domain.features import FEATURE_NAMES, FeaturesComputed
from tradingcore.domain.signal import SignalGenerated
from tradingcore.domain.tape import CANCELLED, CROSS, TradesRecorded
from tradingcore.projections.blocks import Block, Characters, Constant, FlagBit, single_row
from tradingcore.projections.tables import (
    FEATURES,
    SIGNALS,
    TRADES,
    b3_date_of_ms,
    epoch_ms,
)


def trade_block(event: TradesRecorded, session: date, notification_id: int) -> Block:
    """Return a batch of trades as one block, reusing the event's columns (no per-trade work)."""
    length = len(event.trade_ids)
    if not (
        len(event.timestamps_ms)
        == len(event.prices)
        == len(event.volumes)
        == len(event.aggressors)
        == len(event.flags)
        == length
    ):
        raise ValueError(f"TradesRecorded {event.originator_id}: columns differ in length")
    return Block(
        TRADES,
        event.symbol.ticker,
        session,
        length,
        {
            "timestamp": event.timestamps_ms,
            "symbol": Constant(event.symbol.ticker),
            "price": event.prices,
            "volume": event.volumes,
            "aggressor": Characters(event.aggressors),
            "trade_id": event.trade_ids,
            "date": Constant(session),
            "cancelled": FlagBit(event.flags, CANCELLED),
            "cross": FlagBit(event.flags, CROSS),
            "sequence": range(event.first_sequence, event.first_sequence + length),
            "notification_id": Constant(notification_id),
        },
    )


def feature_block(event: FeaturesComputed, notification_id: int) -> Block:
    """Return one row per tick: the spec's five features, others as a JSON object."""
    length = len(event.rows)
    if not len(event.trade_ids) == len(event.timestamps_ms) == length:
        raise ValueError(f"FeaturesComputed {event.originator_id}: columns differ in length")
    position = {name: index for index, name in enumerate(event.names)}
    columns: dict[str, object] = {
        "timestamp": event.timestamps_ms,
        "symbol": Constant(event.symbol.ticker),
        "trade_id": event.trade_ids,
    }
    for name in FEATURE_NAMES:
        index = position.get(name)
        columns[name] = (
            Constant(None) if index is None else tuple(_finite(row[index]) for row in event.rows)
        )
    extra = [(index, name) for index, name in enumerate(event.names) if name not in FEATURE_NAMES]
    columns["extra_features"] = (
        Constant(None)
        if not extra
        else tuple(_json({name: row[index] for index, name in extra}) for row in event.rows)
    )
    columns["pipeline_version"] = Constant(event.pipeline_version)
    columns["date"] = Constant(event.session)
    columns["notification_id"] = Constant(notification_id)
    return Block(FEATURES, event.symbol.ticker, event.session, length, columns)  # type: ignore[arg-type]


def signal_block(event: SignalGenerated, notification_id: int) -> Block:
    """Return the signal as one row, dated by its tick's B3 date."""
    day = b3_date_of_ms(event.tick_timestamp_ms)
    return single_row(
        SIGNALS,
        event.symbol.ticker,
        day,
        {
            "timestamp": event.tick_timestamp_ms,
            "symbol": event.symbol.ticker,
            "signal_id": str(event.originator_id),
            "direction": str(event.direction),
            "confidence": float(event.confidence),
            "model_version": event.model_version,
            "tick_trade_id": event.tick_trade_id,
            "price": float(event.price),
            "features": _json(dict(event.features)),
            "recorded_at": epoch_ms(event.timestamp),
            "date": day,
            "notification_id": notification_id,
        },
    )


def _finite(value: float) -> float | None:
    """NaN (a window still warming up) is stored as null, so SQL aggregates skip it."""
    value = float(value)
    return value if math.isfinite(value) else None


def _json(values: dict[str, float]) -> str:
    cleaned = {name: _finite(value) for name, value in values.items()}
    return json.dumps(cleaned, sort_keys=True, separators=(",", ":"), allow_nan=False)
