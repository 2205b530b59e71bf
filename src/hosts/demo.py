"""`tradingcore demo`: the whole pipeline on the embedded SQLite store, no services needed.

A seeded synthetic session (WINZ25 and WDOF26) flows through the same parts the hosts use:
every trade is recorded on the tape in batches, the analytics pipeline computes the five
features and the online model's signals, signals are recorded and auto-executed through the
order manager's pre-trade risk checks, a paper broker fills the orders against the tape, and the
store is projected into Parquet and queried with DuckDB. Time comes from the tape through a
FeedClock, and trades and signals go through the API host's FeedCursor (auto-execution as a
position policy), so the same seed prints the same result on every machine.
"""

from __future__ import annotations

import argparse
import heapq
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.broker.paper import PaperBroker
from adapters.clock import FeedClock
from adapters.eventstore import open_store
from adapters.parquet.duck import ProjectionSql
from adapters.parquet.output import ParquetOutput
from adapters.parquet.queries import named_sql
from adapters.parquet.runner import ProjectionRunner
from tradingcore.analytics.config import PIPELINE_VERSION, AnalyticsConfig
from tradingcore.analytics.features import AGGRESSOR_SIGNS
from tradingcore.analytics.labels import threshold_units
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.pipeline import SymbolPipeline
from tradingcore.application.feed_cursor import FeedCursor
from tradingcore.application.order_manager import OrderManager
from tradingcore.application.signal_desk import AutoExecution, SignalDesk, SignalReceived
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.features import FEATURE_NAMES, FeatureSeries
from tradingcore.domain.fees import B3FeeModel
from tradingcore.domain.order import Order, OrderDenied
from tradingcore.domain.tape import TradeColumns, session_of
from tradingcore.domain.values import PRICE_SCALE, Symbol, price_to_units
from tradingcore.ports.clock import ManualClock
from tradingcore.risk.limits import RiskLimits
from tradingcore.simulation.market import MarketEvent, synthetic_session

BATCH = 1_000
ACCOUNT = "demo"
SYMBOLS = ((Symbol("WINZ25"), Decimal(127_850)), (Symbol("WDOF26"), Decimal("5412.5")))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data/demo"),
        help="where the demo's store and Parquet files live (recreated each run)",
    )
    parser.add_argument("--seed", type=int, default=7, help="synthetic market seed")
    parser.add_argument("--trades", type=int, default=30_000, help="trades per symbol")


@dataclass
class SymbolDesk:
    """One symbol's analytics state and its not-yet-recorded trades and feature rows."""

    symbol: Symbol
    pipeline: SymbolPipeline
    session: date
    trades: TradeColumns = field(default_factory=TradeColumns)
    feature_ids: list[int] = field(default_factory=list)
    feature_times: list[int] = field(default_factory=list)
    feature_rows: list[tuple[float, ...]] = field(default_factory=list)
    series: FeatureSeries | None = None


def run(args: argparse.Namespace) -> int:
    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    started = time.perf_counter()
    clock = FeedClock()  # the tape's time: the same seed, the same orders and fills
    store = args.data_dir / "events.sqlite"
    app = open_store(f"sqlite:///{store}", clock)
    app.fee_model = B3FeeModel()  # the default B3 tables, as the API host charges them
    broker = PaperBroker()
    # One order per signal by construction: the duplicate check (meant for a human re-sending
    # the same order) would refuse a BUY that follows another within its window.
    limits = RiskLimits(max_position=5, duplicate_window=timedelta(0))
    orders = OrderManager(app, broker, limits=limits)
    orders.start()
    signals = SignalDesk(orders, AutoExecution(enabled=True, quantity=1, min_confidence=0.0))
    # The API host's path: trades and signals in feed order through one FeedCursor.
    cursor = FeedCursor(orders, signals, fill=broker.on_trade, clock=clock)
    config = AnalyticsConfig()
    desks: dict[Symbol, SymbolDesk] = {}
    streams = []
    for index, (symbol, start_price) in enumerate(SYMBOLS):
        model = OnlineModel(config)
        threshold = threshold_units(app.instruments(symbol), config.threshold_ticks)
        # Symbol number i uses seed + i, as the synthetic feed does: with one seed for both,
        # WDOF26 walked WINZ25's path tick for tick, and the session had one market, not two.
        events = synthetic_session(
            symbol, seed=args.seed + index, trades=args.trades, start_price=start_price
        )
        first = next(events)
        desks[symbol] = SymbolDesk(
            symbol, SymbolPipeline(config, model, threshold), session_of(first.trade.timestamp_ms)
        )
        streams.append(_chain(first, events))
    tally: Counter[str] = Counter()
    # Both symbols' prints, merged in time order as one feed would deliver them.
    for event in heapq.merge(*streams, key=lambda item: item.trade.timestamp_ms):
        _on_event(app, broker, cursor, desks[event.trade.symbol], event, tally)
    for desk in desks.values():
        _flush(app, desk)
    elapsed = time.perf_counter() - started
    _report(app, tally, elapsed, store)
    app.close()
    _project_and_query(store, args.data_dir / "parquet")
    return 0


def _chain(first: MarketEvent, rest: Any) -> Any:
    yield first
    yield from rest


def _on_event(
    app: TradingApplication,
    broker: PaperBroker,
    cursor: FeedCursor,
    desk: SymbolDesk,
    event: MarketEvent,
    tally: Counter[str],
) -> None:
    trade = event.trade
    desk.trades.append(trade)
    if broker.working_orders:
        # A fill names the trade it executed against: record that trade before the fill.
        _flush(app, desk)
    cursor.on_trade(trade)  # the feed clock, last prices, and paper fills of working orders
    units = price_to_units(trade.price)
    row, decision, _ = desk.pipeline.on_tick(
        trade.trade_id,
        trade.timestamp_ms,
        units,
        trade.volume,
        AGGRESSOR_SIGNS[trade.aggressor.value],
        float(event.book.delta),
    )
    desk.feature_ids.append(trade.trade_id)
    desk.feature_times.append(trade.timestamp_ms)
    desk.feature_rows.append(row)
    tally["ticks"] += 1
    if decision is not None:
        _flush(app, desk)  # the signal's tick and features are on record before the signal
        tally[f"signal {decision.direction.value}"] += 1
        # The strategy is auto-execution's position policy: BUY long 1, SELL short 1, HOLD flat.
        taken = cursor.take_signal(
            SignalReceived(
                symbol=desk.symbol,
                direction=decision.direction,
                confidence=decision.confidence,
                features=dict(zip(FEATURE_NAMES, row, strict=True)),
                model_version=decision.model_version,
                tick_trade_id=trade.trade_id,
                tick_timestamp_ms=trade.timestamp_ms,
                price=units / PRICE_SCALE,
            ),
            actor="demo-strategy",
            account=ACCOUNT,
        )
        if taken.result.execution is not None:
            tally["orders"] += 1
    if len(desk.trades) >= BATCH:
        _flush(app, desk)


def _flush(app: TradingApplication, desk: SymbolDesk) -> None:
    if len(desk.trades):
        app.record_trades(desk.symbol, desk.session, desk.trades)
        desk.trades = TradeColumns()
    if desk.feature_rows:
        if desk.series is None:
            desk.series = FeatureSeries.start(desk.symbol, desk.session, PIPELINE_VERSION)
        desk.series.record(
            tuple(desk.feature_ids),
            tuple(desk.feature_times),
            FEATURE_NAMES,
            tuple(desk.feature_rows),
            app.clock.now(),
        )
        app.store(desk.series)
        desk.feature_ids, desk.feature_times, desk.feature_rows = [], [], []


def _report(app: TradingApplication, tally: Counter[str], elapsed: float, store: Path) -> None:
    denied: Counter[str] = Counter()
    filled = 0
    position = 0
    while page := app.recorder.select_notifications(start=position + 1, limit=1_000):
        for notification in page:
            if notification.topic.endswith(":OrderDenied"):
                event = app.mapper.to_domain_event(notification)
                assert isinstance(event, OrderDenied)
                denied[event.reason_code] += 1
            elif notification.topic.endswith(":OrderFilled"):
                filled += 1
        position = page[-1].id
    signals = ", ".join(
        f"{tally[key]} {key.split()[1]}" for key in sorted(tally) if key.startswith("signal")
    )
    print(
        f"recorded {tally['ticks']:,} trades with their feature rows into {store} "
        f"in {elapsed:.1f} s"
    )
    print(f"signals: {signals or 'none'}")
    print(
        f"orders: {tally['orders']} caused by signals, {filled} fills, "
        f"{sum(denied.values())} denied by risk"
        + (f" ({', '.join(f'{code} {n}' for code, n in denied.most_common())})" if denied else "")
    )
    print(
        f"\n{'symbol':<8} {'net':>5} {'avg price':>12} {'gross R$':>12} {'fees R$':>10} "
        f"{'net R$':>12} {'orders':>7}"
    )
    for symbol, _ in SYMBOLS:
        held = app.position(ACCOUNT, symbol)
        count = sum(1 for _ in _orders_of(app, symbol))
        print(
            f"{symbol.ticker:<8} {held.net_quantity:>5} "
            f"{float(held.average_price):>12.2f} {held.gross_realized_pnl.text:>12} "
            f"{held.fees.text:>10} {held.net_realized_pnl.text:>12} {count:>7}"
        )


def _orders_of(app: TradingApplication, symbol: Symbol) -> Any:
    position = 0
    while page := app.recorder.select_notifications(start=position + 1, limit=1_000):
        for notification in page:
            if notification.topic.endswith(":OrderSubmitted"):
                order = app.load(Order, notification.originator_id)  # type: ignore[arg-type]
                if order.symbol == symbol:
                    yield order
        position = page[-1].id


def _project_and_query(store: Path, root: Path) -> None:
    app = open_store(f"sqlite:///{store}", ManualClock())
    output = ParquetOutput(root)
    with ProjectionRunner(app, output) as runner:
        report = runner.catch_up()
    output.compact_all()
    app.close()
    print(f"\nprojected {report.notifications:,} events into {root}: {report.rows_text()}")
    sql = ProjectionSql(root)
    try:
        _print_table(
            "P&L per symbol (DuckDB over the Parquet files: --query daily_pnl)",
            sql.named("daily_pnl"),
            (
                "symbol",
                "net_quantity",
                "gross_realized_pnl",
                "fees",
                "realized_pnl",
                "unrealized_pnl",
                "total_pnl",
            ),
        )
        _print_table(
            "VWAP per symbol (--query vwap)",
            sql.named("vwap"),
            ("symbol", "date", "vwap", "volume", "trades"),
        )
        trace = sql.query(f"SELECT * FROM ({named_sql('trace')}) ORDER BY fill_time DESC LIMIT 1")
        _print_table(
            "the last fill, traced to its cause (--query trace)",
            trace,
            (
                "fill_time",
                "symbol",
                "side",
                "fill_price",
                "fill_trade_id",
                "direction",
                "confidence",
                "model_version",
                "tick_trade_id",
                "tick_price",
                "aggressor_flow",
                "price_momentum",
            ),
            vertical=True,
        )
    finally:
        sql.close()
    print(
        f"\nmore: tradingcore sql --root {root} --query bars_1m | signal_hit_rate | trace, "
        f"or any SQL over the views trades, features, signals, orders, fills, positions"
    )


def _print_table(
    title: str, table: Any, columns: tuple[str, ...], *, vertical: bool = False
) -> None:
    print(f"\n{title}:")
    present = [name for name in columns if name in table.column_names]
    rows = table.select(present).to_pylist()
    if not rows:
        print("  (no rows)")
        return
    if vertical:
        for name in present:
            print(f"  {name:<16} {_cell(rows[0][name])}")
        return
    cells = [[_cell(row[name]) for name in present] for row in rows]
    widths = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(present)]
    print("  " + "  ".join(name.rjust(width) for name, width in zip(present, widths, strict=True)))
    for row in cells:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)
