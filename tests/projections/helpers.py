"""Stub stores for projection tests: trades over two sessions, features, signals, orders, fills."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from adapters.parquet.output import ParquetOutput
from adapters.parquet.runner import ProjectionRunner
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.features import FEATURE_NAMES, FeatureSeries
from tradingcore.domain.money import Money
from tradingcore.domain.signal import Direction
from tradingcore.domain.tape import Trade, TradeColumns
from tradingcore.domain.values import Price, Quantity, Side, Symbol
from tradingcore.ports.clock import ManualClock
from tradingcore.simulation.market import synthetic_session

SESSIONS = (date(2025, 12, 1), date(2025, 12, 2))
SYMBOLS = ((Symbol("WINZ25"), Decimal(127_850)), (Symbol("WDOF26"), Decimal("5412.5")))
ACCOUNT = "acct-1"
MODEL = "model-7"


@dataclass
class Populated:
    trades: list[Trade]
    signals: int
    orders: int


def populate(
    app: TradingApplication,
    clock: ManualClock,
    *,
    trades: int = 1_500,
    batch: int = 250,
    signal_every: int = 150,
    sessions: tuple[date, ...] = SESSIONS,
    seed: int = 3,
) -> Populated:
    """Record trades, features, signals and orders for each symbol and session, in time order."""
    recorded: list[Trade] = []
    signals = orders = 0
    for session in sessions:
        for symbol, start_price in SYMBOLS:
            tape = [
                event.trade
                for event in synthetic_session(
                    symbol, seed=seed, session=session, trades=trades, start_price=start_price
                )
            ]
            recorded.extend(tape)
            series = FeatureSeries.start(symbol, session, "features-1")
            for first in range(0, len(tape), batch):
                chunk = tape[first : first + batch]
                columns = TradeColumns()
                for trade in chunk:
                    columns.append(trade)
                clock.set_epoch_ms(chunk[-1].timestamp_ms)
                app.record_trades(symbol, session, columns)
                series.record(
                    tuple(trade.trade_id for trade in chunk),
                    tuple(trade.timestamp_ms for trade in chunk),
                    FEATURE_NAMES,
                    tuple(_features(tape, first + index) for index in range(len(chunk))),
                    clock.now(),
                )
                app.store(series)
                for index in range(first, first + len(chunk)):
                    if index % signal_every == signal_every - 1 and index + 1 < len(tape):
                        orders += _signal_and_order(app, tape, index, signals)
                        signals += 1
    return Populated(recorded, signals, orders)


def _features(tape: list[Trade], index: int) -> tuple[float, ...]:
    price = float(tape[index].price)
    back = float(tape[max(0, index - 10)].price)
    warm = index >= 10
    return (
        float(index % 7 - 3),
        math.nan if not warm else abs(price - back),
        float(tape[index].volume),
        float(index % 5),
        math.nan if not warm else (price - back) / back,
    )


def _signal_and_order(app: TradingApplication, tape: list[Trade], index: int, number: int) -> int:
    tick = tape[index]
    direction = (Direction.BUY, Direction.SELL, Direction.HOLD)[number % 3]
    signal = app.record_signal(
        symbol=tick.symbol,
        direction=direction,
        confidence=0.7,
        features={
            name: 0.0 if math.isnan(value) else value
            for name, value in zip(FEATURE_NAMES, _features(tape, index), strict=True)
        },
        model_version=MODEL,
        tick_trade_id=tick.trade_id,
        tick_timestamp_ms=tick.timestamp_ms,
        price=float(tick.price),
    )
    if direction is Direction.HOLD:
        return 0
    side = Side.BUY if direction is Direction.BUY else Side.SELL
    order = app.submit_order(
        SubmitOrder(
            f"o-{tick.symbol.ticker}-{tick.timestamp_ms}-{tick.trade_id}",
            ACCOUNT,
            tick.symbol,
            side,
            Quantity(1 + number % 2),
            Price.market(),
            signal.id,
        )
    )
    if number % 7 == 4:
        app.deny_order(order.id, "MAX_POSITION", "position limit")
        return 1
    app.accept_order(order.id, f"venue-{number}")
    fill = tape[index + 1]
    fees = Money.cents(25 * order.quantity + number % 3)  # odd cents: flips split them
    app.fill_order(order.id, fill.trade_id, fill.price, order.quantity, fees)
    return 1


def project(app: TradingApplication, root: Path, **options: int) -> ProjectionRunner:
    runner = ProjectionRunner(app, ParquetOutput(root), **options)
    runner.catch_up()
    return runner
