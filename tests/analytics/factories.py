"""Stub factories for analytics tests: tick series, fast configs and messages."""

from __future__ import annotations

import json

import numpy as np

from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.features import AGGRESSOR_SIGNS
from tradingcore.analytics.replay import TickSeries
from tradingcore.domain.values import Symbol, price_to_units
from tradingcore.simulation.market import MarketEvent, synthetic_session

WIN_THRESHOLD = 2 * 5 * 10_000
"""Two WIN ticks (5 points each) in price units."""


def fast_config(**changes: object) -> AnalyticsConfig:
    """A config that trains after a few hundred ticks and signals readily."""
    values: dict[str, object] = {
        "window": 20,
        "momentum_lag": 5,
        "horizon": 10,
        "train_stride": 2,
        "batch_size": 40,
        "update_delay": 7,
        "buy_threshold": 0.5,
        "sell_threshold": 0.5,
    }
    values.update(changes)
    return AnalyticsConfig(**values)  # type: ignore[arg-type]


def session(trades: int, seed: int = 11, symbol: str = "WINZ25") -> list[MarketEvent]:
    return list(synthetic_session(Symbol(symbol), seed=seed, trades=trades))


def series_of(events: list[MarketEvent], with_book: bool = True) -> TickSeries:
    return TickSeries(
        np.array([event.trade.trade_id for event in events], dtype=np.int64),
        np.array([event.trade.timestamp_ms for event in events], dtype=np.int64),
        np.array([price_to_units(event.trade.price) for event in events], dtype=np.int64),
        np.array([event.trade.volume for event in events], dtype=np.int64),
        np.array(
            [AGGRESSOR_SIGNS[event.trade.aggressor.value] for event in events], dtype=np.int64
        ),
        np.array(
            [float(event.book.delta) if with_book else 0.0 for event in events],
            dtype=np.float64,
        ),
    )


def tick_json(event: MarketEvent) -> str:
    trade = event.trade
    return json.dumps(
        {
            "type": "trade",
            "symbol": trade.symbol.ticker,
            "price": float(trade.price),
            "volume": trade.volume,
            "aggressor": trade.aggressor.value,
            "timestamp": trade.timestamp_ms,
            "trade_id": trade.trade_id,
        },
        separators=(",", ":"),
    )
