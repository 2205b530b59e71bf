"""Builders for strategy and backtest tests: seeded tapes and a backtest on an in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from adapters.eventstore import open_store
from tradingcore.application.backtest import Backtest, BacktestConfig, BacktestResult
from tradingcore.application.backtest_tape import SymbolTrades
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.fees import B3FeeModel
from tradingcore.domain.values import PRICE_SCALE, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.strategy.api import Strategy

WIN = Symbol("WINZ25")
OPEN_MS = 1_764_590_400_000  # 2025-12-01 09:00 Brasília


def walk_tape(
    steps: Sequence[int], volumes: Sequence[int], gaps: Sequence[int], symbol: Symbol = WIN
) -> SymbolTrades:
    """A tape from price steps (in ticks of 5 points), volumes and time gaps (ms)."""
    count = len(steps)
    prices = (127_000 + 5 * np.cumsum(np.array(steps, dtype=np.int64))) * PRICE_SCALE
    stamps = OPEN_MS + np.cumsum(np.array(gaps, dtype=np.int64))
    return SymbolTrades(
        symbol,
        np.arange(1, count + 1, dtype=np.int64) * 10,
        stamps,
        prices,
        np.array(volumes, dtype=np.int64),
        np.full(count, ord("B"), dtype=np.uint8),
        np.zeros(count, dtype=np.int64),
    )


def run_backtest(
    tapes: dict[Symbol, SymbolTrades],
    strategies: Sequence[Strategy],
    *,
    url: str = "memory://",
    config: BacktestConfig | None = None,
) -> tuple[TradingApplication, BacktestResult]:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    app = open_store(url, clock)
    backtest = Backtest(app, clock, strategies, config=config, fee_model=B3FeeModel())
    return app, backtest.run(tapes)


def stored_events(app: TradingApplication) -> list[tuple[str, bytes]]:
    """Every stored event's topic and state bytes, in log order."""
    rows: list[tuple[str, bytes]] = []
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=1_000)
        if not page:
            return rows
        rows.extend((item.topic, item.state) for item in page)
        start = page[-1].id + 1
