"""Backtest speed: a moving-average cross with orders, fills and B3 fees over 1M WIN trades,
every event stored in a SQLite file (target: 1M ticks/s; figures in docs/performance.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.eventstore import open_store
from hosts.strategy.sources import synthetic_tapes
from tradingcore.application.backtest import Backtest, BacktestConfig, copy_store
from tradingcore.application.backtest_tape import SymbolTrades
from tradingcore.domain.fees import B3FeeModel
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.limits import RiskLimits
from tradingcore.strategy.examples import MovingAverageCross

TRADES = 1_000_000
WIN = Symbol("WINZ25")
LIMITS = RiskLimits(duplicate_window=timedelta(0), max_orders_per_window=1_000)


@pytest.fixture(scope="module")
def tape() -> SymbolTrades:
    """1M trades of the seeded synthetic WIN feed (generated once, outside the timing)."""
    return synthetic_tapes(["WINZ25"], seed=7, trades=TRADES)[WIN]


def backtest_into(path: Path, tape: SymbolTrades, fast: int, slow: int, *, columnar: bool) -> Any:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    memory = open_store("memory://", clock)
    strategy = MovingAverageCross(fast, slow)
    config = BacktestConfig(limits=LIMITS, columnar=columnar)
    result = Backtest(memory, clock, [strategy], config=config, fee_model=B3FeeModel()).run(
        {WIN: tape}
    )
    store = open_store(f"sqlite:///{path}?synchronous=normal", clock)
    copy_store(memory, store)
    store.close()
    return result


def measured(benchmark: Any, run: Callable[[int], Any], rounds: int) -> None:
    counter = iter(range(1_000))
    cpu: list[float] = []

    def once() -> Any:
        started = time.process_time()
        result = run(next(counter))
        cpu.append(time.process_time() - started)
        return result

    result = benchmark.pedantic(once, rounds=rounds, iterations=1)
    benchmark.extra_info.update(
        {
            "trades": result.trades,
            "orders": result.orders,
            "fills": len(result.fills),
            "ticks_per_s_median": round(result.trades / benchmark.stats.stats.median),
            "ticks_per_cpu_s_best": round(result.trades / min(cpu)),
        }
    )
    assert result.trades == TRADES and result.orders > 0 and result.fills


@pytest.mark.parametrize(("fast", "slow"), [(50, 200), (500, 2_000)])
def test_bench_moving_average_cross_1m_trades_columnar(
    benchmark: Any, tape: SymbolTrades, tmp_path: Path, fast: int, slow: int
) -> None:
    measured(
        benchmark,
        lambda index: backtest_into(tmp_path / f"{index}.sqlite", tape, fast, slow, columnar=True),
        rounds=3,
    )


def test_bench_moving_average_cross_1m_trades_event_path(
    benchmark: Any, tape: SymbolTrades, tmp_path: Path
) -> None:
    measured(
        benchmark,
        lambda index: backtest_into(tmp_path / f"{index}.sqlite", tape, 50, 200, columnar=False),
        rounds=1,
    )
